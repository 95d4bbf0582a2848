import pytest

from tests.notifications.fake_sms import FakeSmsProvider


@pytest.fixture
def sms(settings):
    with FakeSmsProvider() as provider:
        settings.SMS_PROVIDER_URL = provider.url
        settings.SMS_PROVIDER_TOKEN = provider.token
        yield provider


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def active_crisis(ada):
    from crises.services.lifecycle import crisis_transition
    from tests.factories import declared_crisis

    return crisis_transition(crisis=declared_crisis(ada), user=ada, action="activate")
