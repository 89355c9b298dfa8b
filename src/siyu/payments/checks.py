"""System checks of payments: the enabled gateways are ones Siyu knows."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register


@register()
def gateways_are_known(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from siyu.payments.gateways import KNOWN

    unknown = [code for code in settings.PAYMENT_GATEWAYS if code not in KNOWN]
    if not unknown:
        return []
    return [
        Error(
            f"SIYU_PAYMENT_GATEWAYS names unknown gateways: {', '.join(unknown)}",
            hint=f"Known gateways: {', '.join(sorted(KNOWN))}.",
            id="siyu.payments.E001",
        )
    ]
