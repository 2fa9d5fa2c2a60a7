"""The audit page's filters: the audit API's own, with the period typed in the ward's local time (Dates, times and
input) and labels an administrator reads."""

from datetime import datetime

import django_filters

from wardflow.audit.api import AuditEventFilter

from .forms import WardDateTimeField


class WardTimeFilter(django_filters.DateTimeFilter):
    field_class = WardDateTimeField


class AuditPageFilter(AuditEventFilter):
    patient = django_filters.NumberFilter(field_name="patient_id", label="Patient id")
    actor = django_filters.CharFilter(field_name="actor_username", label="User name")
    action = django_filters.CharFilter(field_name="action", label="Action")
    since = WardTimeFilter(field_name="at", lookup_expr="gte", label="From (ward time)")
    until = WardTimeFilter(field_name="at", lookup_expr="lt", label="Before (ward time)")

    def api_query(self) -> dict[str, str]:
        """The valid filters as the audit API takes them: times as ISO 8601 with their UTC offset."""
        return {
            name: value.isoformat() if isinstance(value, datetime) else str(value)
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "")
        }
