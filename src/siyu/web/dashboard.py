"""The console dashboard's figures (read-only; combines selectors of several apps)."""

from __future__ import annotations

from typing import Any

from siyu.core.actors import Actor
from siyu.core.models import AuditEntry
from siyu.core.permissions import Perm


def overview(actor: Actor) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if actor.can(Perm.AUDIT_VIEW):
        context["recent_activity"] = list(AuditEntry.objects.order_by("-created_at", "-id")[:8])
    return context
