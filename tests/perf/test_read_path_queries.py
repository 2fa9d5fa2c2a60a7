"""Every read path answers in the same number of queries whatever the size of the ward and its history: the same
pages read with 2 and with 12 patients, each implanted through the services with a year of observations, dose
changes and alerts (dev.bench.seed), must cost exactly as many queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from dev.bench.seed import _year_of_history, seed
from wardflow.patients.models import Patient
from wardflow.staff.models import User

pytestmark = pytest.mark.django_db


def _quiet(message):
    """The seed's progress lines are not wanted in test output."""


def _page_queries(username: str, path: str) -> int:
    client = Client()
    client.force_login(User.objects.get(username=username))
    assert client.get(path).status_code == 200  # the session's first use is not what is measured
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def _api_queries(username: str, path: str) -> int:
    _, key = AuthToken.objects.create(user=User.objects.get(username=username), expiry=None)
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(path).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


def _at_2_and_12_patients(measure) -> tuple[int, int]:
    seed(2, say=_quiet)
    small = measure()
    seed(12, say=_quiet)
    assert Patient.objects.count() == 12
    return small, measure()


@pytest.mark.parametrize(
    ("username", "path"),
    [("bench_nurse", "/ward/"), ("bench_nurse", "/alerts/"), ("bench_neuro", "/audit/"), ("bench_admin", "/audit/")],
)
def test_page_costs_the_same_queries_for_2_and_12_patients(username, path):
    small, large = _at_2_and_12_patients(lambda: _page_queries(username, path))
    assert large == small


@pytest.mark.parametrize(
    ("username", "path"),
    [("bench_nurse", "/api/v1/pumps/"), ("bench_nurse", "/api/v1/alerts/"), ("bench_admin", "/api/v1/audit-events/"),
     ("bench_neuro", "/api/v1/audit-events/")],
)  # fmt: skip
def test_api_list_costs_the_same_queries_for_2_and_12_patients(username, path):
    small, large = _at_2_and_12_patients(lambda: _api_queries(username, path))
    assert large == small


def test_patient_page_costs_the_same_queries_with_twice_the_history_and_more_patients():
    seed(2, say=_quiet)
    patient = Patient.objects.order_by("pk").first()
    path = f"/patients/{patient.pk}/"
    small = _page_queries("bench_nurse", path)
    pump = patient.pumps.get()
    nurse, second_nurse, neurologist = (User.objects.get(username=name) for name in ("bench_nurse", "bench_nurse2",
                                                                                      "bench_neuro"))  # fmt: skip
    # A second year's worth of rows on the same patient: observations, superseded dose changes and alerts.
    _year_of_history(patient, pump, pump.active_change.new_daily_dose_mcg, nurse, second_nurse, neurologist,
                     pump.implanted_at, timezone.now())  # fmt: skip
    seed(12, say=_quiet)
    assert patient.observations.count() > 2 * 360
    assert _page_queries("bench_nurse", path) == small
