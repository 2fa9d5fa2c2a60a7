"""Shared by the medication, procedure and audit resource tests: a patient's pump built through the real services,
and the resources a source shows a user, read as the API reads them (interop.selectors)."""

import json
from decimal import Decimal

from interop.resources import medication, procedures
from interop.resources.audit_events import SOURCES as AUDIT_SOURCES
from interop.selectors import source_row, source_rows
from tests.interop.support import assert_valid_fhir
from tests.titration.support import PASSWORD, candidate_trial, implant_fields, put_in_force
from titration import services

SOURCES = {(s.resource_type, s.prefix): s for s in [*medication.SOURCES, *procedures.SOURCES, *AUDIT_SOURCES]}


def source(resource_type: str, prefix: str):
    return SOURCES[(resource_type, prefix)]


def shown(resource_type: str, prefix: str, user) -> list[dict]:
    """Every resource of one source the user may see, as JSON, each checked against the FHIR R4 models."""
    rows = source_rows(source(resource_type, prefix), user)
    return [_valid(resource) for row in rows for resource in source(resource_type, prefix).to_resources(row)]


def read(resource_type: str, prefix: str, user, pk: int) -> list[dict]:
    """The resources of one row, read by its id as the API reads one resource."""
    row = source_row(source(resource_type, prefix), user, pk)
    return [_valid(resource) for resource in source(resource_type, prefix).to_resources(row)]


def _valid(resource) -> dict:
    body = json.loads(resource.json())
    assert_valid_fhir(body)
    return body


def implanted_pump(clock, neurologist, nurse, patient, **fields):
    """T1: screened (one positive 50 mcg test dose), then implanted; its initial 100 mcg/day proposed."""
    trial = candidate_trial(clock, neurologist, nurse, patient)
    return services.implant_pump(
        actor=neurologist, patient=patient, screening_trial=trial, **implant_fields(trial, **fields)
    )


def sign(neurologist, change):
    return services.approve_dose_change(actor=neurologist, change=change, password=PASSWORD)


def running_pump(clock, neurologist, nurse, patient, when):
    """The initial 100 mcg/day signed, programmed and read back (T9, T12) at `when`."""
    pump = implanted_pump(clock, neurologist, nurse, patient)
    put_in_force(nurse, sign(neurologist, pump.dose_changes.get()), when, "100")
    pump.refresh_from_db()
    return pump


def titrate(clock, neurologist, nurse, pump, when, dose: str, segments=None, *, program=True):
    """T3: a titration step proposed and signed at `when`; programmed and read back then unless `program` is off."""
    clock.move_to(when)
    change = services.propose_dose_change(actor=neurologist, pump=pump, kind="titration",
                                          new_daily_dose_mcg=Decimal(dose), reason="spasms persist",
                                          segments=segments)  # fmt: skip
    change = sign(neurologist, change)
    if program:
        change = put_in_force(nurse, change, when, dose, segments=segments)
    pump.refresh_from_db()
    return change
