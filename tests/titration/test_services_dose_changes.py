"""propose_dose_change, approve_dose_change and reject_dose_change called directly: what each act writes, and what
a refusal leaves untouched (T3, T4, T6, T9)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.titration.support import PASSWORD, T0
from titration import services
from titration.models import DoseChange, Pump
from wardflow.audit.models import AuditEvent
from wardflow.errors import InvalidInput, RoleNotAllowed, SignatureRejected, WorkflowConflict

pytestmark = pytest.mark.django_db


def test_a_step_within_the_band_waits_for_signature_24_h_after_the_last_t3(active_pump, nurse):
    change = services.propose_dose_change(actor=nurse, pump=active_pump, kind="titration",
                                          new_daily_dose_mcg=Decimal("120"), reason="spasms persist")  # fmt: skip
    change.refresh_from_db()
    assert (change.state, change.previous_daily_dose_mcg) == ("proposed", Decimal("100"))
    assert change.earliest_at == T0 + timedelta(hours=24)
    assert "T3" in AuditEvent.objects.get(action="dose_change.proposed").rules


def test_no_change_is_proposed_before_the_initial_dose_is_programmed_t9(implanted, nurse):
    with pytest.raises(WorkflowConflict) as refused:
        services.propose_dose_change(actor=nurse, pump=implanted, kind="titration", new_daily_dose_mcg=Decimal("120"))
    assert refused.value.rule == "T9"
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action="dose_change.proposed").exists()


def test_a_nurse_may_not_override_the_band_t4(active_pump, nurse):
    with pytest.raises(RoleNotAllowed) as refused:
        services.propose_dose_change(actor=nurse, pump=active_pump, kind="titration",
                                     new_daily_dose_mcg=Decimal("135"), override_reason="please")  # fmt: skip
    assert refused.value.rule == "T4"
    assert DoseChange.objects.count() == 1
    assert not AuditEvent.objects.filter(action__in=["dose_change.proposed", "dose_change.overridden"]).exists()


def test_an_adverse_effect_reduction_rejects_the_increase_still_pending_t6(active_pump, nurse, neurologist):
    increase = services.propose_dose_change(actor=nurse, pump=active_pump, kind="titration",
                                            new_daily_dose_mcg=Decimal("120"))  # fmt: skip
    services.propose_dose_change(actor=neurologist, pump=active_pump, kind="adverse_effect_reduction",
                                 new_daily_dose_mcg=Decimal("85"), reason="drowsy")  # fmt: skip
    assert DoseChange.objects.get(pk=increase.pk).state == "rejected"
    rejected = AuditEvent.objects.get(action="dose_change.rejected")
    assert (rejected.subject_id, rejected.rules) == (str(increase.pk), ["T6"])


def test_a_wrong_password_signs_nothing_t9(implanted, neurologist):
    change = implanted.dose_changes.get()
    with pytest.raises(SignatureRejected):
        services.approve_dose_change(actor=neurologist, change=change, password="not my password")
    assert DoseChange.objects.get(pk=change.pk).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.approved").exists()


def test_a_signed_change_is_not_signed_twice_t9(signed_initial, neurologist):
    with pytest.raises(WorkflowConflict) as refused:
        services.approve_dose_change(actor=neurologist, change=signed_initial, password=PASSWORD)
    assert refused.value.rule == "T9"
    assert AuditEvent.objects.filter(action="dose_change.approved").count() == 1


def test_a_rejection_needs_its_reason(implanted, neurologist):
    change = implanted.dose_changes.get()
    with pytest.raises(InvalidInput) as refused:
        services.reject_dose_change(actor=neurologist, change=change, reason="  ")
    assert list(refused.value.errors) == ["reason"]
    assert DoseChange.objects.get(pk=change.pk).state == "proposed"
    assert not AuditEvent.objects.filter(action="dose_change.rejected").exists()


def test_a_nurse_is_refused_a_signature_before_any_dose_change_is_read_t9(nurse):
    unsaved = DoseChange(pump=Pump())
    with CaptureQueriesContext(connection) as queries, pytest.raises(RoleNotAllowed) as refused:
        services.approve_dose_change(actor=nurse, change=unsaved, password=PASSWORD)
    assert refused.value.rule == "T9"
    assert not [q["sql"] for q in queries if "titration_" in q["sql"]]
