import pytest

from dev.demo import seed_demo
from screening.models import ScreeningTrial
from titration.models import Pump
from wardflow.audit.selectors import verify_chain

pytestmark = pytest.mark.django_db


def test_demo_seed_makes_staff_and_three_patients_once_through_the_services(tmp_path):
    credentials = tmp_path / "demo-credentials.txt"
    printed = seed_demo(credentials)
    assert seed_demo(credentials) == printed
    assert "username nurse" in printed
    assert sorted(ScreeningTrial.objects.values_list("state", flat=True)) == ["awaiting_dose", "candidate", "observing"]
    pump = Pump.objects.get()
    assert pump.active_change.new_daily_dose_mcg == 100
    assert verify_chain().ok
