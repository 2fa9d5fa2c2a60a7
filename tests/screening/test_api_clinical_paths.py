"""The three clinical paths of a screening trial through the HTTP API, as the real roles (S1-S9)."""

from datetime import timedelta

import pytest

from screening.models import Assessment, TestDose
from tests.screening.support import actions, assess, chart, give, hours, observe_dose, open_trial, trial_of, when
from wardflow.audit.models import AuditEvent
from wardflow.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("duration", "lasting"), [("6.5", "<= 8 h"), ("10", "> 8 h")])
def test_responder_on_dose_1(clock, ward_team, adult, duration, lasting):
    nurse, neuro = ward_team
    opened = open_trial(neuro, adult)
    assert opened.status_code == 201, opened.json()
    trial = opened.json()
    assert (trial["state"], trial["next_dose_number"], trial["next_dose_mcg"], trial["next_dose_due_at"]) == (
        "awaiting_dose", 1, "50.0", None,
    )  # fmt: skip
    assert chart(nurse, trial["id"], hours(-0.5)).status_code == 201  # baseline
    clock.move_to(hours(0.1))
    given = give(nurse, trial["id"], hours(0))
    assert given.status_code == 201, given.json()
    dose = given.json()
    assert dose["number"] == 1 and dose["dose_mcg"] == "50.0"
    assert [when(t) for t in dose["observations_due"]] == [hours(h) for h in range(1, 9)]
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial["id"], hours(0), ashworth_after="1.5")
    shown = trial_of(neuro, trial["id"])
    assert shown["state"] == "observing"
    assert shown["suggestion"]["response"] == "positive"
    assessed = assess(neuro, dose["id"], "positive", duration_hours=duration, note=f"response lasting {lasting}")
    assert assessed.status_code == 201, assessed.json()
    assert assessed.json()["duration_hours"] == f"{float(duration):.1f}"
    final = trial_of(neuro, trial["id"])
    assert final["state"] == "candidate"
    assert final["next_dose_number"] is None
    assert str(Assessment.objects.get().duration_hours) == assessed.json()["duration_hours"]
    assert [a for a, _ in actions()].count("test_dose.given") == 1
    assert {a: r for a, r in actions() if a != "observation.charted"} == {
        "screening.opened": ["S1"],
        "test_dose.given": ["S1", "S4", "V2"],
        "response.assessed": ["S6", "S7", "S8", "S9"],
    }
    assert verify_chain().ok


def test_responder_on_dose_2_after_an_inadequate_dose_1(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    chart(nurse, trial_id, hours(-0.5))
    first = give(nurse, trial_id, hours(0)).json()
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial_id, hours(0))
    assert assess(neuro, first["id"], "inadequate").status_code == 201
    shown = trial_of(neuro, trial_id)
    assert (shown["state"], shown["next_dose_number"], shown["next_dose_mcg"]) == ("awaiting_dose", 2, "75.0")
    assert when(shown["next_dose_due_at"]) == hours(24)

    clock.move_to(hours(23.9))
    chart(nurse, trial_id, hours(23.5))  # baseline for dose 2
    too_early = give(nurse, trial_id, hours(23.9), "75", "1.5")
    assert too_early.status_code == 409
    assert too_early.json()["rule"] == "S3"
    assert when(too_early.json()["next_dose_due_at"]) == hours(24)

    clock.move_to(hours(24))
    assert trial_of(neuro, trial_id)["next_dose_due_at"] is None
    second = give(nurse, trial_id, hours(24), "75", "1.5")
    assert second.status_code == 201, second.json()
    clock.move_to(hours(32.1))
    observe_dose(nurse, trial_id, hours(24), penn_after="1")
    assert assess(neuro, second.json()["id"], "positive", duration_hours="7").status_code == 201
    assert trial_of(neuro, trial_id)["state"] == "candidate"
    assert {a: r for a, r in actions() if a == "test_dose.given"} == {"test_dose.given": ["S1", "S3", "S4", "V2"]}
    assert [a for a, _ in actions()].count("response.assessed") == 2
    assert verify_chain().ok


def no_response_to_the_ladder(clock, nurse, neuro, trial_id):
    """Doses 1-3 at 0, 24 and 48 h, each observed for 8 h without change and assessed inadequate."""
    for number, (mcg, ml) in enumerate([("50", "1"), ("75", "1.5"), ("100", "2")]):
        start = hours(24 * number)
        clock.move_to(start - timedelta(minutes=30))
        chart(nurse, trial_id, start - timedelta(minutes=30))
        clock.move_to(start)
        dose = give(nurse, trial_id, start, mcg, ml)
        assert dose.status_code == 201, dose.json()
        clock.move_to(start + timedelta(hours=8, minutes=5))
        observe_dose(nurse, trial_id, start)
        assert trial_of(neuro, trial_id)["suggestion"]["response"] == "inadequate"
        assert assess(neuro, dose.json()["id"], "inadequate").status_code == 201


def test_non_responder_to_100_mcg_is_not_a_candidate(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    no_response_to_the_ladder(clock, nurse, neuro, trial_id)
    final = trial_of(neuro, trial_id)
    assert final["state"] == "not_candidate"
    assert final["next_dose_number"] is None
    clock.move_to(hours(80))
    refused = give(nurse, trial_id, hours(80), "100", "2")
    assert refused.status_code == 409
    assert TestDose.objects.count() == 3
    assert verify_chain().ok


def test_a_non_candidate_is_rescreened_with_an_override_from_24_h_after_the_last_dose_s11(clock, ward_team, adult):
    nurse, neuro = ward_team
    no_response_to_the_ladder(clock, nurse, neuro, open_trial(neuro, adult).json()["id"])
    assert open_trial(neuro, adult).json()["rule"] == "S11"
    second = open_trial(neuro, adult, override_reason="spasticity worse after botulinum toxin stopped")
    assert second.status_code == 201, second.json()
    assert when(second.json()["next_dose_due_at"]) == hours(72)  # S3: the 100 mcg dose was given at 48 h
    chart(nurse, second.json()["id"], hours(56))
    too_early = give(nurse, second.json()["id"], hours(56))
    assert (too_early.status_code, too_early.json()["rule"]) == (409, "S3")
    clock.move_to(hours(72))
    assert trial_of(neuro, second.json()["id"])["next_dose_due_at"] is None
    chart(nurse, second.json()["id"], hours(71.5))
    given = give(nurse, second.json()["id"], hours(72))
    assert given.status_code == 201, given.json()
    assert (given.json()["number"], given.json()["dose_mcg"]) == (1, "50.0")
    assert TestDose.objects.count() == 4
    assert verify_chain().ok


def test_a_decision_that_differs_from_the_suggestion_is_audited_with_both_s7(clock, ward_team, adult):
    nurse, neuro = ward_team
    trial_id = open_trial(neuro, adult).json()["id"]
    chart(nurse, trial_id, hours(-0.5))
    dose = give(nurse, trial_id, hours(0)).json()
    clock.move_to(hours(8.1))
    observe_dose(nurse, trial_id, hours(0))  # no change: suggests inadequate
    assert (
        assess(neuro, dose["id"], "positive", duration_hours="5", note="clearly easier to position").status_code == 201
    )
    event = AuditEvent.objects.get(action="response.assessed")
    assert event.after["response"] == "positive"
    assert event.after["suggested_response"] == "inadequate"
    assert event.after["differs_from_suggestion"] is True
    assert event.reason == "clearly easier to position"
