from django.contrib import admin

from wardflow.admin_readonly import ReadOnlyAdmin

from .models import Patient


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["mrn", "family_name", "given_name", "ward", "spasticity_origin"]
    list_filter = ["ward", "spasticity_origin"]
    search_fields = ["mrn", "family_name"]
