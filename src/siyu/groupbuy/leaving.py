"""A seated member leaves a team that is still filling, because their order was refunded.

Staff may refund a group-buy order by hand (the customer changed their mind) before the team
has filled. The payment is gone, so the seat must not count: otherwise the team could
"succeed" with a member who paid nothing and ship the others' orders. The member is closed as
refunded, the activity stock comes back, the team's count goes down by one and the remaining
members are seated 1..k again in the order they joined (the first becomes the leader when the
leader left). A team nobody is left in is closed as failed (nothing to refund).

A refund after the team succeeded changes nothing here: the team did fill, and the refunded
order is an ordinary refund. Runs under the activity's seating lock, like seating, so a payer
being seated at the same time sees the count before or after, never half of it.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from siyu.core import clock, events
from siyu.core.tenancy import current_merchant
from siyu.groupbuy import events as groupbuy_events
from siyu.groupbuy.models import Member, Team
from siyu.groupbuy.services import _close_member, _lock_seating


@transaction.atomic
def leave_on_refund(order_id: int) -> Member | None:
    """Free the seat of the member whose order ``order_id`` was refunded in full, when their
    team is still open. Idempotent: a member not seated, or in a closed team, is answered
    unchanged."""
    member = Member.objects.filter(order_id=order_id).first()
    if member is None or member.status != Member.Status.SEATED or member.team_id is None:
        return member
    _lock_seating(member.activity_id)
    team = Team.objects.select_for_update().get(pk=member.team_id)
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != Member.Status.SEATED or team.status != Team.Status.OPEN:
        return member
    now = clock.now()
    _close_member(member, Member.Status.REFUNDED, _("Refunded before the team filled"), now)
    Member.objects.filter(pk=member.pk).update(seat=None, is_leader=False)
    remaining = list(
        Member.objects.select_for_update()
        .filter(team=team, status=Member.Status.SEATED)
        .order_by("seat", "pk")
    )
    # Seats 1..k in joining order; ascending, each target seat was freed by the step before.
    for number, other in enumerate(remaining, start=1):
        is_leader = number == 1
        if other.seat != number or other.is_leader != is_leader:
            Member.objects.filter(pk=other.pk).update(seat=number, is_leader=is_leader)
    Team.objects.filter(pk=team.pk).update(seats_taken=F("seats_taken") - 1)
    team.refresh_from_db()
    if remaining and team.leader_id != remaining[0].customer_id:
        team.leader_id = remaining[0].customer_id
        team.save(update_fields=["leader"])
    if not remaining:
        team.status = Team.Status.FAILED
        team.closed_at = now
        team.save(update_fields=["status", "closed_at"])
        payload: dict[str, object] = {"activity_id": team.activity_id, "team_id": team.pk}
        empty: dict[str, list[int]] = {"order_ids": [], "customer_ids": []}
        events.emit(
            current_merchant(), groupbuy_events.TEAM_FAILED, {**payload, **empty}, aggregate=team
        )
    events.emit(
        current_merchant(),
        groupbuy_events.MEMBER_LEFT,
        {
            "activity_id": member.activity_id,
            "team_id": team.pk,
            "member_id": member.pk,
            "customer_id": member.customer_id,
            "order_id": member.order_id,
            "seats_taken": team.seats_taken,
            "leader_id": team.leader_id,
        },
        aggregate=member,
    )
    member.refresh_from_db()
    return member
