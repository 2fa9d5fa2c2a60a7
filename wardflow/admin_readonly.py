from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Clinical and audit records change only through the services (audit, transactions): the admin only reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
