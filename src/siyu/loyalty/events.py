"""Domain event types of loyalty (registered on import, from ``LoyaltyConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

POINTS_RECORDED = "loyalty.points.recorded"
TIER_CHANGED = "loyalty.tier.changed"


def register() -> None:
    register_event_type(
        POINTS_RECORDED,
        _("Points recorded"),
        _(
            "A customer's points changed: earned, used, returned, taken back, expired or "
            "adjusted (`customer_id`, `entry_id`, `kind`, `points`, `balance`, `order_id`)."
        ),
    )
    register_event_type(
        TIER_CHANGED,
        _("Member tier changed"),
        _(
            "A customer moved up or down a member tier (`customer_id`, `from_tier_id`, "
            "`from_tier`, `to_tier_id`, `to_tier`, `direction`, `spend_12m`, `points_12m`)."
        ),
    )


register()
