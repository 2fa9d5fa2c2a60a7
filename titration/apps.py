from django.apps import AppConfig


class TitrationConfig(AppConfig):
    name = "titration"
    verbose_name = "Pumps, titration and refills"

    def ready(self):
        from . import services  # noqa: F401 - registers the refill and titration due-check handlers
