"""Input fields shared by every API module."""

from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """Dates, times and input: a time without a UTC offset is refused, never silently taken as UTC."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset (e.g. 2026-11-27T14:30:00+00:00 or ...Z); a time without one is "
        "ambiguous."
    }

    def enforce_timezone(self, value):
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        return super().enforce_timezone(value)
