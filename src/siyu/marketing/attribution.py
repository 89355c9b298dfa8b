"""Attribution: which chat, card or link a customer came to the shop from, and whose order it is.

The rules (also in ``docs/community.md``, "Attribution"):

* A tap on a card or link carrying ``?via=<token>`` (signed, :func:`siyu.community.cards.read_via`)
  records a :class:`Touch` for the logged-in customer — or, before login, right after it
  (:mod:`siyu.marketing.middleware`). Ids in the token that are not the merchant's are dropped.
  The touch's guide is the token's guide, else the group's owner.
* A touch from a targeted message marks that customer's delivery as clicked (once).
* At checkout, the latest touch within the attribution window
  (``GuideSettings.attribution_window_days``, 7 by default) attributes the order:
  ``channel`` "group" when the touch has a group, else "guide" when it has a guide, else
  "broadcast" when it came from a targeted message, else "link"; ``group_id``, ``guide_id``
  (the touch's guide, else the customer's owner guide), ``campaign_id`` (the broadcast) and,
  in ``Order.attribution``, ``source``, ``touched_at`` and ``message_id``.
* Without a touch in the window the order stays ``channel`` "storefront" and goes to the
  customer's owner guide (``guide_id``) when they have one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from siyu.core import clock
from siyu.marketing.models import Delivery, Touch

if TYPE_CHECKING:
    from siyu.community.cards import Via
    from siyu.customers.models import Customer

DEFAULT_WINDOW_DAYS = 7
SOURCES = {
    "group": Touch.Source.CARD,
    "guide": Touch.Source.CHAT,
    "share": Touch.Source.LINK,
    "broadcast": Touch.Source.BROADCAST,
    "inbox": Touch.Source.BROADCAST,
}


def _own_ids(merchant_id: int, via: Via) -> tuple[int | None, int | None, int | None]:
    """``(group id, guide id, broadcast id)`` of ``via`` that belong to the merchant."""
    from siyu.community.models import CommunityGroup
    from siyu.core.models import Membership
    from siyu.marketing.models import Broadcast

    group_id = guide_id = broadcast_id = None
    if via.group_id is not None:
        group = (
            CommunityGroup.unscoped.filter(pk=via.group_id, merchant_id=merchant_id)
            .values("owner_id")
            .first()
        )
        if group is not None:  # the group's owner is the guide of its chat
            group_id, guide_id = via.group_id, group["owner_id"]
    if (
        via.guide_id is not None
        and Membership.objects.filter(pk=via.guide_id, merchant_id=merchant_id).exists()
    ):
        guide_id = via.guide_id
    if (
        via.broadcast_id is not None
        and Broadcast.unscoped.filter(pk=via.broadcast_id, merchant_id=merchant_id).exists()
    ):
        broadcast_id = via.broadcast_id
    return group_id, guide_id, broadcast_id


def record_touch(customer: Customer, via: Via, *, at: datetime | None = None) -> Touch:
    """Record that ``customer`` opened the shop from ``via``; a targeted message's delivery is
    marked clicked (the first time only)."""
    at = at or clock.now()
    group_id, guide_id, broadcast_id = _own_ids(customer.merchant_id, via)
    source = (
        Touch.Source.BROADCAST
        if broadcast_id and not group_id
        else SOURCES.get(via.source, Touch.Source.LINK)
    )
    touch = Touch.unscoped.create(
        merchant_id=customer.merchant_id,
        customer_id=customer.pk,
        source=source,
        guide_id=guide_id,
        group_id=group_id,
        broadcast_id=broadcast_id,
        message_id=via.message_id,
        touched_at=at,
    )
    if broadcast_id is not None:
        Delivery.unscoped.filter(
            broadcast_id=broadcast_id, customer_id=customer.pk, clicked_at__isnull=True
        ).update(clicked_at=at)
    return touch


def attribution_window(merchant_id: int) -> timedelta:
    try:
        from siyu.guides.services import guide_settings
    except ImportError:  # the guides capability is optional
        return timedelta(days=DEFAULT_WINDOW_DAYS)
    return timedelta(days=guide_settings(merchant_id).attribution_window_days)


def latest_touch(customer: Customer, *, at: datetime) -> Touch | None:
    """The customer's latest touch within the attribution window before ``at``."""
    since = at - attribution_window(customer.merchant_id)
    return (
        Touch.unscoped.filter(
            merchant_id=customer.merchant_id,
            customer_id=customer.pk,
            touched_at__gte=since,
            touched_at__lte=at,
        )
        .order_by("-touched_at", "-id")
        .first()
    )


def checkout_attribution(customer: Customer, *, at: datetime) -> dict[str, Any]:
    """What ``orders.services.checkout(attribution=...)`` takes for ``customer`` ordering at ``at``:
    columns (``channel``, ``group_id``, ``guide_id``, ``campaign_id``, and ``distributor_id``
    from the customer's distributor binding) and the extra values ``source``, ``touched_at``,
    ``message_id`` (kept in ``Order.attribution``)."""
    from siyu.distribution.selectors import distributor_for_checkout

    result = _touch_attribution(customer, at=at)
    distributor_id = distributor_for_checkout(customer)
    if distributor_id is not None:
        result["distributor_id"] = distributor_id
    return result


def _touch_attribution(customer: Customer, *, at: datetime) -> dict[str, Any]:
    touch = latest_touch(customer, at=at)
    owner_guide = customer.owner_guide_id
    if touch is None:
        result: dict[str, Any] = {"channel": "storefront"}
        if owner_guide is not None:
            result["guide_id"] = owner_guide
        return result
    if touch.group_id is not None:
        channel = "group"
    elif touch.guide_id is not None:
        channel = "guide"
    elif touch.broadcast_id is not None:
        channel = "broadcast"
    else:
        channel = "link"
    result = {
        "channel": channel,
        "source": str(touch.source),
        "touched_at": touch.touched_at.isoformat(),
    }
    for key, value in (
        ("group_id", touch.group_id),
        ("guide_id", touch.guide_id or owner_guide),
        ("campaign_id", touch.broadcast_id),
        ("message_id", touch.message_id),
    ):
        if value is not None:
            result[key] = value
    return result
