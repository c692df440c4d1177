from django.apps import AppConfig


class ResultsConfig(AppConfig):
    name = "kaoping.results"
    verbose_name = "考核结果"

    def ready(self) -> None:
        from . import (
            jobs,  # noqa: F401  (registers the compute job)
            use_jobs,  # noqa: F401  (registers the result-use export job)
        )
