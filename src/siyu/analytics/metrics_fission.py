"""Fission: invitations, invitees who bought, K-factor and the depth of referral trees.

Over ``ReferralLink`` (who brought whom, when, through what kind and activity) and ``Sale``.

* invitations: links whose ``invited_at`` falls in the period's local days;
* inviters: distinct customers who invited in the period;
* invitees who bought: of those invitees, those with a kept sale placed at or after their
  ``invited_at`` (at any time up to now, so a recent period still grows);
* K-factor = invitees who bought ÷ inviters;
* tree depth: a tree starts at an inviter nobody invited; a link's level is 1 for the
  root's invitees, 2 for theirs, ...; the depth of a tree is its deepest level. Walked with
  a recursive CTE (``WITH RECURSIVE``, the same text on SQLite and PostgreSQL), capped at
  :data:`MAX_DEPTH` levels so a cycle in imported data cannot run away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from siyu.analytics import metrics_sql as q
from siyu.analytics.models import ReferralLink
from siyu.analytics.reference import Period
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant

LINK = ReferralLink._meta.db_table
MAX_DEPTH = 64
FISSION_KEYS = {"kind": "l.kind", "activity": "l.activity_id", "inviter": "l.inviter_id"}


@dataclass(frozen=True)
class Fission:
    invitations: int = 0
    inviters: int = 0
    invitees_bought: int = 0

    @property
    def k_factor(self) -> float | None:
        return self.invitees_bought / self.inviters if self.inviters else None

    @property
    def conversion(self) -> float | None:
        return self.invitees_bought / self.invitations if self.invitations else None


def fission(
    merchant: Merchant,
    period: Period,
    by: str | None = None,
    kind: str = "",
    activity_id: int | None = None,
) -> dict[Any, Fission]:
    """Fission numbers of the period, ``{None: ...}`` or per kind, activity or inviter."""
    if by is not None and by not in FISSION_KEYS:
        raise InvalidInput(
            _("Unknown dimension."),
            fields={"by": _("must be one of: %s") % ", ".join(FISSION_KEYS)},
        )
    key = FISSION_KEYS[by] if by else "NULL"
    group = f" GROUP BY {key}" if by else ""  # PostgreSQL refuses GROUP BY NULL
    where = q.Where()
    where.add("l.merchant_id = %s", merchant.pk)
    where.add("l.invited_at >= %s", q.db_datetime(q.local_midnight_utc(merchant, period.start)))
    where.add("l.invited_at < %s", q.db_datetime(q.local_midnight_utc(merchant, period.end)))
    if kind:
        where.add("l.kind = %s", kind)
    if activity_id is not None:
        where.add("l.activity_id = %s", activity_id)
    sql = f"""
        SELECT {key}, COUNT(*), COUNT(DISTINCT l.inviter_id),
               SUM(CASE WHEN EXISTS (
                   SELECT 1 FROM {q.SALE} s
                   WHERE s.merchant_id = l.merchant_id AND s.customer_id = l.invitee_id
                     AND s.placed_at >= l.invited_at AND {q.KEPT}
               ) THEN 1 ELSE 0 END)
        FROM {LINK} l WHERE {where.sql}{group}
    """  # noqa: S608
    rows = q.fetch(sql, where.params)
    result = {k: Fission(int(a), int(b), int(c or 0)) for k, a, b, c in rows}
    if by is None:
        return {None: result.get(None, Fission())}
    return result


@dataclass(frozen=True)
class Trees:
    trees: int  # roots: inviters nobody invited
    levels: dict[int, int]  # level → customers invited at that level
    depth: int  # the deepest level of any tree (0 without links)
    deepest_root: int | None  # the root of a deepest tree (the smallest id among equals)


def referral_trees(merchant: Merchant, kind: str = "", activity_id: int | None = None) -> Trees:
    """The referral forest of every link (of one kind or activity when given)."""
    link_where = "merchant_id = %s"
    params: list[Any] = [merchant.pk]
    if kind:
        link_where += " AND kind = %s"
        params.append(kind)
    if activity_id is not None:
        link_where += " AND activity_id = %s"
        params.append(activity_id)
    links = f"(SELECT inviter_id, invitee_id FROM {LINK} WHERE {link_where})"  # noqa: S608
    sql = f"""
        WITH RECURSIVE tree(customer_id, root_id, level) AS (
            SELECT l.invitee_id, l.inviter_id, 1 FROM {links} l
            WHERE NOT EXISTS (SELECT 1 FROM {links} p WHERE p.invitee_id = l.inviter_id)
            UNION ALL
            SELECT l.invitee_id, t.root_id, t.level + 1
            FROM {links} l JOIN tree t ON l.inviter_id = t.customer_id
            WHERE t.level < %s
        )
        SELECT root_id, level, COUNT(*) FROM tree GROUP BY root_id, level
    """  # noqa: S608
    rows = q.fetch(sql, [*params, *params, *params, MAX_DEPTH])
    levels: dict[int, int] = {}
    roots: set[int] = set()
    depth, deepest = 0, None
    for root, level, count in sorted(rows):
        root, level = int(root), int(level)
        roots.add(root)
        levels[level] = levels.get(level, 0) + int(count)
        if level > depth:
            depth, deepest = level, root
    return Trees(trees=len(roots), levels=dict(sorted(levels.items())), depth=depth,
                 deepest_root=deepest)  # fmt: skip
