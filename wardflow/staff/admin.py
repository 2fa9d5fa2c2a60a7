from django.contrib import admin

from wardflow.admin_readonly import ReadOnlyAdmin

from .models import User, Ward


@admin.register(Ward)
class WardAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]


@admin.register(User)
class StaffAdmin(ReadOnlyAdmin):
    """Accounts are added with `manage.py add_staff` (password policy, role, wards, audit)."""

    list_display = ["username", "first_name", "last_name", "is_active"]
    filter_horizontal = ["wards", "groups"]
