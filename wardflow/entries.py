"""What every charted record shares: it can be marked entered in error (D4), never deleted."""

from django.conf import settings
from django.db import models


class EnteredInError(models.Model):
    """D4: a record marked entered in error stays visible (struck through, with who and why) and is ignored by every
    computation from then on."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None
