from django.contrib import admin

from wardflow.admin_readonly import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "at", "actor_username", "role", "action", "patient_id"]
    list_filter = ["action", "role"]
