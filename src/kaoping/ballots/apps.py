from django.apps import AppConfig


class BallotsConfig(AppConfig):
    name = "kaoping.ballots"
    verbose_name = "民主测评"
