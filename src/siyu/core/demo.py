"""What the demo generators of every app share.

``siyu demo`` builds one believable merchant by calling ``seed(ctx)`` in each
app's ``demo.py`` in dependency order (stores before catalog, and so on).
``STEPS`` is an int, or a function of ``ctx.options`` when the amount of work
depends on them (``--customers N``). Generators draw every random choice from ``ctx.rng`` (seeded, so a demo is
reproducible), report progress through ``ctx.advance``, and add the logins
they create to ``ctx.logins`` so the command can print them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from siyu.core.actors import Actor
from siyu.core.models import Merchant

DEMO_PASSWORD = "siyu-demo-2026"  # noqa: S105  (printed on purpose: it is a local demo)


@dataclass
class Login:
    role: str
    username: str
    password: str
    note: str = ""


@dataclass
class DemoContext:
    merchant: Merchant
    owner: Actor
    rng: random.Random
    advance: Callable[[int], None] = lambda n: None
    logins: list[Login] = field(default_factory=list)
    # what one generator leaves for the next (e.g. "stores": [Store, ...])
    shared: dict[str, Any] = field(default_factory=dict)
    # command-line choices, e.g. {"customers": 20000} from `siyu demo --customers N`
    options: dict[str, Any] = field(default_factory=dict)
