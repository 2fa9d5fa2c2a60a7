"""The acts' multi-row inserts are converted for PostgreSQL once per process, not at every act."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from psycopg import _queries

from alerts import services as alerts
from alerts.models import DueCheck
from titration.kinds import CheckKind

pytestmark = pytest.mark.django_db


def _refill_sized_schedule(patient):
    """Six due checks in one insert, as a refill schedules them (reminders, overdue, observation): 66 parameters."""
    now = timezone.now()
    return [
        alerts.due_check(CheckKind.REFILL_REMINDER, due_at=now + timedelta(days=days), patient=patient,
                         payload={"days_before": days})
        for days in range(6)
    ]  # fmt: skip


def test_a_due_check_insert_of_six_rows_is_converted_once(make_patient, ward):
    patient = make_patient(ward, "A1")
    with transaction.atomic():
        alerts.schedule(_refill_sized_schedule(patient))
        before = _queries._query2pg.cache_info()
        alerts.schedule(_refill_sized_schedule(patient))
        after = _queries._query2pg.cache_info()
    assert after.hits == before.hits + 1
    assert after.misses == before.misses
    assert DueCheck.objects.filter(patient=patient).count() == 12
