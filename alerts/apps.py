from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Due checks and alerts"

    def ready(self):
        from . import services  # noqa: F401 - registers the escalation check handler
