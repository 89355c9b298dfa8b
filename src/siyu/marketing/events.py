"""Domain event types of marketing (registered from ``MarketingConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

BROADCAST_SENT = "marketing.broadcast.sent"


def register() -> None:
    register_event_type(
        BROADCAST_SENT,
        _("Targeted message sent"),
        _(
            "A targeted message finished sending: `targeted`, `sent` and `skipped` counts and "
            "the skipped customers by `reasons`."
        ),
    )


register()
