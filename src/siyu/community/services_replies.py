"""Keyword auto-replies: in one group, or in every group of the merchant (group empty)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.community import validation
from siyu.community.models import AutoReply, CommunityGroup
from siyu.community.validation import fail
from siyu.core import audit
from siyu.core.actors import Actor
from siyu.core.permissions import Perm

FIELDS = ("group", "keyword", "match", "reply", "is_active")


def _clean(actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    group = values.get("group")
    if group not in (None, "", 0):
        pk = group.pk if isinstance(group, CommunityGroup) else group
        if isinstance(pk, str) and pk.isdigit():
            pk = int(pk)
        group = (
            CommunityGroup.unscoped.filter(pk=pk, merchant=actor.merchant).first()
            if isinstance(pk, int)
            else None
        )
        if group is None:
            raise fail("group", _("There is no such group."))
    else:
        group = None
    match = values.get("match") or AutoReply.Match.CONTAINS
    if match not in AutoReply.Match.values:
        raise fail("match", _("Choose contains or exact."))
    reply = validation.welcome(values.get("reply"), field="reply")
    if not reply:
        raise fail("reply.text", _("Write the reply."))
    return {
        "group": group,
        "keyword": validation.name(values.get("keyword"), field="keyword", max_length=40),
        "match": match,
        "reply": reply,
        "is_active": bool(values.get("is_active", True)),
    }


def create_auto_reply(actor: Actor, **values: Any) -> AutoReply:
    actor.require(Perm.COMMUNITY_MANAGE)
    clean = _clean(actor, values)
    with transaction.atomic():
        reply = AutoReply.unscoped.create(merchant=actor.merchant, **clean)
        audit.record(
            actor, "community.auto_reply.created", reply, after=audit.snapshot(reply, FIELDS)
        )
    return reply


def update_auto_reply(actor: Actor, reply: AutoReply, /, **changes: Any) -> AutoReply:
    actor.require(Perm.COMMUNITY_MANAGE)
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise fail(sorted(unknown)[0], _("This field cannot be changed."))
    with transaction.atomic():
        locked = AutoReply.unscoped.select_for_update().get(pk=reply.pk, merchant=actor.merchant)
        current = {f: getattr(locked, f) for f in FIELDS}
        clean = _clean(actor, {**current, **changes})
        before = audit.snapshot(locked, FIELDS)
        for field, value in clean.items():
            setattr(locked, field, value)
        locked.save()
        audit.record(
            actor,
            "community.auto_reply.updated",
            locked,
            before=before,
            after=audit.snapshot(locked, FIELDS),
        )
    return locked


def delete_auto_reply(actor: Actor, reply: AutoReply) -> None:
    actor.require(Perm.COMMUNITY_MANAGE)
    with transaction.atomic():
        before = audit.snapshot(reply, FIELDS)
        audit.record(actor, "community.auto_reply.deleted", reply, before=before)
        AutoReply.unscoped.filter(pk=reply.pk, merchant=actor.merchant).delete()
