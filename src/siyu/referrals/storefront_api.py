"""Referrals API for the logged-in customer (``/api/v1/storefront/{merchant_slug}/invite``): my
code and link, my friends and rewards, an invitation's landing view, accepting a code.
(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from siyu.core import clock
from siyu.core.apikit import ERROR_RESPONSES
from siyu.core.errors import NotFound
from siyu.customers.apikit import CUSTOMER_AUTH, customer_of
from siyu.referrals import selectors, services

router = Router(tags=["storefront: invite"], auth=CUSTOMER_AUTH)

MerchantSlug = Annotated[str, Path(description="The merchant's storefront slug.")]


class InviteFriendOut(Schema):
    name: str
    phone: str = Field(description="Masked: `+86138****5678`.")
    status: str = Field(description="`registered`, `qualified`, `rewarded` or `blocked`.")
    status_text: str = Field(description="The status in words of the request's language.")
    joined_at: datetime


class InviteRewardOut(Schema):
    side: str = Field(description="`inviter` (for a friend) or `invitee` (for joining).")
    kind: str = Field(description="`coupon` or `points`.")
    label: str
    coupon_id: int | None
    points: int
    created_at: datetime


class InviteMineOut(Schema):
    code: str
    link: str = Field(description="The invite link to share (its QR code is on the poster).")
    poster_path: str
    running: bool = Field(description="Whether friends who join now count.")
    invitee_reward: str = Field(description="What a friend gets, in words (empty: nothing).")
    inviter_reward: str = Field(description="What I get after a friend's first completed order.")
    friends_joined: int
    rewards_earned: int
    friends: list[InviteFriendOut]
    rewards: list[InviteRewardOut]
    invited_by: str | None = Field(description="Who invited me (name or masked number).")
    may_enter_code: bool = Field(description="Whether I may still type a friend's code.")


class InvitationOut(Schema):
    code: str
    inviter: str = Field(description="Who invites: their name, or their masked number.")
    invitee_reward: str
    message: str
    running: bool


class InviteAcceptIn(Schema):
    code: str = Field(max_length=40, description="A friend's invite code (case and spaces free).")


class InviteAcceptOut(Schema):
    status: str = Field(description="`registered`, or `blocked` (the invitation earns nothing).")
    message: str


@router.get(
    "",
    response={200: InviteMineOut, **ERROR_RESPONSES},
    summary="My invitations",
    description="My invite code (made on first use) and link, what friends and I get, the "
    "friends I invited (at most 100, masked numbers) and the rewards I earned.",
)
def mine(request: HttpRequest, merchant_slug: MerchantSlug) -> Any:
    customer = customer_of(request)
    code = services.code_of(customer)
    view = selectors.my_invites(customer, code=code)
    counts = view.counts
    return {
        "code": code.code,
        "link": view.link,
        "poster_path": f"{view.path.rsplit('/', 2)[0]}/poster.png",
        "running": view.running,
        "invitee_reward": view.invitee_reward,
        "inviter_reward": view.inviter_reward,
        "friends_joined": counts["registered"] + counts["qualified"] + counts["rewarded"],
        "rewards_earned": counts["rewarded"],
        "friends": [
            {
                "name": f["name"],
                "phone": f["phone_e164"],
                "status": f["status"],
                "status_text": f["status_text"],
                "joined_at": f["joined_at"],
            }
            for f in view.friends
        ],
        "rewards": [
            {
                "side": r.side,
                "kind": r.kind,
                "label": selectors.reward_label(r),
                "coupon_id": r.coupon_id,
                "points": r.points,
                "created_at": r.created_at,
            }
            for r in view.rewards
        ],
        "invited_by": selectors.display_name(view.invited_by.inviter) if view.invited_by else None,
        "may_enter_code": view.may_enter_code,
    }


@router.get(
    "/codes/{code}",
    response={200: InvitationOut, **ERROR_RESPONSES},
    summary="An invitation",
    description="Who invites with this code and what a new customer gets; 404 for an unknown code.",
)
def invitation(request: HttpRequest, merchant_slug: MerchantSlug, code: str) -> Any:
    found = services.find_code(code)
    if found is None:
        raise NotFound("Not found.")
    current = services.programme()
    return {
        "code": found.code,
        "inviter": selectors.display_name(found.customer),
        "invitee_reward": selectors.reward_text(current, "invitee"),
        "message": current.message,
        "running": services.running(current, clock.now()),
    }


@router.post(
    "/accept",
    response={201: InviteAcceptOut, **ERROR_RESPONSES},
    summary="Accept a friend's invitation",
    description="For a new customer: within the programme's days after joining and before any "
    "paid order. 422 on `code`: unknown, not running, not new, already invited by someone "
    "else. A repeat with the same code answers the first result. A referral blocked by a "
    "guard is 201 with `status: blocked` (it earns nothing).",
)
def accept(request: HttpRequest, merchant_slug: MerchantSlug, payload: InviteAcceptIn) -> Any:
    customer = customer_of(request)
    device = getattr(request, "siyu_device", None)
    referral = services.register(
        customer,
        payload.code,
        source="code",
        device=device if isinstance(device, services.Device) else None,
    )
    return Status(201, {"status": referral.status, "message": selectors.arrival_message(referral)})
