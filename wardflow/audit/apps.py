from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "wardflow.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from . import checks

        post_migrate.connect(checks.record_policy_after_migrate, sender=self, dispatch_uid="audit.record_policy")
