from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "wardflow.patients"
    label = "patients"
