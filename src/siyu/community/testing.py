"""Factories for community tests and benchmarks: real services, explicit merchant."""

from __future__ import annotations

from typing import Any

from siyu.community import services
from siyu.community.models import CommunityGroup, JoinCode
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.core.testing import next_id


def make_group(actor: Actor, **fields: Any) -> CommunityGroup:
    values: dict[str, Any] = {"name": f"Group {next_id()}"}
    values.update(fields)
    with merchant_context(actor.merchant):
        return services.create_group(actor, **values)


def make_code(actor: Actor, groups: list[CommunityGroup] | None = None, **fields: Any) -> JoinCode:
    values: dict[str, Any] = {
        "kind": JoinCode.Kind.GROUPS,
        "name": f"Door poster {next_id()}",
        "state": "store_door",
        "groups": [g.pk for g in groups or []],
    }
    values.update(fields)
    with merchant_context(actor.merchant):
        code = services.create_code(actor, **values)
    return JoinCode.unscoped.select_related("merchant", "guide__user").get(pk=code.pk)


def bound(merchant: Merchant) -> Any:
    return merchant_context(merchant)
