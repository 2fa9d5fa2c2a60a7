from django.apps import AppConfig
from django.apps import apps as installed_apps
from django.db.models.signals import post_migrate

from .roles import grant_roles


def _ensure_roles(sender, apps=None, **kwargs):
    grant_roles(apps or installed_apps)  # a flush sends no `apps`


class StaffConfig(AppConfig):
    name = "wardflow.staff"
    label = "staff"
    verbose_name = "Staff and wards"

    def ready(self):
        from . import checks

        # Also after a database flush (which empties the groups the migration made).
        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="staff.ensure_roles")
        for signal, receiver, sender, dispatch_uid in checks.RECEIVERS:
            signal.connect(receiver, sender=sender, dispatch_uid=dispatch_uid)
