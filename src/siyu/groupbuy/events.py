"""Domain events of group-buys (registered on import, from ``GroupBuyConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

TEAM_OPENED = "groupbuy.team.opened"
TEAM_SUCCEEDED = "groupbuy.team.succeeded"
TEAM_FAILED = "groupbuy.team.failed"
MEMBER_JOINED = "groupbuy.member.joined"
MEMBER_LEFT = "groupbuy.member.left"


def register() -> None:
    register_event_type(
        TEAM_OPENED,
        _("Group-buy team opened"),
        _(
            "A leader's payment opened a team (`activity_id`, `team_id`, `leader_id`, `size`, "
            "`deadline`)."
        ),
    )
    register_event_type(
        TEAM_SUCCEEDED,
        _("Group-buy team succeeded"),
        _(
            "The last seat of a team was paid: its orders go to fulfilment (`activity_id`, "
            "`team_id`, `order_ids`, `customer_ids`)."
        ),
    )
    register_event_type(
        TEAM_FAILED,
        _("Group-buy team failed"),
        _(
            "A team did not fill in time: every member's payment is refunded (`activity_id`, "
            "`team_id`, `order_ids`, `customer_ids`)."
        ),
    )
    register_event_type(
        MEMBER_JOINED,
        _("Group-buy member joined"),
        _(
            "A paid customer took a seat in a team (`activity_id`, `team_id`, `member_id`, "
            "`customer_id`, `order_id`, `seat`, `is_leader`, `is_new_customer`, `distributor_id`)."
        ),
    )
    register_event_type(
        MEMBER_LEFT,
        _("Group-buy member left"),
        _(
            "A seated member's order was refunded in full while their team was still filling: "
            "the seat is free again (`activity_id`, `team_id`, `member_id`, `customer_id`, "
            "`order_id`, `seats_taken`, `leader_id`)."
        ),
    )


register()
