from django.contrib import admin
from knox.models import AuthToken

from wardflow.admin_readonly import ReadOnlyAdmin

from .models import User, Ward

# API tokens are never shown or made in the admin: knox's page would list digests and show a new token in clear.
admin.site.unregister(AuthToken)


@admin.register(Ward)
class WardAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]


@admin.register(User)
class StaffAdmin(ReadOnlyAdmin):
    """Accounts are added with `manage.py add_staff` (password policy, role, wards, audit)."""

    list_display = ["username", "first_name", "last_name", "is_active"]
    filter_horizontal = ["wards", "groups"]
