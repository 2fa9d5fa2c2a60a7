"""Input fields shared by every API module."""

from datetime import datetime, timedelta

from rest_framework import serializers

# Real UTC offsets lie within +-14:00; PostgreSQL refuses more than +-15:59, so a larger one is refused here as input.
MAX_UTC_OFFSET = timedelta(hours=14)


def offset_problem(value: datetime) -> str | None:
    """Why a time's UTC offset is not usable, or None (dates, times and input)."""
    offset = value.utcoffset() if value.tzinfo is not None else None
    if offset is None:
        return (
            "Give the time with its UTC offset (e.g. 2026-11-27T14:30:00+00:00 or ...Z); a time without one is "
            "ambiguous."
        )
    if abs(offset) > MAX_UTC_OFFSET:
        return "This UTC offset does not exist (offsets lie between -14:00 and +14:00)."
    return None


class AwareDateTimeField(serializers.DateTimeField):
    """Dates, times and input: a time without a UTC offset is refused, never silently taken as UTC."""

    def enforce_timezone(self, value):
        if problem := offset_problem(value):
            raise serializers.ValidationError(problem, code="offset")
        return super().enforce_timezone(value)


# The largest value a PostgreSQL integer column holds: a larger one answers 400 instead of failing the insert.
MAX_INTEGER = 2**31 - 1


class SlugRelatedField(serializers.SlugRelatedField):
    """A related record named by its slug (e.g. a ward's code). A NUL character, which PostgreSQL text cannot hold,
    is refused as invalid input before it reaches the query."""

    default_error_messages = {"null_characters": "Null characters are not allowed."}

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("null_characters")
        return super().to_internal_value(data)


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A related record named by id among those the caller may see: an id of another ward answers exactly like one
    that does not exist, so an error never reveals that a record is there."""

    def __init__(self, model, *, visible, **kwargs):
        self.visible = visible
        super().__init__(queryset=model.objects.all(), **kwargs)  # the model names the id's type in the schema

    def get_queryset(self):
        request = self.context.get("request")
        return self.visible(request.user) if request is not None else self.queryset.none()
