from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _record_policy(sender, **kwargs):
    from wardflow.policy import record_policy_if_changed

    record_policy_if_changed()


class OpsConfig(AppConfig):
    name = "wardflow.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        # Every deployment migrates: a policy that changed since the last one is audited then (protocol.md).
        post_migrate.connect(_record_policy, sender=self, dispatch_uid="ops.record_policy")
