from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "kaoping.organizations"

    def ready(self) -> None:
        from . import io_jobs  # noqa: F401  (registers the job kinds)
