"""The gateway registry: a fixed mapping of known codes, enabled by settings."""

from __future__ import annotations

import pytest

from siyu.payments import gateways
from siyu.payments.checks import gateways_are_known
from siyu.payments.gateways.sandbox import SandboxGateway


def test_the_sandbox_is_known_and_enabled_by_default():
    assert gateways.enabled_codes() == ["sandbox"]
    assert isinstance(gateways.gateway("sandbox"), SandboxGateway)
    assert gateways.signature_headers() == frozenset({"siyu-sandbox-signature"})
    assert gateways.is_sandbox("sandbox")
    assert gateways.label("sandbox") == "Sandbox (no real money)"
    assert gateways.label("paypal") == "paypal"


def test_disabled_and_unknown_gateways_are_refused(settings):
    settings.PAYMENT_GATEWAYS = []
    with pytest.raises(gateways.UnknownGateway):
        gateways.gateway("sandbox")
    assert gateways.signature_headers() == frozenset()
    with pytest.raises(gateways.UnknownGateway):
        gateways.gateway("siyu.payments.gateways.sandbox.SandboxGateway")  # no dotted paths


def test_the_system_check_names_unknown_codes(settings):
    assert gateways_are_known(None) == []
    settings.PAYMENT_GATEWAYS = ["sandbox", "wechat"]
    [error] = gateways_are_known(None)
    assert error.id == "siyu.payments.E001"
    assert "wechat" in error.msg
    assert gateways.enabled_codes() == ["sandbox"]
