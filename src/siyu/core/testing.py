"""Factories for tests and benchmarks: small functions, sensible defaults, explicit merchant."""

from __future__ import annotations

import itertools
from typing import Any

from django.test import Client

from siyu.core import services
from siyu.core.actors import Actor
from siyu.core.models import Membership, Merchant, User
from siyu.core.permissions import Role

_seq = itertools.count(1)


def next_id() -> int:
    return next(_seq)


def make_merchant(**fields: Any) -> Merchant:
    n = next_id()
    defaults: dict[str, Any] = {"slug": f"merchant-{n}", "name": f"Merchant {n}"}
    defaults.update(fields)
    return services.create_merchant(**defaults)


def make_user(username: str | None = None, password: str = "pass-word-123", **fields: Any) -> User:
    username = username or f"staff{next_id()}"
    return User.objects.create_user(username=username, password=password, **fields)


def make_staff(
    merchant: Merchant, role: str = Role.OWNER, user: User | None = None, **user_fields: Any
) -> Membership:
    user = user or make_user(**user_fields)
    return Membership.objects.create(user=user, merchant=merchant, role=role)


def actor_for(merchant: Merchant, role: str = Role.OWNER) -> Actor:
    return Actor.for_membership(make_staff(merchant, role))


def login(membership: Membership) -> Client:
    """A console client logged in as ``membership``'s user, working at its merchant."""
    client = Client()
    client.force_login(membership.user)
    session = client.session
    session["siyu_merchant_id"] = membership.merchant_id
    session.save()
    client.membership = membership  # type: ignore[attr-defined]
    return client


def staff_client(merchant: Merchant, role: str = Role.OWNER) -> Client:
    """A test client logged in as a new staff member of ``merchant`` with ``role``."""
    return login(make_staff(merchant, role))


def api_client(merchant: Merchant, role: str = Role.OWNER) -> Client:
    """A test client that sends a fresh API key of ``merchant`` with ``role``."""
    owner = Actor.system(merchant)
    issued = services.create_api_key(owner, name=f"key {next_id()}", role=role)
    client = Client(headers={"Authorization": f"Bearer {issued.secret}"})
    client.api_key = issued.api_key  # type: ignore[attr-defined]
    return client
