"""Rows written by a statement built once (`wardflow/compiled.py`): the due checks every act schedules, a refill, the
pump's new dates. Each must write exactly what the ORM writes, and nothing else."""

import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import OuterRef
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils.translation import gettext_lazy

from alerts.models import Alert, DueCheck
from alerts.services import cancelling, due_check, schedule
from tests.support import columns_of
from wardflow.audit.models import AuditEvent
from wardflow.audit.services import record_event
from wardflow.compiled import CompiledInsert, CompiledRead, CompiledRows, _preparer, fields_write, save_fields
from wardflow.patients.models import Patient

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _checks(patient) -> list[DueCheck]:
    """Of every column's kind: text, a key, a time, a default, JSON (nested), none at all."""
    return [
        DueCheck(kind="titration.refill_reminder", patient=patient, subject_type="titration.pump", subject_id="7",
                 due_at=NOW + timedelta(days=days), payload={"days_before": days, "levels": [14, 7]})
        for days in (7, 14)
    ] + [DueCheck(kind="titration.refill_overdue", due_at=NOW)]  # fmt: skip


def _as_stored(checks: list[DueCheck]) -> list[dict]:
    stored = DueCheck.objects.in_bulk([check.pk for check in checks])
    return [{**columns_of(stored[check.pk]), "id": None} for check in checks]


def test_rows_inserted_at_once_are_stored_as_the_orm_stores_them(make_patient, ward):
    patient = make_patient(ward, "MRN-1")
    with time_machine.travel(NOW, tick=False):
        ours = CompiledInsert(DueCheck).save(_checks(patient))
        theirs = DueCheck.objects.bulk_create(_checks(patient))
    assert _as_stored(ours) == _as_stored(theirs)
    assert _as_stored(ours)[0]["created_at"] == NOW  # auto_now_add, as the ORM sets it
    assert [columns_of(check) for check in ours] == [columns_of(DueCheck.objects.get(pk=c.pk)) for c in ours]


def test_each_row_gets_its_own_key_in_the_order_given(make_patient, ward):
    checks = CompiledInsert(DueCheck).save(_checks(make_patient(ward, "MRN-1")))
    assert [DueCheck.objects.get(pk=check.pk).due_at for check in checks] == [check.due_at for check in checks]
    assert all(not check._state.adding for check in checks)


def test_due_checks_are_scheduled_in_one_statement_of_values_not_arrays(make_patient, ward):
    """The ORM's bulk insert sends each column as an array to unnest: three times the cost of the values."""
    patient = make_patient(ward, "MRN-1")
    with CaptureQueriesContext(connection) as sent:
        schedule(_checks(patient))
    assert len(sent) == 1
    assert "VALUES" in sent[0]["sql"] and "UNNEST" not in sent[0]["sql"].upper()
    assert DueCheck.objects.filter(patient=patient).count() == 2


def test_checks_cancelled_and_scheduled_along_with_a_saved_row_take_one_statement(make_patient, ward):
    """A reschedule (R3): the subject's pending checks are closed, its record saved and the new checks inserted in
    one statement; the cancel finds the checks pending as the statement starts, never those it inserts."""
    patient = make_patient(ward, "MRN-1")

    def reminders():
        return [due_check("a.reminder", due_at=NOW + timedelta(days=days), patient=patient, subject=patient)
                for days in (7, 14)]  # fmt: skip

    stale = schedule(reminders())
    (record,) = schedule([DueCheck(kind="a.kind", due_at=NOW)])
    record.state, record.closed_at = DueCheck.State.DONE, NOW
    with CaptureQueriesContext(connection) as sent:
        fresh = schedule(reminders(), along=[cancelling(subject=patient, kinds=["a.reminder"]),
                                             fields_write(record, ["state", "closed_at"])])  # fmt: skip
    assert len(sent) == 1
    states = dict(DueCheck.objects.values_list("pk", "state"))
    assert [states[check.pk] for check in stale] == [DueCheck.State.CANCELLED] * 2
    assert [states[check.pk] for check in fresh] == [DueCheck.State.PENDING] * 2
    assert states[record.pk] == DueCheck.State.DONE


def test_a_row_gone_that_is_saved_along_refuses_the_insert_and_its_transaction_keeps_none(make_patient, ward):
    (gone,) = schedule([DueCheck(kind="a.kind", due_at=NOW)])
    DueCheck.objects.filter(pk=gone.pk).delete()
    gone.state = DueCheck.State.DONE
    patient = make_patient(ward, "MRN-1")
    with pytest.raises(DatabaseError, match="was not saved"), transaction.atomic():
        schedule(_checks(patient), along=[fields_write(gone, ["state"])])
    assert not DueCheck.objects.filter(patient=patient).exists()


def test_updates_along_with_nothing_to_insert_are_sent_alone():
    (record,) = schedule([DueCheck(kind="a.kind", due_at=NOW)])
    record.state = DueCheck.State.DONE
    with CaptureQueriesContext(connection) as sent:
        assert schedule([], along=[fields_write(record, ["state"])]) == []
    assert len(sent) == 1
    assert DueCheck.objects.get(pk=record.pk).state == DueCheck.State.DONE


def _pending_kinds(patient):
    pending = DueCheck.objects.filter(patient=OuterRef("pk"), state=DueCheck.State.PENDING).order_by("pk")
    return Patient.objects.filter(pk=patient).values_list(ArraySubquery(pending.values("kind")))


# As an observation reads its patient's due slots along with its insert: one row, of aggregates.
_PENDING_KINDS = CompiledRead(_pending_kinds, placeholders=(-1,))


def test_a_row_saved_with_a_read_is_stored_as_save_stores_it_in_one_statement(make_patient, ward):
    patient = make_patient(ward, "MRN-1")
    CompiledInsert(DueCheck).save([_checks(patient)[0]])
    ours, theirs = _checks(patient)[1], _checks(patient)[1]
    with time_machine.travel(NOW, tick=False):
        with CaptureQueriesContext(connection) as sent:
            found = CompiledInsert(DueCheck).save_reading(ours, _PENDING_KINDS, patient.pk)
        CompiledInsert(DueCheck).save([theirs])
    assert len(sent) == 1
    # The read sees the patient as the statement starts: not the row it inserts.
    assert found == (["titration.refill_reminder"],)
    assert _as_stored([ours]) == _as_stored([theirs])
    assert not ours._state.adding


def test_a_read_giving_no_row_refuses_the_save_and_its_transaction_keeps_no_row(make_patient, ward):
    patient = make_patient(ward, "MRN-1")
    with pytest.raises(DatabaseError, match="its read gave 0 rows"), transaction.atomic():
        CompiledInsert(DueCheck).save_reading(_checks(patient)[0], _PENDING_KINDS, patient.pk + 1000)
    assert not DueCheck.objects.filter(patient=patient).exists()


# As a refill is inserted with its pump's refills read for the answer: rows in the model's default order.
_ALERTS_OF = CompiledRows(Alert, lambda patient: Alert.objects.filter(patient=patient))


def _alert(patient, hours: int) -> Alert:
    return Alert(kind="a.kind", severity="warning", patient=patient, ward=patient.ward, rule="A1", message="m",
                 raised_at=NOW + timedelta(hours=hours), target_role="nurse")  # fmt: skip


def test_a_row_saved_onto_its_parent_joins_its_history_in_the_default_order_in_one_statement(make_patient, ward):
    patient = make_patient(ward, "MRN-1")
    earlier = CompiledInsert(Alert).save([_alert(patient, 1), _alert(patient, 3)])
    new = _alert(patient, 2)
    with CaptureQueriesContext(connection) as sent:
        CompiledInsert(Alert).save_onto(new, patient, "alerts", _ALERTS_OF)
        kept = list(patient.alerts.all())
        assert [alert.patient for alert in kept] == [patient] * 3  # each answers its parent, with no query
    assert len(sent) == 1
    assert [alert.pk for alert in kept] == [earlier[1].pk, new.pk, earlier[0].pk]
    assert kept == list(Alert.objects.filter(patient=patient))  # as the ORM orders them
    assert columns_of(Alert.objects.get(pk=new.pk)) == columns_of(new)


def test_the_first_row_saved_onto_its_parent_is_its_whole_history(make_patient, ward):
    patient = make_patient(ward, "MRN-1")
    first = CompiledInsert(Alert).save_onto(_alert(patient, 1), patient, "alerts", _ALERTS_OF)
    assert list(patient.alerts.all()) == [first] == list(Alert.objects.filter(patient=patient))


def test_a_history_read_in_another_order_is_refused_before_anything_is_sent(make_patient, ward):
    """The row inserted is placed by the model's default order: a read ordered otherwise would answer a mixed list."""
    patient = make_patient(ward, "MRN-1")
    by_kind = CompiledRows(Alert, lambda patient: Alert.objects.filter(patient=patient).order_by("kind"))
    with CaptureQueriesContext(connection) as sent, pytest.raises(ImproperlyConfigured, match="order"):
        CompiledInsert(Alert).save_onto(_alert(patient, 1), patient, "alerts", by_kind)
    assert len(sent) == 0
    assert not Alert.objects.exists()


def test_nothing_to_insert_sends_nothing():
    with CaptureQueriesContext(connection) as sent:
        assert CompiledInsert(DueCheck).save([]) == []
    assert len(sent) == 0


@isolate_apps("alerts")  # never registered: the migrations check after this test would find it
def test_a_model_with_a_field_the_database_fills_is_refused():
    """Its rows would miss what the database puts in them: they are inserted through the ORM."""

    class Stamped(models.Model):  # noqa: DJ008 (never shown)
        stamped_at = models.DateTimeField(db_default=Now())

        class Meta:
            app_label = "alerts"
            managed = False

    with pytest.raises(ImproperlyConfigured, match="Stamped"):
        CompiledInsert(Stamped)


def test_saving_named_fields_writes_those_and_no_other(make_patient, ward):
    (check,) = DueCheck.objects.bulk_create([DueCheck(kind="a.kind", due_at=NOW)])
    check.state, check.closed_at, check.kind = DueCheck.State.CANCELLED, NOW, "changed.but.not.saved"
    save_fields(check, ["state", "closed_at"])
    stored = DueCheck.objects.get(pk=check.pk)
    assert (stored.state, stored.closed_at, stored.kind) == (DueCheck.State.CANCELLED, NOW, "a.kind")


def test_saving_a_row_that_is_gone_is_refused_as_the_orm_refuses_it():
    (check,) = DueCheck.objects.bulk_create([DueCheck(kind="a.kind", due_at=NOW)])
    DueCheck.objects.filter(pk=check.pk).delete()
    check.state = DueCheck.State.DONE
    with pytest.raises(DatabaseError):
        save_fields(check, ["state"])


def test_an_audit_event_without_a_before_stores_none_as_the_orm_does(nurse):
    """D2: the event's fields are its hashed record; an absent `before` is SQL NULL, not JSON null, either way."""
    with transaction.atomic():
        event = record_event(actor=nurse, action="observation.charted", after={"heart_rate": 72}, rules=["S5"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT before IS NULL, after IS NULL FROM audit_auditevent WHERE id = %s", [event.pk])
        assert cursor.fetchone() == (True, False)
    assert AuditEvent.objects.filter(pk=event.pk, before__isnull=True).exists()


_VALUES = ("text", "", None, 7, NOW, NOW.replace(tzinfo=None), gettext_lazy("lazy text"), Decimal("2.5"))


@pytest.mark.parametrize("name", ["kind", "last_error", "due_at", "closed_at", "patient", "attempts"])
def test_each_value_is_prepared_as_the_orm_prepares_it(name):
    """Texts, times and keys are sent as they are only when the ORM would send them so: any other value (a naive
    time, a lazy text, a number for a text) goes through the field."""
    field = DueCheck._meta.get_field(name)
    prepare = _preparer(field)
    for value in _VALUES:
        with warnings.catch_warnings(record=True):  # a naive time warns the same either way
            warnings.simplefilter("always")
            try:
                theirs = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError) as refusal:
                with pytest.raises(type(refusal)):
                    prepare(value)
                continue
            ours = prepare(value)
        assert (ours, type(ours)) == (theirs, type(theirs)), (name, value)


def test_a_text_an_aware_time_and_a_key_are_sent_without_their_fields_preparation(monkeypatch):
    """Django only checks these: the field's own preparation is kept for every other value."""
    for name, value in (("kind", "titration.refill_reminder"), ("due_at", NOW), ("patient", 7)):
        field = DueCheck._meta.get_field(name)
        monkeypatch.setattr(field, "get_db_prep_save", lambda value, connection: pytest.fail("prepared by the field"))
        assert _preparer(field)(value) is value
    payload = DueCheck._meta.get_field("payload")
    prepared = []
    monkeypatch.setattr(payload, "get_db_prep_save", lambda value, connection: prepared.append(value) or value)
    _preparer(payload)({"days_before": 7})
    assert prepared == [{"days_before": 7}]
