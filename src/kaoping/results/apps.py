from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "kaoping.results"
    verbose_name = "考核结果"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the compute job)
