"""Audit CSV export: free text a spreadsheet would run as a formula is exported as text (OWASP CSV injection)."""

import csv
import io

import pytest
from django.db import transaction

from wardflow.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("reason", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_formula_in_free_text_is_exported_behind_a_quote(api_as, administrator, nurse, reason):
    with transaction.atomic():
        record_event(actor=nurse, action="test.event", reason=reason)
    response = api_as(administrator).get("/api/v1/audit-events/?format=csv")
    (row,) = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline=""))
    assert row["reason"] == "'" + reason
    assert row["actor"] == "nina" and row["action"] == "test.event"  # ordinary cells untouched
