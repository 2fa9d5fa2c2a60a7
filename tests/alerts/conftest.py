import pytest


@pytest.fixture
def patient(make_patient, ward):
    return make_patient(ward, "MRN-1")


@pytest.fixture
def email_on(settings):
    settings.ALERT_EMAIL_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
