from django.contrib import admin
from django.contrib.auth.models import Group
from knox.models import AuthToken

from wardflow.admin_readonly import ReadOnlyAdmin

from .models import User, Ward

# API tokens are never shown or made in the admin: knox's page would list digests and show a new token in clear.
admin.site.unregister(AuthToken)
# The role groups are the roles (nurse, neurologist, administrator): renamed or re-permissioned in the admin they
# would change who may do what outside the audit trail. They are created by migration; the admin only shows them.
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ReadOnlyAdmin):
    list_display = ["name"]


@admin.register(Ward)
class WardAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]


@admin.register(User)
class StaffAdmin(ReadOnlyAdmin):
    """Accounts are added with `manage.py add_staff` (password policy, role, wards, audit)."""

    list_display = ["username", "first_name", "last_name", "is_active"]
    filter_horizontal = ["wards", "groups"]
