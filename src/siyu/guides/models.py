"""Shopping guides' work: who owns which customer (and how that changed), transfers,
the material library, daily follow-up tasks, and per-merchant guide settings.

A guide is a staff ``core.Membership`` (normally with the shopping_guide role);
the current owner of a customer is ``customers.Customer.owner_guide``; every
change of owner is an ``OwnershipChange`` row (history is never edited).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class GuideSettings(MerchantOwned):
    """One row per merchant (created on first use with these defaults)."""

    attribution_window_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=7
    )
    transfer_limit = models.PositiveSmallIntegerField(_("transfers allowed per window"), default=2)
    transfer_window_days = models.PositiveSmallIntegerField(_("transfer window (days)"), default=90)
    dormant_days = models.PositiveSmallIntegerField(_("no order for (days)"), default=30)

    class Meta:
        verbose_name = _("guide settings")
        verbose_name_plural = _("guide settings")
        constraints = [models.UniqueConstraint(fields=["merchant"], name="guide_settings_once")]


class Transfer(MerchantOwned):
    """Operators moving a guide's customers and groups to another guide."""

    class Kind(models.TextChoices):
        DEPARTURE = "departure", _("Guide is leaving")
        IN_SERVICE = "in_service", _("Reassignment while in service")

    from_guide = models.ForeignKey("core.Membership", on_delete=models.PROTECT, related_name="+")
    to_guide = models.ForeignKey("core.Membership", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=200)
    message = models.CharField(_("message to each customer"), max_length=500, blank=True)
    customers_moved = models.PositiveIntegerField(default=0)
    customers_refused = models.PositiveIntegerField(default=0)  # over the transfer limit
    groups_moved = models.PositiveIntegerField(default=0)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    include_groups = models.BooleanField(_("move their groups too"), default=True)
    # The chosen customers (None: every customer of from_guide at the time of the run).
    customer_ids = models.JSONField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)  # customers to consider
    processed = models.PositiveIntegerField(default=0)  # progress of a background run
    last_customer_id = models.BigIntegerField(default=0)  # where a resumed run goes on
    # Customers refused: [{"customer_id", "name", "transfers", "reason", "released"}], capped.
    refused = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]


class OwnershipChange(MerchantOwned):
    """A customer's owner guide changed: bound by a guide's code, transferred, assigned, imported."""

    class Kind(models.TextChoices):
        BOUND = "bound", _("Scanned the guide's code")
        TRANSFER = "transfer", _("Transferred")
        ASSIGNED = "assigned", _("Assigned by staff")
        IMPORTED = "imported", _("Imported")
        RELEASED = "released", _("Released")

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="ownership_changes"
    )
    from_guide = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_guide = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    transfer = models.ForeignKey(
        Transfer, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    state = models.CharField(max_length=60, blank=True)  # the guide code's channel state
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("change of guide")
        verbose_name_plural = _("changes of guide")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "kind", "-changed_at"], name="ownership_customer"),
            models.Index(fields=["to_guide", "-changed_at"], name="ownership_to_guide"),
        ]


class Material(MerchantOwned):
    """Copy and pictures operators prepare for guides to share to WeChat Moments."""

    title = models.CharField(_("title"), max_length=80)
    text = models.TextField(pgettext_lazy("copy of a material", "text"), max_length=2000)
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(_("published"), default=True)
    share_count = models.PositiveIntegerField(_("shares"), default=0)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["-created_at", "-id"]


class MaterialImage(MerchantOwned):
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(_("image"), upload_to="materials/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class MaterialShare(MerchantOwned):
    """A guide marked a material as shared (once per guide and day counts as one share)."""

    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="shares")
    guide = models.ForeignKey("core.Membership", on_delete=models.CASCADE, related_name="+")
    shared_on = models.DateField()
    shared_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["material", "guide", "shared_on"], name="material_share_once_a_day"
            )
        ]


class GuideTask(MerchantOwned):
    """A follow-up a rule asked a guide to do for one customer."""

    class Kind(models.TextChoices):
        NEW_CUSTOMER = "new_customer", _("Say hello to a new customer")
        BIRTHDAY = "birthday", _("Birthday this week")
        DORMANT = "dormant", _("No order for a while")

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")

    guide = models.ForeignKey("core.Membership", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)
    due_on = models.DateField(_("day"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default="open")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["status", "due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["guide", "customer", "kind", "due_on"], name="guide_task_once"
            )
        ]
        indexes = [models.Index(fields=["guide", "due_on", "status"], name="guide_task_day")]
