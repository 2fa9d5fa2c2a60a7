from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "wardflow.audit"
    label = "audit"
    verbose_name = "Audit trail"
