"""Domain event types of promotions (registered on import, from ``PromotionsConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

COUPON_CLAIMED = "promotions.coupon.claimed"
COUPON_USED = "promotions.coupon.used"
COUPON_RETURNED = "promotions.coupon.returned"
COUPON_EXPIRED = "promotions.coupon.expired"


def register() -> None:
    register_event_type(
        COUPON_CLAIMED,
        _("Coupon claimed"),
        _(
            "A customer got a coupon: claimed it, was given it by staff or earned it "
            "(`coupon_id`, `template_id`, `customer_id`, `source`, `valid_until`)."
        ),
    )
    register_event_type(
        COUPON_USED,
        _("Coupon used"),
        _("A coupon was used on an order (`coupon_id`, `template_id`, `order_id`, `discount`)."),
    )
    register_event_type(
        COUPON_RETURNED,
        _("Coupon given back"),
        _(
            "The order a coupon was used on was cancelled or refunded in full: the coupon is "
            "available again, or expired if its validity has passed (`coupon_id`, `order_id`, "
            "`status`)."
        ),
    )
    register_event_type(
        COUPON_EXPIRED,
        _("Coupons expired"),
        _("Unused coupons passed their validity (`template_id`, `count`)."),
    )


register()
