"""Domain event types of bargains (registered on import, from ``BargainConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

BARGAIN_STARTED = "bargain.started"
BARGAIN_CUT = "bargain.cut"
BARGAIN_BOUGHT = "bargain.bought"
BARGAIN_EXPIRED = "bargain.expired"


def register() -> None:
    register_event_type(
        BARGAIN_STARTED,
        _("Bargain started"),
        _(
            "A customer started a bargain on an activity (`bargain_id`, `activity_id`, "
            "`customer_id`, `original_price`, `floor_price`, `helpers_needed`, `expires_at`)."
        ),
    )
    register_event_type(
        BARGAIN_CUT,
        _("Bargain cut"),
        _(
            "A helper cut a bargain's price (`bargain_id`, `helper_id`, `amount`, `shares`, "
            "`new_customer`, `current_price`, `reached`: the floor price is reached)."
        ),
    )
    register_event_type(
        BARGAIN_BOUGHT,
        _("Bargain bought"),
        _(
            "The starter placed an order at the bargain's current price (`bargain_id`, "
            "`order_id`, `price`, `cut_total`)."
        ),
    )
    register_event_type(
        BARGAIN_EXPIRED,
        _("Bargain expired"),
        _("A bargain's time ran out before it was bought (`bargain_id`, `current_price`)."),
    )


register()
