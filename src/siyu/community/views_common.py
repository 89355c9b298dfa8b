"""What the community's console pages share: who sees which group or code, and the choices
the forms offer (the bound merchant's stores, staff, groups, products)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from siyu.community import access, selectors
from siyu.community.models import CommunityGroup, JoinCode
from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.models import Membership
from siyu.core.permissions import Role
from siyu.stores.models import Store
from siyu.web import console

MAX_PRODUCT_CHOICES = 300


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def is_guide(actor: Actor) -> bool:
    return actor.membership is not None and actor.membership.role == Role.SHOPPING_GUIDE


def visible_groups(actor: Actor) -> QuerySet[CommunityGroup]:
    return selectors.groups(staff=actor.membership)


def visible_group(actor: Actor, pk: int) -> CommunityGroup:
    """The group, or 404 when it is another merchant's or the actor may not see it."""
    try:
        group = selectors.group(pk)
    except NotFound:
        raise Http404 from None
    if actor.membership is not None and not access.staff_may_see_group(actor.membership, group):
        raise Http404
    return group


def visible_codes(actor: Actor) -> QuerySet[JoinCode]:
    """Every code for managers; a guide sees their own codes and those routing to their groups."""
    rows = selectors.codes()
    if is_guide(actor):
        assert actor.membership is not None
        me = actor.membership
        rows = rows.filter(Q(guide=me) | Q(routes__group__owner=me)).distinct()
    return rows


def visible_code(actor: Actor, pk: int) -> JoinCode:
    code = visible_codes(actor).filter(pk=pk).first()
    if code is None:
        raise Http404
    return code


def store_choices() -> list[tuple[int, str]]:
    return [
        (pk, name)
        for pk, name in Store.objects.exclude(status=Store.Status.CLOSED)
        .order_by("code", "pk")
        .values_list("pk", "name")
    ]


def staff_choices(actor: Actor) -> list[tuple[int, str]]:
    rows = (
        Membership.objects.filter(merchant=actor.merchant, is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return [(m.pk, f"{m.user} · {Role(m.role).label}") for m in rows]


def group_choices(actor: Actor, *, active_only: bool = True) -> list[tuple[int, str]]:
    rows = visible_groups(actor)
    if active_only:
        rows = rows.filter(status=CommunityGroup.Status.ACTIVE)
    return [
        (g.pk, f"{g.name} ({g.member_count}/{g.capacity})")
        for g in rows.order_by("store__code", "name", "pk")
    ]


def card_choices() -> list[tuple[Any, Any]]:
    """Product and store cards, grouped for a ``<select>``."""
    from siyu.catalog.models import Product

    products = [
        (f"product:{pk}", name)
        for pk, name in Product.objects.filter(status=Product.Status.ON_SALE)
        .order_by("name", "pk")
        .values_list("pk", "name")[:MAX_PRODUCT_CHOICES]
    ]
    stores = [(f"store:{pk}", name) for pk, name in store_choices()]
    return [(_("Products"), products), (_("Stores"), stores)]


def fill_percent(group: CommunityGroup) -> int:
    return min(100, round(100 * group.member_count / group.capacity)) if group.capacity else 0


# The services name nested fields ("welcome.text"); the forms flatten them ("welcome_text").
FORM_FIELDS = {
    "welcome.text": "welcome_text",
    "welcome.card": "welcome_card",
    "reply.text": "reply_text",
    "reply.card": "reply_card",
    "reply": "reply_text",
    "card": "card",
    "until": "duration",
}


def show_errors(form: Any, error: DomainError) -> None:
    """A service's field errors next to the form's own fields (see :data:`FORM_FIELDS`)."""
    error.fields = {FORM_FIELDS.get(name, name): reason for name, reason in error.fields.items()}
    console.show_errors(form, error)
