from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Project-wide pieces that belong to no domain app: system checks."""

    name = "config"
    label = "core"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the checks
