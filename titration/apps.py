from django.apps import AppConfig


class TitrationConfig(AppConfig):
    name = "titration"
    verbose_name = "Pumps, titration and refills"

    def ready(self):
        from alerts.services import register_check_handlers

        from . import checks

        register_check_handlers(checks.CHECK_HANDLERS)
        for signal, receiver, dispatch_uid in checks.RECEIVERS:
            signal.connect(receiver, dispatch_uid=dispatch_uid)
