"""Procedure for the implant (T1), each refill (R5, R6), the explant and the replacement (T13), each valid against the
FHIR R4 models; a refill entered in error is shown withdrawn (D4)."""

from decimal import Decimal

import pytest

from tests.interop.pump_story import shown
from tests.titration.support import at
from titration import services
from titration.models import Pump
from wardflow.staff.models import Role, User

pytestmark = pytest.mark.django_db

REFILL_EXTENSION = "urn:wardflow:fhir/StructureDefinition/refill-"


def refill(clock, nurse, pump, days, removed="17", lot="RF-1"):
    clock.move_to(at(days=days))
    return services.record_refill(actor=nurse, pump=pump, refilled_at=at(days=days), volume_removed_ml=Decimal(removed),
                                  volume_added_ml=Decimal("20"), concentration_mcg_per_ml=Decimal("500"), lot=lot,
                                  septum_access_confirmed=True, aseptic_technique=True)  # fmt: skip


def extensions(procedure: dict) -> dict:
    return {
        e["url"].removeprefix(REFILL_EXTENSION): e.get("valueQuantity", e.get("valueString", e.get("valueBoolean")))
        for e in procedure["extension"]
    }


def codes(procedures: list[dict]) -> list[str]:
    return sorted(p["code"]["coding"][0]["code"] for p in procedures)


def test_the_implant_is_a_completed_procedure_on_the_pump_t1(pump, neurologist):
    (implant,) = shown("Procedure", "implant", neurologist)
    assert implant["id"] == f"implant-{pump.pk}"
    assert (implant["status"], implant["code"]["coding"][0]["code"]) == ("completed", "implant")
    assert implant["performedDateTime"] == at().isoformat()
    assert implant["performer"][0]["actor"]["identifier"]["value"] == neurologist.username
    assert implant["focalDevice"] == [{"action": {"text": "implanted"}, "manipulated": {
        "reference": f"Device/pump-{pump.pk}", "display": str(pump)}}]  # fmt: skip
    assert shown("Procedure", "explant", neurologist) == shown("Procedure", "replacement", neurologist) == []


def test_a_refill_carries_its_volumes_lot_strength_and_residual_discrepancy_r5(pump, clock, nurse, neurologist):
    recorded = refill(clock, nurse, pump, days=10, removed="17")
    (procedure,) = shown("Procedure", "refill", neurologist)
    assert (procedure["status"], procedure["code"]["coding"][0]["code"]) == ("completed", "refill")
    assert procedure["performer"][0]["actor"]["identifier"]["value"] == nurse.username
    values = extensions(procedure)
    assert values["volume-removed"]["value"] == 17 and values["volume-removed"]["code"] == "mL"
    assert values["volume-added"]["value"] == 20
    assert values["lot"] == "RF-1"
    assert values["concentration"]["code"] == "ug/mL" and values["concentration"]["value"] == 500
    assert Decimal(str(values["expected-residual"]["value"])) == recorded.expected_residual_ml
    # R5: found minus expected (here less was left in the pump than the programs should have left).
    assert Decimal(str(values["residual-discrepancy"]["value"])) == Decimal("17") - recorded.expected_residual_ml
    assert values["septum-access-confirmed"] is values["aseptic-technique"] is True


def test_a_refill_entered_in_error_is_shown_withdrawn_d4(pump, clock, nurse, neurologist):
    first = refill(clock, nurse, pump, days=10)
    second = refill(clock, nurse, pump, days=20, lot="RF-2")
    services.mark_refill_entered_in_error(actor=nurse, refill=first, reason="charted twice")
    statuses = {p["id"]: p["status"] for p in shown("Procedure", "refill", neurologist)}
    assert statuses == {f"refill-{first.pk}": "entered-in-error", f"refill-{second.pk}": "completed"}
    withdrawn = next(p for p in shown("Procedure", "refill", neurologist) if p["status"] == "entered-in-error")
    assert withdrawn["statusReason"] == {"text": "D4: entered in error: charted twice"}


def test_the_explant_is_a_procedure_with_its_reason_t13(pump, clock, neurologist):
    clock.move_to(at(days=3))
    services.explant_pump(actor=neurologist, pump=pump, explanted_at=at(days=3), reason="pocket infection")
    (explant,) = shown("Procedure", "explant", neurologist)
    assert (explant["status"], explant["code"]["coding"][0]["code"]) == ("completed", "explant")
    assert explant["performedDateTime"] == at(days=3).isoformat()
    assert explant["reasonCode"] == [{"text": "pocket infection"}]
    assert explant["focalDevice"][0]["action"] == {"text": "removed"}
    assert codes(shown("Procedure", "implant", neurologist)) == ["implant"]


def test_a_replacement_is_one_procedure_on_both_pumps_not_an_explant_and_an_implant_t13(pump, clock, neurologist):
    clock.move_to(at(days=3))
    new = services.replace_pump(actor=neurologist, pump=pump, replaced_at=at(days=3), reason="end of battery life",
                                model="SynchroMed II", serial="SN-NEW", reservoir_ml=Decimal("20"),
                                initial_volume_ml=Decimal("20"))  # fmt: skip
    (replacement,) = shown("Procedure", "replacement", neurologist)
    assert replacement["id"] == f"replacement-{new.pk}"
    assert replacement["reasonCode"] == [{"text": "end of battery life"}]
    devices = {d["action"]["text"]: d["manipulated"]["reference"] for d in replacement["focalDevice"]}
    assert devices == {"removed": f"Device/pump-{pump.pk}", "implanted": f"Device/pump-{new.pk}"}
    assert [p["id"] for p in shown("Procedure", "implant", neurologist)] == [f"implant-{pump.pk}"]
    assert shown("Procedure", "explant", neurologist) == []


def test_another_wards_neurologist_sees_no_procedure(pump, clock, nurse, make_staff, other_ward):
    refill(clock, nurse, pump, days=10)
    stranger = make_staff(Role.NEUROLOGIST, other_ward)
    for prefix in ("implant", "refill", "explant", "replacement"):
        assert shown("Procedure", prefix, stranger) == []


@pytest.mark.parametrize("refills", [1, 4])
def test_listing_costs_the_same_queries_for_one_or_several_refills(pump, clock, nurse, neurologist, refills,
                                                                   django_assert_num_queries):  # fmt: skip
    for number in range(refills):
        refill(clock, nurse, pump, days=5 * (number + 1), lot=f"RF-{number}")
    clock.move_to(at(days=30))
    services.replace_pump(actor=neurologist, pump=Pump.objects.get(pk=pump.pk), replaced_at=at(days=30),
                          reason="malfunction", model="SynchroMed II", serial="SN-NEW", reservoir_ml=Decimal("20"),
                          initial_volume_ml=Decimal("20"))  # fmt: skip
    neurologist = User.objects.get(pk=neurologist.pk)  # the caller's role and wards are read once per request
    # One query per source, and one each for the caller's role and wards.
    with django_assert_num_queries(6):
        for prefix in ("implant", "refill", "explant", "replacement"):
            shown("Procedure", prefix, neurologist)
