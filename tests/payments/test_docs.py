"""docs/payments.md describes the notifications the sandbox really sends."""

from __future__ import annotations

import json
from pathlib import Path

from siyu.core.tenancy import merchant_context
from siyu.orders.testing import make_order
from siyu.payments.models import SandboxNotification
from siyu.payments.sandbox import provider, signing
from siyu.payments.services import NOTIFY_PATH
from siyu.payments.testing import pay

DOC = (Path(__file__).resolve().parents[2] / "docs" / "payments.md").read_text(encoding="utf-8")


def test_every_field_of_a_real_notification_is_documented(merchant):
    order = make_order(merchant)
    payment = pay(order)
    with merchant_context(merchant):
        provider.refund(out_trade_no=payment.out_trade_no, out_refund_no="R-doc", amount=1)
    fields: set[str] = set()
    for note in SandboxNotification.unscoped.all():
        fields |= set(json.loads(note.body))
        assert f"`{note.kind}`" in DOC
    for field in fields:
        assert f"`{field}`" in DOC, f"{field} is not documented"
    assert "`failure_reason`" in DOC


def test_the_documented_header_path_and_tolerance_are_the_codes():
    assert signing.SIGNATURE_HEADER in DOC
    assert NOTIFY_PATH.format(gateway="sandbox") in DOC
    assert f"{signing.DEFAULT_TOLERANCE_SECONDS} seconds" in DOC
    assert provider.USER_AGENT in DOC
    assert f"{provider.MAX_ATTEMPTS}\nattempts" in DOC or f"{provider.MAX_ATTEMPTS} attempts" in DOC
