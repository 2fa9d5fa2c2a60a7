"""A bounded, deterministic schemathesis run against the live WSGI app, once per role with the role's API token: no
operation may answer 5xx, a status code its schema does not declare, or a body or content type that does not conform.

Each operation gets FUZZ_EXAMPLES generated requests (derandomised: the same cases on every run), so a role's run is
a few hundred cases."""

import os
from datetime import date

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from wardflow.patients.models import Patient
from wardflow.staff.models import Role

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def test_transaction_kept_across_requests():
    """The WSGI handler closes the database connection after each request; the test's transaction lives on it (as
    Django's test client does, the handler is told not to)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(params=[Role.NURSE, Role.NEUROLOGIST, Role.ADMINISTRATOR])
def token(request, make_staff, ward):
    """The role's token; a patient on the ward gives the fuzzed ids something to find."""
    user = make_staff(request.param, *([] if request.param == Role.ADMINISTRATOR else [ward]))
    Patient.objects.get_or_create(ward=ward, mrn="FUZZ-1", defaults={"given_name": "Fuzz", "family_name": "Case",
                                  "date_of_birth": date(1980, 1, 1), "spasticity_origin": "spinal"})  # fmt: skip
    return AuthToken.objects.create(user=user, expiry=None)[1]


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_5xx_or_outside_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
