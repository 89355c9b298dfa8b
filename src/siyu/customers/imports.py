"""CSV import of customers: upload, background processing in batches, validation report.

:func:`start_import` checks the file (encoding, a phone column, size), stores it
in a :class:`CustomerImport` and queues :func:`process` (a django.tasks task)
after commit. :func:`process` works through the rows in batches of
``BATCH_SIZE``, saving ``processed_rows`` and the counts after each batch, so
the console's progress bar moves. Each row is validated first and written in
its own savepoint: a bad row is reported (row, field, reason) and skipped, the
good rows are imported.

Re-importing is idempotent. A row matches its customer by phone, else by an
external id, unionid or openid; only values that differ are written, so the
same file again counts every row as unchanged, and identities and tags are
never duplicated. A value an identity column gives that belongs to another
customer is reported, not moved.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from siyu.core import audit, clock, events
from siyu.core.actors import Actor
from siyu.core.errors import DomainError, InvalidInput, NotFound
from siyu.core.models import Membership, Merchant
from siyu.core.permissions import Perm
from siyu.core.tenancy import merchant_context
from siyu.customers import consent, import_csv, profile, services, timeline
from siyu.customers.events import CUSTOMER_UPDATED, IMPORT_FINISHED
from siyu.customers.import_csv import ImportRow, TagRef
from siyu.customers.models import (
    Consent,
    Customer,
    CustomerIdentity,
    CustomerImport,
    CustomerTag,
    Tag,
    TagGroup,
    TimelineEntry,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_BYTES = import_csv.MAX_BYTES
MAX_REPORTED_ERRORS = 1000
IMPORT_CHANNEL = "import"
# the tag group of tags an import names without a group (in the installation's language)
IMPORTED_GROUP = gettext_noop("Imported")


class RowProblem(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


# --- upload -------------------------------------------------------------------------------


def start_import(actor: Actor, *, file_name: str, content: bytes) -> CustomerImport:
    """Store the uploaded CSV and queue its processing (``Perm.SEGMENTS_MANAGE``).

    The same file uploaded again while its import is still queued or running is
    that import (a retried upload does not start a second one)."""
    actor.require(Perm.SEGMENTS_MANAGE)
    name = (file_name or "customers.csv").strip()[-200:] or "customers.csv"
    try:
        table = import_csv.read(content)
    except import_csv.FileProblem as exc:
        raise InvalidInput(str(exc), fields={"file": str(exc)}) from None
    if not table.rows:
        reason = _("The file has a header but no customers.")
        raise InvalidInput(reason, fields={"file": reason})
    digest = hashlib.sha256(content).hexdigest()
    with merchant_context(actor.merchant), transaction.atomic():
        pending = (
            CustomerImport.objects.filter(
                file_sha256=digest,
                status__in=[CustomerImport.Status.QUEUED, CustomerImport.Status.RUNNING],
            )
            .order_by("-id")
            .first()
        )
        if pending is not None:
            return pending
        job = CustomerImport.objects.create(
            merchant=actor.merchant,
            file_name=name,
            file_sha256=digest,
            content=content,
            total_rows=len(table.rows),
            errors=[
                {"row": 1, "field": column, "reason": _("Unknown column: ignored.")}
                for column in table.unknown
            ],
            created_by=actor.label[:150],
        )
        audit.record(
            actor,
            "customer.import.start",
            job,
            after={"file_name": name, "rows": job.total_rows, "sha256": digest},
        )
        transaction.on_commit(lambda: _enqueue(job.pk), robust=True)
    return job


def _enqueue(import_id: int) -> None:
    from siyu.customers.crm_tasks import run_customer_import

    run_customer_import.enqueue(import_id)


# --- processing -----------------------------------------------------------------------------


@dataclass
class Lookups:
    """Stores, guides and tags of the merchant, read once per import and filled as it goes."""

    stores: dict[str, int] = field(default_factory=dict)  # code → id
    guides: dict[str, Membership] = field(default_factory=dict)  # username → membership
    tags: dict[TagRef, Tag] = field(default_factory=dict)
    tags_by_name: dict[str, list[Tag]] = field(default_factory=dict)
    groups: dict[str, TagGroup] = field(default_factory=dict)

    @classmethod
    def load(cls, merchant: Merchant) -> Lookups:
        from siyu.stores.models import Store

        found = cls()
        found.stores = {code.lower(): pk for code, pk in Store.objects.values_list("code", "pk")}
        for membership in Membership.objects.filter(
            merchant=merchant, is_active=True
        ).select_related("user"):
            found.guides[membership.user.get_username().lower()] = membership
        found.groups = {g.name: g for g in TagGroup.objects.all()}
        for tag in Tag.objects.select_related("group"):
            found.tags[TagRef(tag.group.name, tag.name)] = tag
            found.tags_by_name.setdefault(tag.name, []).append(tag)
        return found


def process(import_id: int) -> str:
    """Run (or resume) an import; its final status. Safe to call again after a crash: rows
    already processed are skipped, and re-applying a row changes nothing."""
    job = CustomerImport.unscoped.select_related("merchant").filter(pk=import_id).first()
    if job is None or job.status in (CustomerImport.Status.DONE, CustomerImport.Status.FAILED):
        return job.status if job is not None else "missing"
    merchant = job.merchant
    with merchant_context(merchant), translation.override(merchant_language()):
        CustomerImport.objects.filter(pk=job.pk).update(status=CustomerImport.Status.RUNNING)
        try:
            table = import_csv.read(bytes(job.content))
        except import_csv.FileProblem as exc:
            _finish(
                job, CustomerImport.Status.FAILED, [{"row": 0, "field": "file", "reason": str(exc)}]
            )
            return job.status
        actor = Actor.system(merchant, label=f"import {job.file_name}"[:150])
        try:
            lookups = Lookups.load(merchant)
            parsed = import_csv.rows(table, clock.now().date(), start=job.processed_rows)
            while True:
                batch = [row for _i, row in zip(range(BATCH_SIZE), parsed, strict=False)]
                if not batch:
                    break
                _run_batch(job, batch, actor, lookups)
        except Exception as exc:
            logger.exception("customer import %s failed", job.pk)
            reason = _("The import stopped: %(error)s") % {"error": str(exc)[:200]}
            _finish(
                job, CustomerImport.Status.FAILED, [{"row": 0, "field": "file", "reason": reason}]
            )
            return job.status
        _finish(job, CustomerImport.Status.DONE, [])
    return job.status


def merchant_language() -> str:
    from django.conf import settings

    return settings.LANGUAGE_CODE


def _run_batch(job: CustomerImport, batch: list[ImportRow], actor: Actor, lookups: Lookups) -> None:
    with transaction.atomic():
        for row in batch:
            outcome = _import_row(job, row, actor, lookups)
            if outcome == "created":
                job.created_count += 1
            elif outcome == "updated":
                job.updated_count += 1
            elif outcome == "unchanged":
                job.unchanged_count += 1
            else:
                job.error_count += 1
                _report(job, row)
        job.processed_rows += len(batch)
        job.save(
            update_fields=[
                "processed_rows",
                "created_count",
                "updated_count",
                "unchanged_count",
                "error_count",
                "errors",
            ]
        )


def _report(job: CustomerImport, row: ImportRow) -> None:
    for column, reason in row.errors:
        if len(job.errors) >= MAX_REPORTED_ERRORS:
            return
        job.errors.append({"row": row.row, "field": column, "reason": str(reason)})


def _finish(job: CustomerImport, status: str, errors: list[dict[str, Any]]) -> None:
    job.status = status
    job.finished_at = clock.now()
    job.errors = [*job.errors, *errors]
    job.save(update_fields=["status", "finished_at", "errors"])
    events.emit(
        job.merchant,
        IMPORT_FINISHED,
        {
            "id": job.pk,
            "file_name": job.file_name,
            "status": status,
            "total_rows": job.total_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "errors": job.error_count,
        },
        aggregate=job,
    )


# --- one row -----------------------------------------------------------------------------------


@dataclass
class Resolved:
    store_id: int | None = None
    guide: Membership | None = None
    customer: Customer | None = None


def _resolve(row: ImportRow, lookups: Lookups) -> Resolved:
    """References and the matching customer, or ``row.errors`` filled."""
    resolved = Resolved()
    if row.store is not None:
        resolved.store_id = lookups.stores.get(row.store.lower())
        if resolved.store_id is None:
            row.errors.append(
                ("store", _("No store has the code “%(code)s”.") % {"code": row.store})
            )
    if row.guide is not None:
        resolved.guide = lookups.guides.get(row.guide.lower())
        if resolved.guide is None:
            row.errors.append(
                (
                    "guide",
                    _("No active staff member has the username “%(name)s”.") % {"name": row.guide},
                )
            )
    if row.errors:
        return resolved
    customer = Customer.objects.filter(phone=row.phone).first()
    holders = {
        kind: CustomerIdentity.objects.filter(kind=kind, value=value)
        .values_list("customer_id", flat=True)
        .first()
        for kind, value in row.identities.items()
    }
    if customer is None:
        for kind in ("external", "wechat_unionid", "wechat_openid"):
            holder = holders.get(kind)
            if holder is not None:
                customer = Customer.objects.filter(pk=holder).first()
                break
        if customer is not None and customer.phone != row.phone:
            column = next(
                k for k in ("external", "wechat_unionid", "wechat_openid") if holders.get(k)
            )
            row.errors.append(
                (
                    "external_id" if column == "external" else column,
                    _("This id belongs to a customer with another phone number."),
                )
            )
            return resolved
    for kind, holder in holders.items():
        if holder is not None and (customer is None or holder != customer.pk):
            row.errors.append(
                (
                    "external_id" if kind == "external" else kind,
                    _("This id already belongs to another customer."),
                )
            )
    resolved.customer = customer
    return resolved


def _import_row(job: CustomerImport, row: ImportRow, actor: Actor, lookups: Lookups) -> str:
    """``created``, ``updated``, ``unchanged`` or ``error`` (``row.errors`` filled)."""
    if row.errors:
        return "error"
    resolved = _resolve(row, lookups)
    if row.errors:
        return "error"
    try:
        with transaction.atomic():
            return _write_row(job, row, resolved, actor, lookups)
    except RowProblem as problem:
        row.errors.append((problem.column, problem.reason))
    except DomainError as exc:
        for name, reason in (exc.fields or {"row": exc.message}).items():
            row.errors.append((name, reason))
    return "error"


def _write_row(
    job: CustomerImport, row: ImportRow, resolved: Resolved, actor: Actor, lookups: Lookups
) -> str:
    created = resolved.customer is None
    customer = resolved.customer or services.get_or_create_customer(
        job.merchant, row.phone, actor=actor, name=row.name or "", join_channel=IMPORT_CHANNEL
    )
    customer.merchant = job.merchant
    changed: list[str] = []
    values: dict[str, Any] = {}
    for name in ("name", "gender", "city", "birthday"):
        value = getattr(row, name)
        if value is not None and getattr(customer, name) != value:
            values[name] = value
    if row.birthday is not None and customer.birth_month != row.birthday.month:
        values["birth_month"] = row.birthday.month
    if resolved.store_id is not None and customer.home_store_id != resolved.store_id:
        values["home_store_id"] = resolved.store_id
    if values:
        Customer.objects.filter(pk=customer.pk).update(**values)
        for name, value in values.items():
            setattr(customer, name, value)
        changed += sorted(
            {"home_store" if n == "home_store_id" else n for n in values} - {"birth_month"}
        )
    for kind, value in row.identities.items():
        try:
            _identity, added = profile.attach_identity(customer, kind, value)
        except DomainError:
            raise RowProblem(
                "external_id" if kind == "external" else kind,
                _("This id already belongs to another customer."),
            ) from None
        if added:
            changed.append("identity")
    guide = resolved.guide
    if guide is not None and customer.owner_guide_id != guide.pk and _assign_guide(customer, guide):
        changed.append("guide")
    for ref in row.tags:
        if _tag(actor, customer, _tag_for(ref, lookups)):
            changed.append("tags")
    if row.consent_marketing is not None and _consent(customer, row.consent_marketing, actor):
        changed.append("consent")
    if created or changed:
        timeline.record(
            customer,
            TimelineEntry.Kind.IMPORTED,
            {
                "import_id": job.pk,
                "file_name": job.file_name,
                "row": row.row,
                "changed": sorted(set(changed)),
            },
            actor=actor.label,
        )
    if not created and values:
        events.emit(
            job.merchant,
            CUSTOMER_UPDATED,
            {
                "id": customer.pk,
                "phone": customer.phone,
                "name": customer.name,
                "status": customer.status,
                "join_channel": customer.join_channel,
                "changed": sorted(
                    set(changed) & {"name", "gender", "city", "birthday", "home_store"}
                ),
            },
            aggregate=customer,
        )
    if created:
        return "created"
    return "updated" if changed else "unchanged"


def _assign_guide(customer: Customer, guide: Membership) -> bool:
    """Through the guides app's ``bind_to_guide`` (ownership history; a customer who already
    has another guide keeps them); directly before that app is there. Whether it changed."""
    try:
        from siyu.guides.services import bind_to_guide
    except ImportError:
        bind_to_guide = None  # type: ignore[assignment]
    if bind_to_guide is not None:
        if not bind_to_guide(customer, guide, kind="imported", actor_label="import"):
            return False
        customer.owner_guide_id = guide.pk
        return True
    now = clock.now()
    Customer.objects.filter(pk=customer.pk).update(owner_guide=guide, owner_since=now)
    customer.owner_guide, customer.owner_since = guide, now
    return True


def _consent(customer: Customer, allowed: bool, actor: Actor) -> bool:
    """Apply "consent_marketing": no refuses every channel, yes lifts refusals; whether any
    channel changed."""
    answers = consent.consents_of(customer)
    changed = False
    for channel, status in answers.items():
        refused = status == Consent.Status.REFUSED
        if allowed and refused:
            consent.set_consent(
                customer, channel, Consent.Status.GRANTED, source="import", actor=actor.label
            )
            changed = True
        elif not allowed and not refused:
            consent.set_consent(
                customer, channel, Consent.Status.REFUSED, source="import", actor=actor.label
            )
            changed = True
    return changed


# --- tags ------------------------------------------------------------------------------------


def _imported_group_name() -> str:
    """The group of tags named without one: "Imported" in the installation's language."""
    return _(IMPORTED_GROUP)


def _tag_for(ref: TagRef, lookups: Lookups) -> Tag:
    """The tag a row names: ``Group:Tag`` (group and tag made when missing), or a bare name —
    the merchant's only tag of that name, else the one in the "Imported" group."""
    if ref in lookups.tags:
        return lookups.tags[ref]
    if not ref.group:
        same_name = lookups.tags_by_name.get(ref.name, [])
        if len(same_name) == 1:
            return same_name[0]
    group_name = ref.group or _imported_group_name()
    group = lookups.groups.get(group_name)
    if group is None:
        group, _made = TagGroup.objects.get_or_create(name=group_name)
        lookups.groups[group_name] = group
    tag, _made = Tag.objects.get_or_create(group=group, name=ref.name)
    lookups.tags[TagRef(group_name, ref.name)] = tag
    lookups.tags[ref] = tag
    lookups.tags_by_name.setdefault(ref.name, []).append(tag)
    return tag


def _tag(actor: Actor, customer: Customer, tag: Tag) -> bool:
    """Put ``tag`` on the customer through the tags app (``tag_customer``) when it is there;
    whether it was added (False when the customer already had it)."""
    try:
        from siyu.customers.tags import tag_customer
    except ImportError:
        tag_customer = None  # type: ignore[assignment]
    if tag_customer is not None:
        return bool(tag_customer(actor, customer, tag, source=CustomerTag.Source.IMPORT))
    return _tag_directly(actor, customer, tag)


def _tag_directly(actor: Actor, customer: Customer, tag: Tag) -> bool:
    from django.db.models import F

    if CustomerTag.objects.filter(customer_id=customer.pk, tag_id=tag.pk).exists():
        return False
    CustomerTag.objects.create(
        merchant_id=customer.merchant_id,
        customer_id=customer.pk,
        tag=tag,
        source=CustomerTag.Source.IMPORT,
        added_by=actor.label[:150],
        added_at=clock.now(),
    )
    Tag.objects.filter(pk=tag.pk).update(customer_count=F("customer_count") + 1)
    timeline.record(
        customer,
        TimelineEntry.Kind.TAGGED,
        {"tag_id": tag.pk, "tag_name": tag.name, "group_name": tag.group.name, "source": "import"},
        actor=actor.label,
    )
    return True


# --- reads ------------------------------------------------------------------------------------


def import_of(import_id: int) -> CustomerImport:
    row = CustomerImport.objects.filter(pk=import_id).first()
    if row is None:
        raise NotFound(_("No such import."))
    return row


def percent_done(job: CustomerImport) -> int:
    if job.status == CustomerImport.Status.DONE or not job.total_rows:
        return 100 if job.status == CustomerImport.Status.DONE else 0
    return min(100, job.processed_rows * 100 // job.total_rows)
