"""The audit page an administrator works with: patients by name, invalid filters shown as errors (never every event
as if unfiltered), the period in ward time, and each event's values before and after on the page (D1)."""

import html
import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from tests.web.support import logged_in
from wardflow.audit.models import AuditEvent
from wardflow.patients.services import register_patient, update_patient_flags

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 09:00 in London (GMT)
pytestmark = pytest.mark.django_db


def _register(nurse, ward, number):
    return register_patient(actor=nurse, ward=ward, mrn=f"AUD-{number}", given_name=f"Given{number}",
                            family_name=f"Family{number}", date_of_birth=date(1980, 1, 1),
                            spasticity_origin="spinal")  # fmt: skip


def test_the_administrator_sees_each_patient_by_name_at_a_constant_query_cost(
    clock, nurse, ward, administrator, django_assert_max_num_queries
):
    for number in range(12):
        _register(nurse, ward, number)
    client = logged_in(administrator)
    # session, user, role, count, the page (patients joined), and the session save (in a savepoint)
    with django_assert_max_num_queries(9):
        page = client.get("/audit/").content.decode()
    assert page.count('data-testid="audit-row"') == 12
    assert page.count('data-testid="audit-patient">Family') == 12
    assert "Family11, Given11 <small>MRN AUD-11" in page


def test_an_invalid_filter_is_shown_on_the_form_and_no_event_is_listed(clock, nurse, ward, administrator):
    _register(nurse, ward, 1)
    page = logged_in(administrator).get("/audit/", {"since": "last tuesday", "patient": "Lovelace"}).content.decode()
    assert 'data-testid="filter-errors"' in page
    assert 'id="id_since-error">Enter a valid date/time.' in page
    assert 'id="id_patient-error">Enter a number.' in page
    assert 'data-testid="audit-row"' not in page
    assert 'data-testid="csv"' not in page  # no export of an unfiltered trail under a filter that failed


def test_the_period_is_typed_in_ward_time_and_the_export_gets_it_with_its_offset(clock, nurse, ward, administrator):
    _register(nurse, ward, 1)
    clock.move_to(T0 + timedelta(hours=2))
    _register(nurse, ward, 2)
    client = logged_in(administrator)
    page = client.get("/audit/", {"since": "2026-11-02T10:00"}).content.decode()
    assert page.count('data-testid="audit-row"') == 1
    assert "Family2, Given2" in page and "Family1, Given1" not in page
    csv_url = html.unescape(re.search(r'href="([^"]+)" download data-testid="csv"', page).group(1))
    assert parse_qs(urlparse(csv_url).query)["since"] == ["2026-11-02T10:00:00+00:00"]
    exported = b"".join(client.get(csv_url).streaming_content).decode()
    assert exported.count("patient.registered") == 1


def test_values_before_and_after_are_viewable_on_the_page(clock, nurse, ward, administrator):
    patient = _register(nurse, ward, 1)
    update_patient_flags(actor=nurse, patient=patient, changes={"renal_impairment": True}, reason="eGFR 25")
    event = AuditEvent.objects.get(action="patient.flags_changed")
    page = logged_in(administrator).get("/audit/").content.decode()
    row = page.split(f'<td data-label="#">{event.pk}</td>', 1)[1].split("</tr>", 1)[0]
    assert "<summary>Before and after</summary>" in row
    assert "&quot;renal_impairment&quot;: false" in row.split("<dt>After</dt>")[0]
    assert "&quot;renal_impairment&quot;: true" in row.split("<dt>After</dt>")[1]
