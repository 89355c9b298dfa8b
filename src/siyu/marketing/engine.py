"""The send engine: one broadcast to its whole audience, set-based, in batches, in partitions.

:func:`send_broadcast` claims the broadcast with one conditional UPDATE
(``draft/scheduled/failed → sending``), so a retried task or a second worker does
nothing. The audience is then split into :func:`parallelism` partitions by customer id
(``customer_id % P = k``; P is ``SIYU_SEND_PARALLELISM``, 2 by default, at most the number of
cores, 1 on SQLite). On PostgreSQL each partition runs in its own thread with its own database
connection (closed when the thread ends); inside a caller's transaction, where other
connections could not see its rows, and on SQLite, the partitions run one after the other
in the caller's thread. Each partition streams its share of the audience's customer ids (one
SQL query over groups, a tag or a segment, read in chunks — never the whole audience in
memory) and, per batch of :data:`BATCH_SIZE` customers, in one transaction (the ids travel as
one parameter, an array on PostgreSQL and a JSON list on SQLite:
:func:`siyu.community.bulk.ids_in`):

1. takes the batch's cap locks (:func:`_lock`): PostgreSQL advisory transaction locks on the
   merchant and the slots ``customer_id % LOCK_SLOTS`` of the partition. Two broadcasts
   sending to the same customer at once take the same lock for that customer, whatever their
   number of partitions, so they take turns and the cap holds between them; the partitions of
   one broadcast never wait for each other (their customers are in different slots). Slots
   are taken in ascending order, so no two sends deadlock;
2. writes the batch's delivery log with one ``INSERT … SELECT … ON CONFLICT DO NOTHING
   RETURNING``: the skip reason of each customer is computed in SQL (blocked status,
   refused consent, quiet hours, the count of marketing messages sent since the period
   start) with the precedence of :mod:`siyu.marketing.policy`; customers already in
   the log (a resumed send) are left alone and not returned;
3. posts the message (text, then one per card) into the inboxes of the customers returned
   as sent (:func:`siyu.community.bulk.post_inbox_messages`: missing inboxes created with one
   ``INSERT … SELECT``, then one ``INSERT … SELECT`` per message part);
4. moves the broadcast's counters and progress with ``F()`` (partitions add up). When the
   broadcast is no longer ``sending`` (cancelled, or marked failed), the batch is rolled back
   and every partition stops after its current batch.

A group post is posted once per group before the partitions start; its delivery log lists
the members (blocked as skipped, the rest as sent). The caller makes the status transitions
once, after the partitions end: ``sent`` (and ``marketing.broadcast.sent`` emitted in the same
transaction) when all ended normally, nothing when the broadcast was cancelled, ``failed``
(the exception logged and raised) when a partition raised — the others stop after their
current batch, and a new send resumes where the log ends.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet

from siyu.core import clock, events
from siyu.core.actors import Actor
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context
from siyu.marketing import policy
from siyu.marketing.events import BROADCAST_SENT
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy

logger = logging.getLogger(__name__)

# Measured on PostgreSQL (200k audience, database CPU per customer): 50,000 a batch cost
# ~20 % less than 5,000 and ~10 % less than 20,000, for ~15 MB more memory. A batch is one
# transaction: what a cancel lets through and what a crash makes the resumed send redo.
BATCH_SIZE = 50_000
CLAIMABLE = (Broadcast.Status.DRAFT, Broadcast.Status.SCHEDULED, Broadcast.Status.FAILED)
# The cap locks: pg_advisory_xact_lock(merchant, LOCK_SPACE + customer_id % LOCK_SLOTS). The
# slots do not depend on the number of partitions (a partition k of P takes the slots s with
# s % P = k, P dividing LOCK_SLOTS), so sends with different P still exclude each other.
LOCK_SLOTS = 12
LOCK_SPACE = 0x51_5900  # keeps these keys apart from other uses of the two-key advisory locks


@dataclass(frozen=True)
class SendPlan:
    """What every batch of one send shares, decided once when the send starts."""

    broadcast_id: int
    merchant_id: int
    is_marketing: bool
    group_post: bool
    quiet: bool  # the send started inside the quiet hours
    cap_count: int
    period_start: datetime
    now: datetime
    consent_channel: str


def audience(broadcast: Broadcast) -> QuerySet[Any]:
    """The audience's customers (bound merchant) as one query: groups' active members, a tag's
    customers, or a segment's."""
    from siyu.customers.models import Customer, CustomerTag

    if broadcast.audience == Broadcast.Audience.GROUPS:
        from siyu.community.models import GroupMember

        members = GroupMember.objects.filter(
            group_id__in=broadcast.group_ids, left_at__isnull=True
        ).values("customer_id")
        return Customer.objects.filter(pk__in=members)
    if broadcast.audience == Broadcast.Audience.TAG:
        if broadcast.tag_id is None:
            return Customer.objects.none()
        tagged = CustomerTag.objects.filter(tag_id=broadcast.tag_id).values("customer_id")
        return Customer.objects.filter(pk__in=tagged)
    from siyu.customers.segments import segment_customers

    if broadcast.segment is None:
        return Customer.objects.none()
    return segment_customers(broadcast.segment)


def audience_ids(
    broadcast: Broadcast, chunk: int | None = None, *, partition: int = 0, partitions: int = 1
) -> Iterator[list[int]]:
    """The audience's customer ids (those with ``id % partitions = partition``) in ascending
    batches, streamed from one query."""
    chunk = chunk or BATCH_SIZE
    customers = audience(broadcast)
    if partitions > 1:
        customers = customers.alias(send_part=F("pk") % partitions).filter(send_part=partition)
    ids = customers.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=chunk)
    batch: list[int] = []
    for pk in ids:
        batch.append(pk)
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch


def _table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def _reason_sql(plan: SendPlan) -> tuple[str, list[Any]]:
    """The SQL CASE giving each customer ``c`` its skip reason ('' = send), with its params."""
    from siyu.customers.models import Consent, Customer

    whens = ["WHEN c.status = %s THEN %s"]
    params: list[Any] = [Customer.Status.BLOCKED.value, policy.BLOCKED]
    if plan.is_marketing and plan.group_post:
        if plan.quiet:
            whens.append("WHEN 1 = 1 THEN %s")
            params.append(policy.QUIET_HOURS)
    elif plan.is_marketing:
        whens.append(
            f"WHEN EXISTS (SELECT 1 FROM {_table(Consent)} k WHERE k.customer_id = c.id "  # noqa: S608
            "AND k.channel = %s AND k.status = %s) THEN %s"
        )
        params += [plan.consent_channel, Consent.Status.REFUSED.value, policy.OPTED_OUT]
        if plan.quiet:
            whens.append("WHEN 1 = 1 THEN %s")
            params.append(policy.QUIET_HOURS)
        whens.append(
            f"WHEN (SELECT COUNT(*) FROM {_table(Delivery)} p WHERE p.customer_id = c.id "  # noqa: S608
            "AND p.status = %s AND p.is_marketing = %s AND p.sent_at >= %s) >= %s THEN %s"
        )
        params += [
            Delivery.Status.SENT.value,
            True,
            connection.ops.adapt_datetimefield_value(plan.period_start),
            plan.cap_count,
            policy.CAPPED,
        ]
    return "CASE " + " ".join(whens) + " ELSE '' END", params


def write_deliveries(plan: SendPlan, customer_ids: Sequence[int]) -> list[tuple[int, str]]:
    """Insert the batch's delivery rows with their skip reasons; ``(customer id, reason)`` of
    the rows inserted now ('' = sent). One statement."""
    from siyu.community.bulk import ids_in
    from siyu.customers.models import Customer

    if not customer_ids:
        return []
    reason, reason_params = _reason_sql(plan)
    now = connection.ops.adapt_datetimefield_value(plan.now)
    among, among_params = ids_in("c.id", customer_ids)
    sql = (
        # table names come from the models, every value is a parameter
        f"INSERT INTO {_table(Delivery)} (merchant_id, broadcast_id, customer_id, status, "  # noqa: S608
        "skip_reason, is_marketing, sent_at) "
        "SELECT s.merchant_id, %s, s.id, CASE WHEN s.reason = '' THEN %s ELSE %s END, "
        "s.reason, %s, CASE WHEN s.reason = '' THEN %s ELSE NULL END "
        f"FROM (SELECT c.merchant_id, c.id, {reason} AS reason FROM {_table(Customer)} c "
        f"WHERE c.merchant_id = %s AND {among}) s "
        "WHERE 1 = 1 "  # SQLite: tells the SELECT's end from ON CONFLICT's
        "ON CONFLICT DO NOTHING RETURNING customer_id, skip_reason"
    )
    params: list[Any] = [
        plan.broadcast_id,
        Delivery.Status.SENT.value,
        Delivery.Status.SKIPPED.value,
        plan.is_marketing,
        now,
        *reason_params,
        plan.merchant_id,
        *among_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


def message_parts(broadcast: Broadcast) -> list[tuple[str, dict[str, Any] | None]]:
    """The messages each customer receives: the text with the first card, then one per card."""
    from siyu.community.cards import Via, build_card

    via = Via(source="broadcast", broadcast_id=broadcast.pk)
    built = [build_card(card, via=via) for card in broadcast.cards]
    if not built:
        return [(broadcast.text, None)]
    return [(broadcast.text, built[0]), *(("", card) for card in built[1:])]


def _post_to_groups(broadcast: Broadcast) -> int:
    from siyu.community.models import CommunityGroup, Conversation, Message
    from siyu.community.services import post_to_groups

    already = Message.objects.filter(
        broadcast_id=broadcast.pk, conversation__kind=Conversation.Kind.GROUP
    ).exists()
    if already:  # a failed send tried again: the groups have the post
        return 0
    groups = list(
        CommunityGroup.objects.filter(
            pk__in=broadcast.group_ids, status=CommunityGroup.Status.ACTIVE
        ).order_by("pk")
    )
    if not groups:
        return 0
    actor = Actor.system(broadcast.merchant, label=broadcast.created_by or "system")
    cards = broadcast.cards or [None]
    posted = 0
    for index, card in enumerate(cards):
        text = broadcast.text if index == 0 else ""
        posted += len(
            post_to_groups(actor, groups, text=text, card=card, broadcast_id=broadcast.pk)
        )
    return posted


def _plan(broadcast: Broadcast, now: datetime) -> SendPlan:
    from siyu.customers.models import Consent

    rules = MessagingPolicy.unscoped.get_or_create(merchant_id=broadcast.merchant_id)[0]
    zone = broadcast.merchant.time_zone
    group_post = broadcast.delivery == Broadcast.Delivery.GROUP_POST
    return SendPlan(
        broadcast_id=broadcast.pk,
        merchant_id=broadcast.merchant_id,
        is_marketing=broadcast.is_marketing,
        group_post=group_post,
        quiet=broadcast.is_marketing
        and policy.quiet_now(now, rules.quiet_start, rules.quiet_end, clock.zone(zone)),
        cap_count=rules.cap_count,
        period_start=policy.period_start(now, rules.cap_period, clock.zone(zone)),
        now=now,
        consent_channel=(Consent.Channel.GROUP if group_post else Consent.Channel.INBOX).value,
    )


def parallelism(wanted: int | None = None) -> int:
    """The number of partitions of a send: ``wanted`` (default: ``SIYU_SEND_PARALLELISM`` but at
    most the number of cores), lowered to a divisor of :data:`LOCK_SLOTS`; 1 on SQLite (one
    writer at a time)."""
    if connection.vendor != "postgresql":
        return 1
    if wanted is None:
        wanted = min(int(getattr(settings, "SEND_PARALLELISM", 2)), os.cpu_count() or 1)
    parts = max(1, min(wanted, LOCK_SLOTS))
    while LOCK_SLOTS % parts:
        parts -= 1
    return parts


def lock_slots(part: int, parts: int) -> list[int]:
    """The cap-lock slots of partition ``part`` of ``parts`` (ascending)."""
    return [slot for slot in range(LOCK_SLOTS) if slot % parts == part]


def _lock(plan: SendPlan, slots: Sequence[int]) -> None:
    """Take the batch's cap locks until the end of its transaction (PostgreSQL; SQLite has one
    writer at a time). In ascending order, in one statement."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, s)) FROM unnest(%s::int[]) AS s",
            [plan.merchant_id % 2**31, [LOCK_SPACE + slot for slot in sorted(slots)]],
        )


def _send_batch(
    plan: SendPlan,
    parts: Sequence[tuple[str, dict[str, Any] | None]],
    ids: Sequence[int],
    slots: Sequence[int] = tuple(range(LOCK_SLOTS)),
) -> bool:
    """One batch in one transaction; False when the broadcast is no longer sending (cancelled
    meanwhile, or failed in another partition): the batch is rolled back."""
    from siyu.community.bulk import post_inbox_messages

    with transaction.atomic():
        _lock(plan, slots)
        inserted = write_deliveries(plan, ids)
        sent = [customer_id for customer_id, reason in inserted if not reason]
        if sent and not plan.group_post:
            post_inbox_messages(sent, parts, broadcast_id=plan.broadcast_id, at=plan.now)
        moved = Broadcast.unscoped.filter(
            pk=plan.broadcast_id, status=Broadcast.Status.SENDING
        ).update(
            progress=F("progress") + len(ids),
            targeted_count=F("targeted_count") + len(inserted),
            sent_count=F("sent_count") + len(sent),
            skipped_count=F("skipped_count") + (len(inserted) - len(sent)),
        )
        if not moved:  # cancelled: this batch is not sent either
            transaction.set_rollback(True)
            return False
    return True


def _send_part(
    plan: SendPlan,
    row: Broadcast,
    parts: Sequence[tuple[str, dict[str, Any] | None]],
    part: int,
    count: int,
    stop: threading.Event,
) -> None:
    """Partition ``part`` of ``count``: its share of the audience, batch by batch, until it ends,
    the broadcast stops sending or ``stop`` is set (by a partition that stopped or failed)."""
    slots = lock_slots(part, count)
    for ids in audience_ids(row, partition=part, partitions=count):
        if stop.is_set():
            return
        if not _send_batch(plan, parts, ids, slots):
            stop.set()
            return


def _run_parts(
    plan: SendPlan,
    row: Broadcast,
    parts: Sequence[tuple[str, dict[str, Any] | None]],
    count: int,
) -> None:
    """Run the ``count`` partitions: in threads with their own connections, or one after the other
    here (one partition, or inside a transaction: other connections would not see its rows and
    would wait for its lock on the broadcast). Raises the first exception of a partition, after
    the others stopped."""
    stop = threading.Event()
    if count == 1 or connection.in_atomic_block:
        for part in range(count):
            if stop.is_set():
                break
            _send_part(plan, row, parts, part, count, stop)
        return
    errors: list[BaseException] = []

    def work(part: int) -> None:
        try:
            with merchant_context(row.merchant):
                _send_part(plan, row, parts, part, count, stop)
        except BaseException as error:  # recorded, raised by the caller after the join
            errors.append(error)
            stop.set()
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=work, args=(part,), name=f"send-{plan.broadcast_id}-{part}")
        for part in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _finish(plan: SendPlan, merchant: Merchant) -> None:
    from django.db.models import Count

    with transaction.atomic():
        finished = Broadcast.unscoped.filter(
            pk=plan.broadcast_id, status=Broadcast.Status.SENDING
        ).update(status=Broadcast.Status.SENT, finished_at=clock.now())
        if not finished:
            return
        row = Broadcast.unscoped.get(pk=plan.broadcast_id)
        reasons = dict(
            Delivery.unscoped.filter(broadcast_id=row.pk, status=Delivery.Status.SKIPPED)
            .values_list("skip_reason")
            .annotate(n=Count("id"))
            .values_list("skip_reason", "n")
        )
        events.emit(
            merchant,
            BROADCAST_SENT,
            {
                "id": row.pk,
                "name": row.name,
                "audience": row.audience,
                "delivery": row.delivery,
                "is_marketing": row.is_marketing,
                "targeted": row.targeted_count,
                "sent": row.sent_count,
                "skipped": row.skipped_count,
                "reasons": reasons,
                "started_at": row.started_at,
                "finished_at": row.finished_at,
            },
            aggregate=row,
        )


def send_broadcast(broadcast: Broadcast | int, *, partitions: int | None = None) -> Broadcast:
    """Send ``broadcast`` to its audience now (see the module docstring). Idempotent: when it is
    already sending, sent or cancelled, nothing happens and the row is returned as it is.
    ``partitions``: how many (default: :func:`parallelism`; lowered to a divisor of 12)."""
    pk = broadcast if isinstance(broadcast, int) else broadcast.pk
    row = Broadcast.unscoped.select_related("merchant", "segment").get(pk=pk)
    merchant = row.merchant
    with merchant_context(merchant):
        now = clock.now()
        claimed = Broadcast.unscoped.filter(pk=pk, status__in=CLAIMABLE).update(
            status=Broadcast.Status.SENDING, started_at=now, finished_at=None, progress=0
        )
        if not claimed:
            return Broadcast.unscoped.get(pk=pk)
        row.refresh_from_db()
        try:
            plan = _plan(row, now)
            if plan.group_post and not plan.quiet:
                with transaction.atomic():
                    _post_to_groups(row)
            messages = [] if plan.group_post else message_parts(row)
            _run_parts(plan, row, messages, parallelism(partitions))
            _finish(plan, merchant)
        except Exception:
            logger.exception("broadcast %s failed", pk)
            Broadcast.unscoped.filter(pk=pk, status=Broadcast.Status.SENDING).update(
                status=Broadcast.Status.FAILED, finished_at=clock.now()
            )
            raise
        return Broadcast.unscoped.get(pk=pk)
