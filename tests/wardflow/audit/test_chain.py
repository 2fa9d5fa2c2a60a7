"""D1/D2: one append-only, hash-chained audit trail that the database itself protects."""

import csv
import io
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from wardflow.audit.models import GENESIS_HASH, AuditEvent
from wardflow.audit.selectors import verify_chain
from wardflow.audit.services import record_event
from wardflow.staff.models import Role


def append(n: int, actor=None, **kwargs):
    with transaction.atomic():
        return [record_event(actor=actor, action="test.event", after={"n": i}, **kwargs) for i in range(n)]


@pytest.fixture
def patient_here(make_patient, ward):
    return make_patient(ward, "A1")


@pytest.fixture
def patient_there(make_patient, other_ward):
    return make_patient(other_ward, "B1")


@pytest.mark.django_db
def test_events_link_each_to_the_previous_hash(nurse):
    first, second, third = append(3, actor=nurse)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert verify_chain().ok


@pytest.mark.django_db
def test_event_records_actor_role_protocol_version_and_entry_time(nurse):
    (event,) = append(1, actor=nurse, rules=["S3", "P1", "S3"], reason="late entry")
    event.refresh_from_db()
    assert (event.actor_username, event.role) == ("nina", "nurse")
    assert event.rules == ["P1", "S3"]
    assert event.protocol_version
    assert event.entered_at >= event.at
    assert event.compute_hash() == event.hash


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_is_refused(allow_audit_flush, nurse):
    with pytest.raises(RuntimeError, match="D1"):
        record_event(actor=nurse, action="test.event")
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'edited'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent CASCADE",
    ],
)
def test_database_refuses_changing_or_removing_events(nurse, statement):
    append(2, actor=nurse)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's open transaction holds deferred FK checks
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert AuditEvent.objects.filter(reason="").count() == 2


@pytest.mark.django_db
def test_orm_update_and_delete_are_refused_too(nurse):
    (event,) = append(1, actor=nurse)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_verification_names_the_first_tampered_event(nurse, tamper):
    events = append(5, actor=nurse)
    tamper("UPDATE audit_auditevent SET after = '{\"n\": 99}' WHERE id = %s", [events[2].pk])
    report = verify_chain()
    assert not report.ok
    assert report.first_bad_event == events[2].pk


@pytest.mark.django_db
def test_verification_detects_a_deleted_event(nurse, tamper):
    events = append(4, actor=nurse)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    assert verify_chain().first_bad_event == events[2].pk


@pytest.mark.django_db
def test_verification_detects_a_rehashed_event(nurse, tamper):
    """Recomputing the tampered event's own hash does not help: the next event's link breaks."""
    events = append(3, actor=nurse)
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.reason = "forged"
    forged.seal()
    tamper("UPDATE audit_auditevent SET reason = 'forged', record = %s, hash = %s WHERE id = %s",
           [forged.record, forged.hash, forged.pk])  # fmt: skip
    assert verify_chain().first_bad_event == events[1].pk


@pytest.mark.django_db
def test_verify_audit_command_reports_intact_and_broken_chains(nurse, tamper):
    events = append(3, actor=nurse)
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "3 events verified" in out.getvalue()
    tamper("UPDATE audit_auditevent SET action = 'x' WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=f"broken at event {events[1].pk}"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_endpoint_for_administrators_only(api_as, administrator, nurse, neurologist, tamper):
    events = append(2, actor=nurse)
    assert api_as(administrator).get("/api/v1/audit-events/verify/").json() == {
        "ok": True,
        "events": 2,
        "checkpoint": None,
    }
    assert api_as(neurologist).get("/api/v1/audit-events/verify/").status_code == 403
    assert api_as(nurse).get("/api/v1/audit-events/verify/").status_code == 403
    tamper("UPDATE audit_auditevent SET actor_username = 'someone' WHERE id = %s", [events[0].pk])
    assert api_as(administrator).get("/api/v1/audit-events/verify/").json() == {
        "ok": False,
        "first_bad_event": events[0].pk,
        "problem": f"Event {events[0].pk} does not hash or link to the one before it (D2).",
        "checkpoint": None,
    }


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_unforked_chain(allow_audit_flush, nurse):
    writers, per_writer = 6, 15
    barrier = threading.Barrier(writers)
    errors = []

    def write():
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    record_event(actor=None, action="test.concurrent", after={"i": i})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.ok and report.events == writers * per_writer
    assert AuditEvent.objects.values("prev_hash").distinct().count() == writers * per_writer


@pytest.mark.django_db
def test_audit_list_filters_by_patient_actor_action_and_time(api_as, administrator, nurse, neurologist, patient_here):
    with transaction.atomic():
        record_event(actor=nurse, action="dose.given", patient=patient_here, at=_at("2026-11-01T10:00:00Z"))
        record_event(
            actor=neurologist, action="response.assessed", patient=patient_here, at=_at("2026-11-02T10:00:00Z")
        )
        record_event(actor=nurse, action="dose.given", at=_at("2026-11-03T10:00:00Z"))
    client = api_as(administrator)

    def actions(query):
        return [e["action"] for e in client.get(f"/api/v1/audit-events/?{query}").json()["results"]]

    assert actions(f"patient={patient_here.pk}") == ["response.assessed", "dose.given"]
    assert actions("actor=dr_nolan") == ["response.assessed"]
    assert actions("action=dose.given") == ["dose.given", "dose.given"]
    assert actions("since=2026-11-02T00:00:00Z&until=2026-11-03T00:00:00Z") == ["response.assessed"]


def _at(text):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(text)


@pytest.mark.django_db
def test_audit_event_fields_follow_the_contract(api_as, administrator, nurse, patient_here):
    with transaction.atomic():
        record_event(actor=nurse, action="dose.given", patient=patient_here, rules=["S3"], after={"dose_mcg": "50"})
    (event,) = api_as(administrator).get("/api/v1/audit-events/").json()["results"]
    for field in ["id", "at", "actor", "role", "action", "patient", "before", "after", "rules", "protocol_version",
                  "reason", "hash", "prev_hash"]:  # fmt: skip
        assert field in event
    assert event["actor"] == "nina" and event["patient"] == patient_here.pk and event["rules"] == ["S3"]


@pytest.mark.django_db
def test_neurologist_sees_only_events_of_patients_on_their_wards(
    api_as, neurologist, nurse, patient_here, patient_there
):
    with transaction.atomic():
        record_event(actor=nurse, action="here", patient=patient_here)
        record_event(actor=nurse, action="there", patient=patient_there)
        record_event(actor=None, action="no-patient")
    results = api_as(neurologist).get("/api/v1/audit-events/").json()["results"]
    assert [e["action"] for e in results] == ["here"]


@pytest.mark.django_db
def test_nurse_may_not_read_the_audit_log(api_as, nurse):
    assert api_as(nurse).get("/api/v1/audit-events/").status_code == 403


@pytest.mark.django_db
def test_csv_export_has_the_same_rows_as_the_filtered_list(api_as, administrator, nurse, patient_here):
    with transaction.atomic():
        record_event(actor=nurse, action="dose.given", patient=patient_here, after={"dose_mcg": "50"}, rules=["S1"])
        record_event(actor=nurse, action="other")
    response = api_as(administrator).get("/api/v1/audit-events/?format=csv&action=dose.given")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["action"] for r in rows] == ["dose.given"]
    assert rows[0]["actor"] == "nina"
    assert rows[0]["after"] == '{"dose_mcg": "50"}'
    assert rows[0]["hash"] == AuditEvent.objects.get(action="dose.given").hash


@pytest.mark.django_db
def test_audit_list_costs_constant_queries(api_as, make_staff, ward, patient_here, django_assert_max_num_queries):
    neurologist = make_staff(Role.NEUROLOGIST, ward)
    with transaction.atomic():
        for i in range(40):
            record_event(actor=neurologist, action="x", patient=patient_here, after={"i": i})
    client = api_as(neurologist)
    # token and user, role, ward ids, count, page: whatever the number of events
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/audit-events/")
    assert response.json()["count"] == 40
