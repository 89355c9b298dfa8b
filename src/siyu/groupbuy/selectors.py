"""Reads of group-buys that pages and the API share: what a shopper sees of an activity and a
team, "my group-buys", the product page's link, and the results operators see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db.models import Count, F, Min, Q, QuerySet, Sum

from siyu.core import clock
from siyu.groupbuy import rules
from siyu.groupbuy.models import GroupBuy, GroupBuySku, Member, Team
from siyu.orders.models import Order

if TYPE_CHECKING:
    from siyu.customers.models import Customer

SHOWN_TEAMS = 10


def phase(activity: GroupBuy, now: datetime | None = None) -> str:
    return rules.phase(activity.status, activity.starts_at, activity.ends_at, now or clock.now())


def phase_label(activity: GroupBuy, now: datetime | None = None) -> str:
    return str(GroupBuy.Status(phase(activity, now)).label)


def running(now: datetime | None = None) -> QuerySet[GroupBuy]:
    """Activities customers can buy now (scheduled ones whose start came included)."""
    now = now or clock.now()
    return (
        GroupBuy.objects.filter(
            status__in=[GroupBuy.Status.SCHEDULED, GroupBuy.Status.RUNNING],
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .select_related("product")
        .order_by("ends_at", "pk")
    )


def shown(activity_id: int) -> GroupBuy | None:
    """An activity a shopper may look at (anything but a draft)."""
    return (
        GroupBuy.objects.select_related("product")
        .exclude(status=GroupBuy.Status.DRAFT)
        .filter(pk=activity_id)
        .first()
    )


def items(activity: GroupBuy) -> list[GroupBuySku]:
    return list(
        GroupBuySku.objects.filter(activity=activity)
        .select_related("sku")
        .order_by("sku__position", "pk")
    )


@dataclass(frozen=True)
class Seat:
    initials: str
    name: str  # masked for other shoppers
    is_leader: bool
    seat: int


@dataclass
class TeamView:
    team: Team
    seats: list[Seat]
    seats_left: int
    seconds_left: int
    mine: bool = False
    empty: list[int] = field(default_factory=list)  # placeholders for the seats left


def _seats(members: list[Member]) -> list[Seat]:
    return [
        Seat(
            rules.initials(m.customer.name, m.customer.phone),
            rules.masked_name(m.customer.name, m.customer.phone),
            m.is_leader,
            m.seat or 0,
        )
        for m in members
    ]


def team_views(
    teams: list[Team], customer: Customer | None = None, now: datetime | None = None
) -> list[TeamView]:
    """Teams with their seated members (two queries however many teams)."""
    now = now or clock.now()
    by_team: dict[int, list[Member]] = defaultdict(list)
    for m in (
        Member.objects.filter(team__in=teams, status=Member.Status.SEATED)
        .select_related("customer")
        .order_by("team_id", "seat")
    ):
        by_team[m.team_id or 0].append(m)
    views = []
    for team in teams:
        members = by_team.get(team.pk, [])
        left = team.seats_left if team.status == Team.Status.OPEN else 0
        views.append(
            TeamView(
                team=team,
                seats=_seats(members),
                seats_left=left,
                seconds_left=max(0, int((team.deadline - now).total_seconds()))
                if team.status == Team.Status.OPEN
                else 0,
                mine=customer is not None and any(m.customer_id == customer.pk for m in members),
                empty=list(range(left)),
            )
        )
    return views


def open_teams(activity: GroupBuy, now: datetime | None = None) -> list[Team]:
    """Teams a shopper may join: open, before their deadline, with room; fullest first."""
    now = now or clock.now()
    return list(
        Team.objects.filter(activity=activity, status=Team.Status.OPEN, deadline__gt=now)
        .exclude(seats_taken__gte=F("size"))
        .order_by("-seats_taken", "deadline", "pk")[:SHOWN_TEAMS]
    )


def team(team_id: int) -> Team | None:
    return (
        Team.objects.select_related("activity", "activity__product", "leader")
        .filter(pk=team_id)
        .exclude(activity__status=GroupBuy.Status.DRAFT)
        .first()
    )


def team_share_code(team: Team) -> str:
    """The share code of the distributor who brought the team (its leader's order was
    attributed to them), while they are approved; "" when none.

    The team's link carries it, so friends who join through a team a distributor brought are
    attributed to that distributor too (the merchant's binding policy decides whether they
    bind). It is the sales of the team that pay, never the people: nothing is earned for a
    member who does not buy."""
    from siyu.distribution.models import Distributor

    distributor_id = (
        Member.objects.filter(team=team, customer_id=team.leader_id)
        .values_list("order__distributor_id", flat=True)
        .first()
    )
    if distributor_id is None:
        return ""
    return (
        Distributor.objects.filter(pk=distributor_id, status=Distributor.Status.APPROVED)
        .values_list("share_code", flat=True)
        .first()
        or ""
    )


def my_members(customer: Customer) -> QuerySet[Member]:
    """The customer's group-buy orders, newest first."""
    return (
        Member.objects.filter(customer=customer)
        .select_related("activity", "activity__product", "team", "order", "sku")
        .order_by("-placed_at", "-pk")
    )


@dataclass(frozen=True)
class ProductOffer:
    activity: GroupBuy
    lowest_price: int
    open_teams: int


def for_product(product_id: int, now: datetime | None = None) -> ProductOffer | None:
    """The running group-buy of a product (the soonest to end), for its product page."""
    activity = running(now).filter(product_id=product_id).first()
    if activity is None:
        return None
    now = now or clock.now()
    lowest = GroupBuySku.objects.filter(activity=activity).aggregate(p=Min("group_price"))["p"]
    teams = Team.objects.filter(
        activity=activity, status=Team.Status.OPEN, deadline__gt=now
    ).count()
    return ProductOffer(activity, lowest or 0, teams)


# --- results --------------------------------------------------------------------------------------


@dataclass
class Results:
    teams_open: int
    teams_succeeded: int
    teams_failed: int
    success_rate: float | None
    participants: int  # distinct customers seated in a team (any outcome)
    orders: int  # paid orders of succeeded teams
    sales: int  # what those orders charged, less refunds (fen)
    new_customers: int  # joiners without a paid order before, in succeeded teams
    reward_cost: int  # discount given vs the normal price on succeeded teams' orders (fen)
    k_factor: float | None
    refunded: int  # payments given back (teams that failed, payers with no seat)
    days: list[date]
    opened_by_day: list[int]
    succeeded_by_day: list[int]
    failed_by_day: list[int]


def results(activity: GroupBuy) -> Results:
    """The activity's numbers (a handful of aggregate queries)."""
    by_status = dict(
        Team.objects.filter(activity=activity)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    seated = Member.objects.filter(activity=activity, team__isnull=False)
    participants = seated.values("customer_id").distinct().count()
    won = Member.objects.filter(
        activity=activity, status=Member.Status.SEATED, team__status=Team.Status.SUCCEEDED
    )
    figures = won.aggregate(orders=Count("pk"), cost=Sum("discount"))
    new_customers = (
        won.filter(is_new_customer=True, is_leader=False).values("customer_id").distinct().count()
    )
    sold = Order.objects.filter(pk__in=won.values("order_id")).aggregate(
        total=Sum("total"), refunded=Sum("refunded_total")
    )
    refunded = Member.objects.filter(activity=activity, status=Member.Status.REFUNDED).count()
    succeeded = by_status.get(Team.Status.SUCCEEDED, 0)
    failed = by_status.get(Team.Status.FAILED, 0)
    days, opened, won_days, lost_days = _daily(activity)
    return Results(
        teams_open=by_status.get(Team.Status.OPEN, 0),
        teams_succeeded=succeeded,
        teams_failed=failed,
        success_rate=rules.success_rate(succeeded, failed),
        participants=participants,
        orders=figures["orders"] or 0,
        sales=(sold["total"] or 0) - (sold["refunded"] or 0),
        new_customers=new_customers,
        reward_cost=figures["cost"] or 0,
        k_factor=rules.k_factor(new_customers, participants),
        refunded=refunded,
        days=days,
        opened_by_day=opened,
        succeeded_by_day=won_days,
        failed_by_day=lost_days,
    )


def _daily(activity: GroupBuy) -> tuple[list[date], list[int], list[int], list[int]]:
    """Teams opened, succeeded and failed per day in the merchant's time zone."""
    zone = activity.merchant.time_zone
    opened: dict[date, int] = defaultdict(int)
    won: dict[date, int] = defaultdict(int)
    lost: dict[date, int] = defaultdict(int)
    for opened_at, closed_at, status in Team.objects.filter(activity=activity).values_list(
        "opened_at", "closed_at", "status"
    ):
        opened[clock.local(opened_at, zone).date()] += 1
        if closed_at is not None and status == Team.Status.SUCCEEDED:
            won[clock.local(closed_at, zone).date()] += 1
        elif closed_at is not None and status == Team.Status.FAILED:
            lost[clock.local(closed_at, zone).date()] += 1
    days = sorted(set(opened) | set(won) | set(lost))
    return (
        days,
        [opened[d] for d in days],
        [won[d] for d in days],
        [lost[d] for d in days],
    )


def teams(activity: GroupBuy, status: str | None = None) -> QuerySet[Team]:
    found = Team.objects.filter(activity=activity).select_related("leader")
    if status:
        found = found.filter(status=status)
    return found.order_by("-opened_at", "-pk")


def team_members(team_ids: list[int]) -> dict[int, list[Member]]:
    by_team: dict[int, list[Member]] = defaultdict(list)
    for m in (
        Member.objects.filter(team_id__in=team_ids)
        .select_related("customer", "order")
        .order_by("team_id", "seat", "pk")
    ):
        by_team[m.team_id or 0].append(m)
    return by_team


def activity_list(status: str | None = None) -> QuerySet[GroupBuy]:
    found = GroupBuy.objects.select_related("product").annotate(
        team_count=Count("teams", distinct=True),
        won_count=Count("teams", filter=Q(teams__status=Team.Status.SUCCEEDED), distinct=True),
    )
    if status:
        found = found.filter(status=status)
    return found.order_by("-starts_at", "-pk")
