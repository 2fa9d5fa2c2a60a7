"""Alert e-mail: delivered to the target staff and audited; a failing mail server loses nothing."""

import pytest
from django.core import mail

from alerts import services
from alerts.models import AlertEmail
from tests.alerts.support import raise_now
from wardflow.audit.models import AuditEvent
from wardflow.staff.models import Role


@pytest.mark.django_db
def test_alert_is_emailed_to_the_target_staff_and_delivery_audited(email_on, make_staff, ward, patient):
    nurse = make_staff(Role.NURSE, ward)
    nurse.email = "nurse@example.org"
    nurse.save()
    raise_now(patient)
    assert services.send_pending_emails() == 1
    (message,) = mail.outbox
    assert message.to == ["nurse@example.org"]
    assert "A1" in message.subject and "MRN-1" in message.body
    assert AuditEvent.objects.filter(action="alert.delivered").count() == 1


class _BrokenMailServer:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


@pytest.mark.django_db
def test_a_failing_mail_server_loses_nothing_and_the_send_is_retried(
    email_on, settings, make_staff, ward, patient, api_as
):
    nurse = make_staff(Role.NURSE, ward)
    nurse.email = "nurse@example.org"
    nurse.save()
    settings.EMAIL_BACKEND = f"{__name__}._BrokenMailServer"
    alert = raise_now(patient)
    assert services.send_pending_emails() == 0
    email = AlertEmail.objects.get()
    assert (email.state, email.attempts) == (AlertEmail.State.PENDING, 1)
    assert [a["id"] for a in api_as(nurse).get("/api/v1/alerts/").json()["results"]] == [alert.pk]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send_pending_emails(now=email.next_attempt_at) == 1
    assert len(mail.outbox) == 1
