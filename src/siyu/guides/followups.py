"""Guides' daily follow-up tasks: generated from the rules, finished by the guide.

:func:`generate_tasks` reads the facts of every owned customer that a rule could
concern (a few queries per merchant), asks :mod:`siyu.guides.taskrules` which tasks
are due, and inserts them with ``ignore_conflicts`` behind the unique constraint
``(guide, customer, kind, due_on)`` — running it again, or hourly, creates nothing
twice. It also closes ``new_customer`` tasks whose guide has since written to the
customer. :func:`finish_task` is the guide marking a task done or skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from siyu.core import clock
from siyu.core.errors import Conflict, InvalidInput, NotFound
from siyu.core.models import Membership, Merchant
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer
from siyu.guides import taskrules
from siyu.guides.models import GuideTask
from siyu.guides.services import guide_settings

Status = GuideTask.Status
NOTE_MAX = 200


def _written_pairs(customer_ids: list[int]) -> set[tuple[int, int]]:
    """(customer, staff) pairs where the staff member wrote in their 1:1 chat."""
    from siyu.community.models import Message

    pairs: set[tuple[int, int]] = set()
    for start in range(0, len(customer_ids), 2000):
        chunk = customer_ids[start : start + 2000]
        rows = (
            Message.objects.filter(
                conversation__kind="direct",
                conversation__customer_id__in=chunk,
                sender_kind="staff",
            )
            .values_list("conversation__customer_id", "sender_staff_id")
            .distinct()
        )
        pairs.update((c, s) for c, s in rows if s is not None)
    return pairs


def _facts(merchant: Merchant, now: datetime) -> list[taskrules.CustomerFacts]:
    rules = guide_settings(merchant)
    zone = clock.zone(merchant.time_zone)
    today = taskrules.local_date(now, zone)
    monday, sunday = taskrules.week_of(today)
    months = {monday.month, sunday.month}
    cutoff = now - timedelta(days=rules.dormant_days)
    owned = Customer.objects.filter(owner_guide__isnull=False, owner_guide__is_active=True)
    wanted = owned.filter(
        Q(owner_since__gte=now - taskrules.NEW_WINDOW)
        | Q(birth_month__in=months)
        | Q(last_order_at__lte=cutoff)
        | Q(last_order_at__isnull=True, owner_since__lte=cutoff)
    ).values_list("pk", "owner_guide_id", "owner_since", "birthday", "last_order_at", "total_spent")
    rows = list(wanted)
    new_ids = [r[0] for r in rows if r[2] is not None and r[2] >= now - taskrules.NEW_WINDOW]
    written = _written_pairs(new_ids) if new_ids else set()
    recent = set(
        GuideTask.objects.filter(
            kind=GuideTask.Kind.DORMANT,
            due_on__gt=today - timedelta(days=taskrules.DORMANT_REPEAT_DAYS),
        ).values_list("guide_id", "customer_id")
    )
    return [
        taskrules.CustomerFacts(
            customer_id=pk,
            guide_id=guide_id,
            owner_since=owner_since,
            birthday=birthday,
            last_order_at=last_order_at,
            total_spent=total_spent,
            guide_has_written=(pk, guide_id) in written,
            dormant_task_recently=(guide_id, pk) in recent,
        )
        for pk, guide_id, owner_since, birthday, last_order_at, total_spent in rows
    ]


def generate_tasks(merchant: Merchant, *, now: datetime | None = None) -> int:
    """Create today's due tasks of the merchant's guides (idempotent); how many were new."""
    now = now or clock.now()
    with merchant_context(merchant):
        close_answered_new_customer_tasks(now=now)
        rules = guide_settings(merchant)
        due = taskrules.due_tasks(
            _facts(merchant, now),
            now=now,
            zone=clock.zone(merchant.time_zone),
            dormant_days=rules.dormant_days,
        )
        if not due:
            return 0
        before = GuideTask.objects.count()
        GuideTask.objects.bulk_create(
            [
                GuideTask(
                    merchant=merchant,
                    guide_id=t.guide_id,
                    customer_id=t.customer_id,
                    kind=t.kind,
                    due_on=t.due_on,
                    created_at=now,
                )
                for t in due
            ],
            batch_size=1000,
            ignore_conflicts=True,
        )
        return GuideTask.objects.count() - before


def generate_all(*, now: datetime | None = None) -> int:
    """Every active merchant's tasks (the hourly job)."""
    created = 0
    for merchant in Merchant.objects.filter(status=Merchant.Status.ACTIVE):
        created += generate_tasks(merchant, now=now)
    return created


def close_answered_new_customer_tasks(*, now: datetime | None = None) -> int:
    """Mark done the open ``new_customer`` tasks whose guide has written to the customer."""
    open_tasks = list(
        GuideTask.objects.filter(kind=GuideTask.Kind.NEW_CUSTOMER, status=Status.OPEN).values_list(
            "pk", "customer_id", "guide_id"
        )
    )
    if not open_tasks:
        return 0
    written = _written_pairs(sorted({c for _pk, c, _g in open_tasks}))
    done = [pk for pk, c, g in open_tasks if (c, g) in written]
    return GuideTask.objects.filter(pk__in=done, status=Status.OPEN).update(
        status=Status.DONE, finished_at=now or clock.now(), note=_("Wrote to the customer")
    )


def guide_wrote_to(guide: Membership, customer: Customer) -> int:
    """The guide wrote to the customer: their open ``new_customer`` task is done."""
    return GuideTask.objects.filter(
        guide=guide, customer=customer, kind=GuideTask.Kind.NEW_CUSTOMER, status=Status.OPEN
    ).update(status=Status.DONE, finished_at=clock.now(), note=_("Wrote to the customer"))


def finish_task(guide: Membership, task_id: int, status: str, note: str = "") -> GuideTask:
    """The guide marks one of their tasks done or skipped (another guide's task: 404)."""
    if status not in (Status.DONE, Status.SKIPPED):
        raise InvalidInput(_("Choose done or skip."), fields={"status": _("Choose done or skip.")})
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise InvalidInput(
            _("The note is too long."), fields={"note": _("At most 200 characters.")}
        )
    with transaction.atomic():
        task = GuideTask.objects.select_for_update().filter(pk=task_id, guide=guide).first()
        if task is None:
            raise NotFound(_("No such task."))
        if task.status != Status.OPEN:
            if task.status == status:
                return task  # the same answer again (a double tap) changes nothing
            raise Conflict(
                _("This task is already finished."),
                fields={"status": _("This task is already finished.")},
            )
        task.status = status
        task.note = note
        task.finished_at = clock.now()
        task.save(update_fields=["status", "note", "finished_at"])
    return task
