from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Due checks and alerts"

    def ready(self):
        from . import checks, services

        services.register_check_handlers(checks.CHECK_HANDLERS)
