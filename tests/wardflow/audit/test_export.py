"""The CSV export streams plain rows, yet each cell is what the API's serializer gives for that event."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wardflow.audit.api import CSV_FIELDS, FORMULA_PREFIXES
from wardflow.audit.services import record_event
from wardflow.staff.models import Role

pytestmark = pytest.mark.django_db


def _serializer_cell(value) -> str:
    """A serializer value as the export always wrote it: JSON with sorted keys, formulas behind a quote."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return str(value)


def test_each_exported_cell_is_the_serializers_value(api_as, administrator, nurse, make_patient, ward):
    patient = make_patient(ward, "A1")
    with transaction.atomic():
        record_event(
            actor=nurse,
            action="dose.given",
            patient=patient,
            rules=["T4", "S1"],
            at=datetime(2026, 3, 29, 1, 30, 0, 250, tzinfo=UTC),
            before={"z": "é", "a": [1.5, None]},
            after="=1+1",
            reason='-2 "quoted", « »\nsecond line',
        )
        record_event(actor=None, action="@policy", at=datetime(2026, 3, 29, 2, 0, tzinfo=UTC), subject=patient)
    client = api_as(administrator)
    listed = client.get("/api/v1/audit-events/").json()["results"]
    response = client.get("/api/v1/audit-events/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == CSV_FIELDS
    assert rows[1:] == [[_serializer_cell(event[field]) for field in CSV_FIELDS] for event in listed]
    assert rows[1][CSV_FIELDS.index("at")] == "2026-03-29T02:00:00Z"  # no microseconds when there are none
    assert rows[2][CSV_FIELDS.index("at")] == "2026-03-29T01:30:00.000250Z"


# What an event can hold: text without NUL (PostgreSQL refuses it), JSON as jsonb keeps it.
texts = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    before=st.none() | st.dictionaries(texts, json_values, max_size=4),
    after=json_values,
    reason=texts,
    action=texts.filter(bool),
)
def test_any_event_exports_as_the_serializer_gives_it(api_as, administrator, at, before, after, reason, action):
    with transaction.atomic():
        event = record_event(actor=administrator, action=action, at=at, before=before, after=after, reason=reason)
    client = api_as(administrator)
    newest = client.get("/api/v1/audit-events/").json()["results"][0]
    response = client.get("/api/v1/audit-events/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    assert newest["id"] == event.pk
    assert rows[1] == [_serializer_cell(newest[field]) for field in CSV_FIELDS]


def test_a_neurologist_exports_only_the_events_of_their_wards(api_as, make_staff, make_patient, ward, other_ward):
    neurologist = make_staff(Role.NEUROLOGIST, ward)
    here, there = make_patient(ward, "A1"), make_patient(other_ward, "B1")
    with transaction.atomic():
        mine = record_event(actor=neurologist, action="x", patient=here)
        record_event(actor=None, action="x", patient=there)
        record_event(actor=None, action="x")
    response = api_as(neurologist).get("/api/v1/audit-events/?format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["id"] for row in rows] == [str(mine.pk)]


def test_a_neurologist_of_no_ward_exports_the_header_alone(api_as, make_staff, nurse):
    with transaction.atomic():
        record_event(actor=nurse, action="x")
    response = api_as(make_staff(Role.NEUROLOGIST)).get("/api/v1/audit-events/?format=csv")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode().splitlines() == [",".join(CSV_FIELDS)]
