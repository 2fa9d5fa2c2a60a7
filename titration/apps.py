from django.apps import AppConfig


class TitrationConfig(AppConfig):
    name = "titration"
    verbose_name = "Pumps, titration and refills"

    def ready(self):
        from alerts.services import register_check_handlers

        from .checks import CHECK_HANDLERS

        register_check_handlers(CHECK_HANDLERS)
