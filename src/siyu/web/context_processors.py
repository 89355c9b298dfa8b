"""Template context of every console page: the actor, the merchant switcher, the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from siyu.web.navigation import nav_for


def console(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "siyu_actor", None)
    if actor is None:
        return {"actor": None}
    match = getattr(request, "resolver_match", None)
    current = f"{match.namespace}:{match.url_name}" if match else ""
    return {
        "actor": actor,
        "merchant": actor.merchant,
        "memberships": getattr(request, "siyu_memberships", []),
        "nav": nav_for(actor, current),
    }
