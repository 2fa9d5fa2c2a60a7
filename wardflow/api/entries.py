"""What every charted record's representation shares (wardflow.entries): whether it was marked entered in error,
and by whom, when and why (D4)."""

from rest_framework import serializers

from wardflow.api.serializers import Serializer

ENTERED_IN_ERROR_FIELDS = ["entered_in_error", "entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"]


class EnteredInErrorSerializer(Serializer):
    """D4: a record entered in error stays in every list, flagged; list the fields in a model serializer's Meta with
    ENTERED_IN_ERROR_FIELDS (its querysets select `entered_in_error_by`)."""

    entered_in_error = serializers.BooleanField(read_only=True)
    entered_in_error_at = serializers.DateTimeField(read_only=True, allow_null=True)
    entered_in_error_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    entered_in_error_reason = serializers.CharField(read_only=True)


class EnteredInErrorReasonSerializer(Serializer):
    """D4: the reason a record is marked entered in error (a blank one is refused by the act, citing the rule)."""

    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)
