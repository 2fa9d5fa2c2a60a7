"""A stored audit time is always shown: the table is append-only, so an event at an absurd time (year 1) must never
make the trail unreadable (Dates, times and input, 2026.2)."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.db import transaction

from wardflow.audit.services import record_event

YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def event_in_year_one(nurse):
    with transaction.atomic():
        return record_event(actor=nurse, action="test.event", at=YEAR_ONE)


def test_the_audit_list_shows_an_event_of_year_one(api_as, administrator, event_in_year_one):
    response = api_as(administrator).get("/api/v1/audit-events/")
    assert response.status_code == 200
    assert [(e["id"], e["at"]) for e in response.json()["results"]] == [(event_in_year_one.pk, "0001-01-01T00:00:00Z")]


def test_the_audit_csv_exports_an_event_of_year_one(api_as, administrator, event_in_year_one):
    response = api_as(administrator).get("/api/v1/audit-events/?format=csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["id"], r["at"]) for r in rows] == [(str(event_in_year_one.pk), "0001-01-01T00:00:00Z")]
