"""The "join my team" card: a group-buy team shown in a chat message (group or 1:1), opening the
team's share page. ``siyu.community.cards`` builds it from ``{"type": "groupbuy", "id": <team
id>}`` through :func:`card_for`, so a client never supplies a title, price or link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Min
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from siyu.core import clock
from siyu.core.money import format_amount
from siyu.groupbuy import selectors
from siyu.groupbuy.models import GroupBuySku, Team


def card_problem(team: Team) -> str | None:
    """Why ``team`` cannot be posted as a card now (only a team still filling can)."""
    now = clock.now()
    if team.status != Team.Status.OPEN or team.deadline <= now or team.seats_left <= 0:
        return _("Only a team still filling can be shared.")
    if selectors.phase(team.activity, now) != "running":
        return _("This group-buy is not running.")
    return None


def team_card(team: Team, url: str) -> dict[str, Any]:
    activity = team.activity
    product = activity.product
    cover = product.images.order_by("position", "id").first()
    price = GroupBuySku.objects.filter(activity=activity).aggregate(p=Min("group_price"))["p"]
    currency = activity.merchant.currency
    return {
        "type": "groupbuy",
        "id": team.pk,
        "title": _("Join my team: %(name)s") % {"name": activity.name},
        "subtitle": ngettext(
            "%(n)d more to go at %(price)s",
            "%(n)d more to go at %(price)s",
            team.seats_left,
        )
        % {"n": team.seats_left, "price": format_amount(price or 0, currency)},
        "image": (cover.thumbnail.url if cover.thumbnail else cover.file.url) if cover else "",
        "price": price,
        "url": url,
    }


def card_for(
    pk: int, *, with_via: Callable[[str], str], error: Callable[[str], Exception]
) -> dict[str, Any]:
    """The card of the bound merchant's team ``pk`` (``error(reason)`` raised when there is none
    or it cannot be shared); ``with_via`` adds the tap's attribution to the link."""
    team = (
        Team.objects.select_related("activity__merchant", "activity__product").filter(pk=pk).first()
    )
    if team is None:
        raise error(_("There is no such team."))
    problem = card_problem(team)
    if problem:
        raise error(problem)
    url = reverse(
        "shop_groupbuy:team",
        kwargs={"merchant_slug": team.activity.merchant.slug, "pk": team.pk},
    )
    return team_card(team, with_via(url))
