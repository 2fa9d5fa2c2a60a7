from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening trials"

    def ready(self):
        from . import services  # noqa: F401 - registers due-check handlers and the P1 receiver
