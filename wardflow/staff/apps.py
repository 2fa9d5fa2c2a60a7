from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "wardflow.staff"
    label = "staff"
    verbose_name = "Staff and wards"
