"""The referral forest: who invited whom, down any number of levels.

Referrals that are not blocked form a forest — a customer has at most one inviter (the
invitee column is unique) and an inviter joined before every friend they invited, so there
are no cycles. A customer's subtree (the friends they brought, the friends those brought, …)
is read with one recursive common table expression, which PostgreSQL and SQLite both run
(``WITH RECURSIVE``); ``MAX_DEPTH`` bounds the walk all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

MAX_DEPTH = 50
MAX_NODES = 2000

_SUBTREE = """
WITH RECURSIVE subtree(customer_id, parent_id, depth) AS (
    SELECT invitee_id, inviter_id, 1 FROM referrals_referral
     WHERE merchant_id = %(merchant)s AND inviter_id = %(root)s AND status <> 'blocked'
    UNION ALL
    SELECT r.invitee_id, r.inviter_id, s.depth + 1
      FROM referrals_referral r JOIN subtree s ON r.inviter_id = s.customer_id
     WHERE r.merchant_id = %(merchant)s AND r.status <> 'blocked' AND s.depth < %(max_depth)s
)
"""

_ANCESTORS = """
WITH RECURSIVE chain(customer_id, depth) AS (
    SELECT inviter_id, 1 FROM referrals_referral
     WHERE merchant_id = %(merchant)s AND invitee_id = %(root)s AND status <> 'blocked'
    UNION ALL
    SELECT r.inviter_id, c.depth + 1
      FROM referrals_referral r JOIN chain c ON r.invitee_id = c.customer_id
     WHERE r.merchant_id = %(merchant)s AND r.status <> 'blocked' AND c.depth < %(max_depth)s
)
SELECT customer_id FROM chain ORDER BY depth DESC
"""


@dataclass(frozen=True)
class Node:
    customer_id: int
    parent_id: int
    depth: int


@dataclass(frozen=True)
class Shape:
    """A subtree's size (everyone under the root), depth (its deepest level) and per level."""

    size: int
    depth: int
    per_level: list[tuple[int, int]]  # (level, customers), level 1 = invited by the root


def _params(merchant_id: int, root_id: int) -> dict[str, int]:
    return {"merchant": merchant_id, "root": root_id, "max_depth": MAX_DEPTH}


def shape(merchant_id: int, root_id: int) -> Shape:
    with connection.cursor() as cursor:
        cursor.execute(
            _SUBTREE + "SELECT depth, COUNT(*) FROM subtree GROUP BY depth ORDER BY depth",  # noqa: S608  (constants; values are parameters)
            _params(merchant_id, root_id),
        )
        levels = [(int(d), int(n)) for d, n in cursor.fetchall()]
    return Shape(
        size=sum(n for _d, n in levels),
        depth=max((d for d, _n in levels), default=0),
        per_level=levels,
    )


def nodes(merchant_id: int, root_id: int, limit: int = MAX_NODES) -> list[Node]:
    """The subtree's members, level by level (at most ``limit``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SUBTREE  # noqa: S608  (constants; values are parameters)
            + "SELECT customer_id, parent_id, depth FROM subtree "
            + "ORDER BY depth, customer_id LIMIT %(limit)s",
            {**_params(merchant_id, root_id), "limit": limit},
        )
        return [Node(int(c), int(p), int(d)) for c, p, d in cursor.fetchall()]


def ancestors(merchant_id: int, customer_id: int) -> list[int]:
    """Who invited the customer, who invited them, …: the root first."""
    with connection.cursor() as cursor:
        cursor.execute(_ANCESTORS, _params(merchant_id, customer_id))
        return [int(c) for (c,) in cursor.fetchall()]


def ordered(found: list[Node], root_id: int) -> list[Node]:
    """The nodes depth first (each friend right under who invited them), for an indented list."""
    children: dict[int, list[Node]] = {}
    for node in found:
        children.setdefault(node.parent_id, []).append(node)
    result: list[Node] = []
    stack = list(reversed(children.get(root_id, [])))
    while stack:
        node = stack.pop()
        result.append(node)
        stack.extend(reversed(children.get(node.customer_id, [])))
    return result
