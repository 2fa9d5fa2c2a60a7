"""The acts' multi-row inserts are converted for PostgreSQL once per process, not at every act."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from psycopg import _queries

from alerts import services as alerts
from alerts.models import DueCheck
from screening.kinds import CheckKind
from wardflow.compiled import fields_write

pytestmark = pytest.mark.django_db


def _test_dose_sized_schedule(patient, record: DueCheck) -> list[DueCheck]:
    """The largest statement an act sends, as a test dose sends it: eight observation slots (11 columns a row), a
    record's state saved and a pending check closed along with them (94 parameters)."""
    now = timezone.now()
    record.state = DueCheck.State.DONE
    along = [fields_write(record, ["state"]), alerts.cancelling(subject=patient, kinds=[CheckKind.NEXT_DOSE_DUE])]
    slots = [
        alerts.due_check(CheckKind.OBSERVATION_OVERDUE, due_at=now + timedelta(minutes=30 * slot), patient=patient,
                         subject=record, payload={"slot_due_at": (now + timedelta(minutes=30 * slot)).isoformat()})
        for slot in range(8)
    ]  # fmt: skip
    return alerts.schedule(slots, along=along)


def test_the_test_doses_insert_with_its_updates_along_is_converted_once(make_patient, ward):
    patient = make_patient(ward, "A1")
    (record,) = alerts.schedule([alerts.due_check("a.kind", due_at=timezone.now())])
    with transaction.atomic():
        _test_dose_sized_schedule(patient, record)
        before = _queries._query2pg.cache_info()
        _test_dose_sized_schedule(patient, record)
        after = _queries._query2pg.cache_info()
    assert after.hits == before.hits + 1
    assert after.misses == before.misses
    assert DueCheck.objects.filter(patient=patient, state=DueCheck.State.PENDING).count() == 16
