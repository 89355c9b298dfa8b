"""Domain event types of the community (registered from ``CommunityConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

MEMBER_JOINED = "community.member.joined"
MEMBER_LEFT = "community.member.left"
CODE_SCANNED = "community.code.scanned"


def register() -> None:
    register_event_type(
        MEMBER_JOINED,
        _("Customer joined a group"),
        _(
            "A customer joined a community group (scan, invitation or staff); `state` is the channel."
        ),
    )
    register_event_type(
        MEMBER_LEFT,
        _("Customer left a group"),
        _("A customer left a community group, or staff removed them (`reason`)."),
    )
    register_event_type(
        CODE_SCANNED,
        _("Join code scanned"),
        _("A customer scanned a join code; `outcome` says what came of it."),
    )


register()
