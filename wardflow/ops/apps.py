from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "wardflow.ops"
    label = "ops"
    verbose_name = "Operations"
