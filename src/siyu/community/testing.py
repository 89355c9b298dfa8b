"""Factories for community tests and benchmarks: real services, explicit merchant."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlparse

from asgiref.testing import ApplicationCommunicator

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


class WebsocketClient(ApplicationCommunicator):
    """A websocket test client for an ASGI application (Channels' own ``WebsocketCommunicator``
    lives in a package that imports daphne, which Siyu does not install)."""

    def __init__(self, application: Any, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        parsed = urlparse(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(application, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, Any]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        return True, response.get("subprotocol")

    async def send_json_to(self, data: Any) -> None:
        await self.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 5) -> Any:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        await self.wait(timeout)
