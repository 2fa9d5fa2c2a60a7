"""The administrator's audit page shows the last verification instead of re-hashing the chain on every view."""

import pytest
from django.test import Client

from wardflow.audit.models import ChainVerification
from wardflow.audit.services import take_checkpoint, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(administrator):
    client = Client()
    client.force_login(administrator)
    return client


def test_the_page_shows_the_stored_verification_without_verifying_again(admin_client, append, tamper):
    events = append(3)
    take_checkpoint()
    verify()
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[-1].pk])
    page = admin_client.get("/audit/chain/").content.decode()
    assert "Chain intact: 3 events verified, signed checkpoint at event" in page
    assert ChainVerification.objects.count() == 1  # nothing re-hashed by the view


def test_an_administrator_verifies_now_from_the_page(admin_client, append, tamper):
    events = append(3)
    verify()
    tamper("UPDATE audit_auditevent SET reason = 'edited' WHERE id = %s", [events[1].pk])
    page = admin_client.post("/audit/chain/").content.decode()
    assert f"Chain broken at event {events[1].pk}" in page
    assert list(ChainVerification.objects.values_list("ok", flat=True)) == [False, True]
