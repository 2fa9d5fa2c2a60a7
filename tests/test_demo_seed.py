import io

import pytest
from django.core.management import call_command

from screening.models import ScreeningTrial
from titration.models import Pump
from wardflow.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_staff_and_three_patients_once_through_the_services(tmp_path):
    credentials = tmp_path / "demo-credentials.txt"
    out = io.StringIO()
    call_command("seed_demo", "--credentials-file", str(credentials), stdout=out)
    call_command("seed_demo", "--credentials-file", str(credentials), stdout=io.StringIO())
    assert "username nurse" in out.getvalue()
    assert sorted(ScreeningTrial.objects.values_list("state", flat=True)) == ["awaiting_dose", "candidate", "observing"]
    pump = Pump.objects.get()
    assert pump.active_change.new_daily_dose_mcg == 100
    assert verify_chain().ok
