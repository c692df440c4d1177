from django.apps import AppConfig


class RectificationConfig(AppConfig):
    name = "kaoping.rectification"
    verbose_name = "整改"
