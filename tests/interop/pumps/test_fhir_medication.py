"""MedicationRequest for each signed dose change (T9) with its Provenance (signature D5, read-back T12), and
MedicationAdministration for each test dose (S4) and each program period (R2), each valid against the FHIR R4 models."""

import itertools
from decimal import Decimal

import pytest

from interop.selectors import search_rows
from screening import services as screening
from tests.interop.pump_story import implanted_pump, read, running_pump, shown, sign, source, titrate
from tests.interop.support import entries, fhir_get
from tests.titration.support import PASSWORD, at, put_in_force
from titration import services
from titration.models import DoseChange
from wardflow.staff.models import Role, User

pytestmark = pytest.mark.django_db

SHOWN = [("MedicationRequest", "change"), ("Provenance", "prov"), ("MedicationAdministration", "testdose"),
         ("MedicationAdministration", "program")]  # fmt: skip
NIGHT = [{"start": "00:00", "percent": "100"}, {"start": "22:00", "percent": "120"}]


def by_id(resources: list[dict]) -> dict[str, dict]:
    return {r["id"]: r for r in resources}


def test_the_program_in_force_is_an_active_order_with_its_daily_dose_as_a_rate_t9(pump, neurologist):
    change = pump.active_change
    order = by_id(shown("MedicationRequest", "change", neurologist))[f"change-{change.pk}"]
    assert (order["status"], order["intent"]) == ("active", "order")
    assert order["subject"]["reference"] == f"Patient/patient-{pump.patient_id}"
    assert order["requester"]["identifier"]["value"] == neurologist.username
    assert order["supportingInformation"] == [{"reference": f"Device/pump-{pump.pk}", "display": str(pump)}]
    (dosage,) = order["dosageInstruction"]
    assert dosage["route"]["coding"][0]["code"] == "72607000"
    rate = dosage["doseAndRate"][0]["rateQuantity"]
    assert rate == {"value": 100.0, "unit": "mcg/day", "system": "http://unitsofmeasure.org", "code": "ug/d"}
    (medication,) = order["contained"]
    assert order["medicationReference"]["reference"] == f"#{medication['id']}"
    assert medication["code"]["coding"][0]["code"] == "387342009"
    strength = medication["ingredient"][0]["strength"]
    assert (strength["numerator"]["value"], strength["numerator"]["code"]) == (500, "ug")
    assert (strength["denominator"]["value"], strength["denominator"]["code"]) == (1, "mL")


def test_an_unsigned_proposal_is_no_order_t9(clock, neurologist, nurse, patient):
    implanted_pump(clock, neurologist, nurse, patient)
    assert shown("MedicationRequest", "change", neurologist) == []
    assert shown("Provenance", "prov", neurologist) == []


def test_segments_become_one_instruction_each_with_its_time_of_day_t7(pump, clock, neurologist, nurse):
    change = titrate(clock, neurologist, nurse, pump, at(days=1), "115", NIGHT)
    order = by_id(shown("MedicationRequest", "change", neurologist))[f"change-{change.pk}"]
    day, night = order["dosageInstruction"]
    assert (day["timing"]["repeat"]["timeOfDay"], day["timing"]["repeat"]["duration"]) == (["00:00:00"], 1320)
    assert (night["timing"]["repeat"]["timeOfDay"], night["timing"]["repeat"]["duration"]) == (["22:00:00"], 120)
    day_rate, night_rate = (d["doseAndRate"][0]["rateQuantity"] for d in (day, night))
    assert day_rate["code"] == night_rate["code"] == "ug/h"
    assert Decimal(str(night_rate["value"])) == (Decimal(str(day_rate["value"])) * Decimal("1.2")).quantize(
        Decimal("0.001")
    )
    # The segments together deliver the signed daily dose.
    delivered = Decimal(str(day_rate["value"])) * 22 + Decimal(str(night_rate["value"])) * 2
    assert abs(delivered - Decimal("115")) < Decimal("0.01")


def test_a_superseded_order_is_completed_and_the_new_one_active(pump, clock, neurologist, nurse):
    first = pump.active_change
    second = titrate(clock, neurologist, nurse, pump, at(days=1), "115")
    orders = by_id(shown("MedicationRequest", "change", neurologist))
    assert orders[f"change-{first.pk}"]["status"] == "completed"
    assert orders[f"change-{second.pk}"]["status"] == "active"


def test_an_order_rejected_after_its_signature_is_cancelled_with_the_reason(pump, clock, neurologist, nurse):
    change = titrate(clock, neurologist, nurse, pump, at(days=1), "115", program=False)
    services.reject_dose_change(actor=neurologist, change=change, reason="patient declined")
    order = by_id(shown("MedicationRequest", "change", neurologist))[f"change-{change.pk}"]
    assert order["status"] == "cancelled"
    assert {"text": "Rejected: patient declined"} in order["note"]


def test_explant_stops_the_order_in_force_t13(pump, clock, neurologist):
    clock.move_to(at(days=2))
    services.explant_pump(actor=neurologist, pump=pump, explanted_at=at(days=2), reason="infection")
    order = by_id(shown("MedicationRequest", "change", neurologist))[f"change-{pump.active_change_id}"]
    assert order["status"] == "stopped"


def test_an_order_waiting_for_its_read_back_shows_no_approved_values_t12(pump, clock, neurologist, nurse):
    change = titrate(clock, neurologist, nurse, pump, at(days=1), "115", NIGHT, program=False)
    services.confirm_programming(actor=nurse, change=change, programmed_at=at(days=1),
                                 daily_dose_mcg=Decimal("115"), concentration_mcg_per_ml=Decimal("500"),
                                 segments=NIGHT)  # fmt: skip
    order = by_id(shown("MedicationRequest", "change", neurologist))[f"change-{change.pk}"]
    assert order["status"] == "active"
    assert "dosageInstruction" not in order
    assert "ingredient" not in order["contained"][0]
    assert "115" not in str(order)


# --- Provenance ----------------------------------------------------------------------------------------------------


def test_the_signature_with_its_meaning_is_a_provenance_of_the_order_d5(pump, neurologist):
    change = pump.active_change
    signature = by_id(shown("Provenance", "prov", neurologist))[f"prov-{change.pk}-signature"]
    assert signature["target"] == [{"reference": f"MedicationRequest/change-{change.pk}"}]
    assert signature["recorded"] == change.approved_at.isoformat()
    assert signature["activity"]["text"] == change.signature_meaning
    assert change.signature_meaning.startswith("Approved by")
    (signed,) = signature["signature"]
    assert [c["code"] for c in signed["type"]] == ["1.2.840.10065.1.12.1.5", "approval"]
    assert signed["who"]["identifier"]["value"] == neurologist.username
    assert signature["agent"][0]["type"]["coding"][0]["code"] == "verifier"


def test_the_independent_read_back_is_a_second_provenance_t12(pump, neurologist, nurse):
    change = pump.active_change
    read_back = by_id(shown("Provenance", "prov", neurologist))[f"prov-{change.pk}-readback"]
    assert read_back["target"] == [{"reference": f"MedicationRequest/change-{change.pk}"}]
    assert read_back["recorded"] == change.read_back_at.isoformat()
    agents = {a["type"]["coding"][0]["code"]: a["who"]["identifier"]["value"] for a in read_back["agent"]}
    assert agents == {"verifier": change.read_back_by.username, "performer": nurse.username}
    assert change.read_back_by != nurse
    assert "signature" not in read_back


def test_a_provenance_search_counts_the_signature_and_the_read_back_as_two_resources_t12(pump, neurologist, api_as):
    bundle = fhir_get(api_as(neurologist), "Provenance", patient=f"patient-{pump.patient_id}").json()
    change = pump.active_change
    assert {resource["id"] for resource in entries(bundle)} == {
        f"prov-{change.pk}-signature",
        f"prov-{change.pk}-readback",
    }
    assert bundle["total"] == 2


def test_without_a_read_back_only_the_signature_is_a_provenance_t12(clock, neurologist, nurse, patient, settings):
    settings.WARDFLOW_POLICY = {"independent_readback": False}
    pump = running_pump(clock, neurologist, nurse, patient, at())
    assert [p["id"] for p in shown("Provenance", "prov", neurologist)] == [f"prov-{pump.active_change_id}-signature"]


# --- MedicationAdministration --------------------------------------------------------------------------------------


def test_a_test_dose_is_a_completed_administration_with_its_dose_route_and_lot_s4(pump, neurologist, nurse):
    (given,) = shown("MedicationAdministration", "testdose", neurologist)
    assert given["status"] == "completed"
    assert given["dosage"]["dose"]["value"] == 50 and given["dosage"]["dose"]["code"] == "ug"
    assert given["dosage"]["route"]["coding"][0]["code"] == "72607000"
    assert given["contained"][0]["batch"] == {"lotNumber": "L1"}
    assert given["performer"][0]["actor"]["identifier"]["value"] == nurse.username


def test_a_test_dose_entered_in_error_is_shown_withdrawn_d4(clock, neurologist, nurse, patient, chart_baseline):
    trial = screening.open_trial(actor=neurologist, patient=patient)
    chart_baseline(nurse, trial, at(hours=-0.1))
    dose = screening.give_test_dose(actor=nurse, trial=trial, administered_at=at(hours=-0.1),
                                    dose_mcg=Decimal("50"), volume_ml=Decimal("1"), lot="L9", route="catheter",
                                    injection_seconds=90, resuscitation_ready=True)  # fmt: skip
    screening.mark_test_dose_entered_in_error(actor=nurse, test_dose=dose, reason="wrong patient")
    (withdrawn,) = shown("MedicationAdministration", "testdose", neurologist)
    assert withdrawn["status"] == "entered-in-error"
    assert withdrawn["statusReason"] == [{"text": "D4: entered in error: wrong patient"}]


def test_program_periods_chain_without_a_gap_and_the_current_one_is_in_progress_r2(pump, clock, neurologist,
                                                                                  nurse):  # fmt: skip
    titrate(clock, neurologist, nurse, pump, at(days=1), "115")
    titrate(clock, neurologist, nurse, pump, at(days=2), "130")
    periods = sorted(
        shown("MedicationAdministration", "program", neurologist), key=lambda p: p["effectivePeriod"]["start"]
    )
    assert [p["status"] for p in periods] == ["completed", "completed", "in-progress"]
    assert [p["dosage"]["rateQuantity"]["value"] for p in periods] == [100, 115, 130]
    for earlier, later in itertools.pairwise(periods):
        assert earlier["effectivePeriod"]["end"] == later["effectivePeriod"]["start"]
    assert "end" not in periods[-1]["effectivePeriod"]
    assert periods[0]["effectivePeriod"]["start"] == at().isoformat()
    assert {p["device"][0]["reference"] for p in periods} == {f"Device/pump-{pump.pk}"}
    assert [p["request"]["reference"] for p in periods] == [f"MedicationRequest/change-{c.pk}" for c in
                                                             DoseChange.objects.order_by("id")]  # fmt: skip


def test_an_ended_period_read_by_its_id_is_completed_r2(pump, clock, neurologist, nurse):
    first = pump.active_change
    titrate(clock, neurologist, nurse, pump, at(days=1), "115")
    (period,) = read("MedicationAdministration", "program", neurologist, first.pk)
    assert period["status"] == "completed"
    assert period["effectivePeriod"]["end"] == at(days=1).isoformat()


def test_the_period_in_force_at_explant_ends_with_it_t13(pump, clock, neurologist):
    clock.move_to(at(days=2))
    services.explant_pump(actor=neurologist, pump=pump, explanted_at=at(days=2), reason="infection")
    (period,) = shown("MedicationAdministration", "program", neurologist)
    assert period["status"] == "completed"
    assert period["effectivePeriod"]["end"] == at(days=2).isoformat()


def test_a_change_signed_but_not_yet_programmed_has_no_program_period(pump, clock, neurologist, nurse):
    titrate(clock, neurologist, nurse, pump, at(days=1), "115", program=False)
    assert len(shown("MedicationAdministration", "program", neurologist)) == 1


def test_another_wards_neurologist_sees_none_of_it(pump, make_staff, other_ward):
    stranger = make_staff(Role.NEUROLOGIST, other_ward)
    for resource_type, prefix in SHOWN:
        assert shown(resource_type, prefix, stranger) == []


@pytest.mark.parametrize("steps", [0, 3])
def test_listing_costs_the_same_queries_for_one_or_several_changes(pump, clock, neurologist, nurse, steps,
                                                                   django_assert_num_queries):  # fmt: skip
    for day in range(1, steps + 1):
        titrate(clock, neurologist, nurse, pump, at(days=day), str(100 + 10 * day))
    neurologist = User.objects.get(pk=neurologist.pk)  # the caller's wards are read once per request
    # One query per source, and one each for the caller's role and wards.
    with django_assert_num_queries(6):
        for resource_type, prefix in SHOWN:
            shown(resource_type, prefix, neurologist)


def test_each_order_shows_the_strength_its_program_was_for_t15(clock, neurologist, nurse, patient):
    pump = implanted_pump(clock, neurologist, nurse, patient, dead_space_ml=Decimal("0.2"))
    initial = put_in_force(nurse, sign(neurologist, pump.dose_changes.get()), at(), "100")
    clock.move_to(at(days=80))
    refill = services.record_refill(actor=nurse, pump=pump, refilled_at=at(days=80), volume_removed_ml=Decimal("4"),
                                    volume_added_ml=Decimal("20"), concentration_mcg_per_ml=Decimal("2000"),
                                    lot="RF-2000", septum_access_confirmed=True, aseptic_technique=True,
                                    new_program={"new_daily_dose_mcg": Decimal("100")})  # fmt: skip
    change = services.approve_dose_change(actor=neurologist, change=refill.adjustments.get(), password=PASSWORD,
                                          acknowledge_warnings=True)  # fmt: skip
    put_in_force(nurse, change, at(days=80), "100", strength="2000")
    strengths = {
        order["id"]: order["contained"][0]["ingredient"][0]["strength"]["numerator"]["value"]
        for order in shown("MedicationRequest", "change", neurologist)
    }
    assert strengths == {f"change-{initial.pk}": 500, f"change-{change.pk}": 2000}


def test_a_period_that_ended_after_a_pull_is_found_by_the_next_incremental_pull_r2(pump, clock, neurologist, nurse):
    first = pump.active_change
    pulled_at = at(hours=12)
    titrate(clock, neurologist, nurse, pump, at(days=1), "115")
    since = search_rows(source("MedicationAdministration", "program"), neurologist, last_updated=(("gte", pulled_at),))
    assert sorted(row.pk for row in since) == sorted([first.pk, pump.active_change_id])
