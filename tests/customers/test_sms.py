"""The SMS adapter: chosen by settings, the outbox backend keeps every message."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from siyu.core.errors import DomainError
from siyu.customers import services, sms
from siyu.customers.models import LoginCode, SmsMessage


def test_the_outbox_backend_is_the_default_and_stores_the_message(merchant):
    backend = sms.backend()
    assert backend.name == "outbox"
    result = backend.send(
        sms.OutgoingSms(merchant=merchant, to="+8613812345678", text="hello", purpose="login")
    )
    assert result.ok
    assert result.status == "outbox"
    row = SmsMessage.unscoped.get(pk=int(result.reference))
    assert (row.merchant_id, row.to, row.text, row.purpose, row.backend) == (
        merchant.pk,
        "+8613812345678",
        "hello",
        "login",
        "outbox",
    )


def test_an_unknown_backend_is_a_configuration_error(settings):
    settings.SMS_BACKEND = "carrier-pigeon"
    with pytest.raises(ImproperlyConfigured, match="carrier-pigeon"):
        sms.backend()


class RefusingGateway:
    name = "refusing"

    def send(self, message: sms.OutgoingSms) -> sms.SmsResult:
        return sms.SmsResult(ok=False, status="failed", error="quota exceeded")


def test_a_gateway_that_refuses_leaves_no_code_behind(merchant, settings, monkeypatch):
    monkeypatch.setitem(sms.BACKENDS, "refusing", RefusingGateway)
    settings.SMS_BACKEND = "refusing"
    with pytest.raises(DomainError) as caught:
        services.request_login_code(merchant, "138 1234 5678", ip=None)
    assert caught.value.status == 503
    assert caught.value.fields == {"phone": "quota exceeded"}
    assert not LoginCode.unscoped.exists()
