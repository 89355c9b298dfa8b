"""Finding and creating the customers an import refers to, set-based per batch.

An external customer id is matched to a :class:`~siyu.customers.models.Customer` through its
``external`` :class:`~siyu.customers.models.CustomerIdentity` first, then (customers files
only) by phone. Ids still unknown become new customers: ``join_channel = "import"`` (or the
file's channel), phone blank unless given, ``created_at`` the file's created time or the
first time the import saw them (an order's, a membership's or a referral's time), each with
its external identity. Several external ids with the same phone are one customer.

Everything here is one query per step for the whole batch, never one per row. Resolved ids
are cached for the rest of the import (bounded), so a customer with a thousand orders is
looked up once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from siyu.core.models import Merchant
from siyu.customers.models import Customer, CustomerIdentity

EXTERNAL = CustomerIdentity.Kind.EXTERNAL
IMPORT_CHANNEL = "import"
CHUNK = 2000
INSERT_ROWS = 500  # customers per INSERT (parameters stay under SQLite's limit)
CACHE_LIMIT = 2_000_000


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class CustomerResolver:
    """External id → customer id for one merchant, creating the missing customers."""

    def __init__(self, merchant: Merchant) -> None:
        self.merchant = merchant
        self.ids: dict[str, int] = {}
        self.created = 0

    def known(self, keys: Iterable[str]) -> dict[str, int]:
        """The ids already in the database (no writes)."""
        missing = sorted({k for k in keys if k not in self.ids})
        found: dict[str, int] = {}
        for chunk in _chunks(missing):
            found.update(
                CustomerIdentity.objects.filter(kind=EXTERNAL, value__in=chunk).values_list(
                    "value", "customer_id"
                )
            )
        self._remember(found)
        return found

    def _remember(self, found: dict[str, int]) -> None:
        if len(self.ids) + len(found) > CACHE_LIMIT:
            self.ids.clear()
        self.ids.update(found)

    def resolve(
        self,
        first_seen: dict[str, datetime],
        *,
        phones: dict[str, str] | None = None,
        names: dict[str, str] | None = None,
        channels: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Customer ids of every key of ``first_seen``, creating those that do not exist.

        ``first_seen`` maps each external id to its created time (or the earliest time the
        batch saw it); ``phones``, ``names`` and ``channels`` give new customers their
        profile (customers files)."""
        phones = phones or {}
        self.known(first_seen)
        result = {k: self.ids[k] for k in first_seen if k in self.ids}
        unknown = [k for k in first_seen if k not in result]
        if not unknown:
            return result
        link: dict[str, int] = {}  # keys matched by phone: a new identity, no new customer
        by_phone = sorted({phones[k] for k in unknown if phones.get(k)})
        if by_phone:
            found_phones: dict[str, int] = {}
            for chunk in _chunks(by_phone):
                found_phones.update(
                    Customer.objects.filter(phone__in=chunk).values_list("phone", "pk")
                )
            link = {k: found_phones[phones[k]] for k in unknown if phones.get(k) in found_phones}
        to_create: dict[str, list[str]] = {}  # one new customer per phone, else per key
        for key in unknown:
            if key in link:
                continue
            group = phones.get(key) or f"\x00{key}"
            to_create.setdefault(group, []).append(key)
        if to_create:
            created = self._create(to_create, first_seen, phones, names or {}, channels or {})
            link.update(created)
        self._add_identities(link)
        self._remember(link)
        result.update(link)
        return result

    def _add_identities(self, link: dict[str, int]) -> None:
        """An external identity per key (one multi-row insert per chunk; a key another
        import added meanwhile is left as it is)."""
        ops = connection.ops
        table = ops.quote_name(CustomerIdentity._meta.db_table)
        now = ops.adapt_datetimefield_value(timezone.now())
        items = list(link.items())
        with connection.cursor() as cursor:
            for start in range(0, len(items), CHUNK):
                chunk = items[start : start + CHUNK]
                cursor.execute(
                    f"INSERT INTO {table} (merchant_id, customer_id, kind, value, created_at) "  # noqa: S608
                    f"VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * len(chunk))} "
                    "ON CONFLICT (merchant_id, kind, value) DO NOTHING",
                    [
                        v
                        for key, pk in chunk
                        for v in (self.merchant.pk, pk, str(EXTERNAL), key, now)
                    ],
                )

    def _create(
        self,
        groups: dict[str, list[str]],
        first_seen: dict[str, datetime],
        phones: dict[str, str],
        names: dict[str, str],
        channels: dict[str, str],
    ) -> dict[str, int]:
        now = timezone.now()
        # One prototype gives every column its default (so a column added to Customer later
        # is filled as the ORM would), then one multi-row INSERT … RETURNING id per chunk:
        # the given created_at is kept (auto_now_add would overwrite it), and the ids come
        # back in the order of the rows, as the ORM's bulk_create relies on too.
        proto = Customer(merchant=self.merchant, join_channel=IMPORT_CHANNEL, created_at=now)
        fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
        base = [f.get_db_prep_save(getattr(proto, f.attname), connection) for f in fields]
        slot = {f.attname: i for i, f in enumerate(fields)}
        rows: list[list[Any]] = []
        for keys in groups.values():
            head = keys[0]
            row = list(base)
            row[slot["phone"]] = phones.get(head, "")
            row[slot["name"]] = names.get(head, "")
            row[slot["join_channel"]] = channels.get(head) or IMPORT_CHANNEL
            created = min(first_seen.get(k) or now for k in keys)
            row[slot["created_at"]] = connection.ops.adapt_datetimefield_value(created)
            rows.append(row)
        table = connection.ops.quote_name(Customer._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column or f.attname) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        ids: list[int] = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), INSERT_ROWS):
                chunk = rows[start : start + INSERT_ROWS]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(chunk))} "  # noqa: S608
                    "RETURNING id",
                    [value for row in chunk for value in row],
                )
                ids.extend(r[0] for r in cursor.fetchall())
        customers = rows
        self.created += len(customers)
        return {
            key: customer_id
            for keys, customer_id in zip(groups.values(), ids, strict=True)
            for key in keys
        }
