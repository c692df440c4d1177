from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "kaoping.indicators"
    verbose_name = "指标体系"
