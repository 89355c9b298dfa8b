"""The payment gateways Siyu knows, and which of them a site enables.

``KNOWN`` is a fixed mapping from a code to its adapter class: enabling a
gateway is naming its code in ``settings.PAYMENT_GATEWAYS``; nothing is imported
from a dotted path in settings. A real provider is added by writing its adapter
(see ``docs/payments.md``) and one line here.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from siyu.core.errors import InvalidInput
from siyu.payments.gateways.base import PaymentGateway
from siyu.payments.gateways.sandbox import SandboxGateway

KNOWN: dict[str, type[PaymentGateway]] = {
    SandboxGateway.code: SandboxGateway,
}


class UnknownGateway(InvalidInput):
    """A gateway code that is not known or not enabled on this site (HTTP 422)."""

    code = "unknown_gateway"


def enabled_codes() -> list[str]:
    """The enabled gateways, in the order of ``settings.PAYMENT_GATEWAYS``."""
    return [code for code in settings.PAYMENT_GATEWAYS if code in KNOWN]


def is_enabled(code: str) -> bool:
    return code in KNOWN and code in settings.PAYMENT_GATEWAYS


def gateway(code: str) -> PaymentGateway:
    """The adapter of an enabled gateway; UnknownGateway otherwise."""
    if not is_enabled(code):
        raise UnknownGateway(
            _("This payment method is not available."),
            fields={
                "gateway": _("Choose one of: %(codes)s.") % {"codes": ", ".join(enabled_codes())}
            },
        )
    return KNOWN[code]()


def signature_headers() -> frozenset[str]:
    """The headers any enabled gateway signs its notifications with (lower case)."""
    return frozenset(
        header.lower() for code in enabled_codes() for header in KNOWN[code].info.signature_headers
    )


def label(code: str) -> str:
    cls = KNOWN.get(code)
    return str(cls.info.label) if cls is not None else code


def is_sandbox(code: str) -> bool:
    cls = KNOWN.get(code)
    return bool(cls is not None and cls.info.is_sandbox)
