"""Targeted messages (broadcasts), the per-merchant messaging policy, the delivery log,
and attribution touches (which chat, card or link a customer came to the shop from).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class MessagingPolicy(MerchantOwned):
    """How often a customer may receive marketing messages, and when not (one per merchant)."""

    class Period(models.TextChoices):
        DAY = "day", _("per day")
        WEEK = "week", _("per week")
        MONTH = "month", _("per month")

    cap_count = models.PositiveSmallIntegerField(_("messages at most"), default=1)
    cap_period = models.CharField(_("per"), max_length=5, choices=Period.choices, default="day")
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)

    class Meta:
        verbose_name = _("messaging policy")
        verbose_name_plural = _("messaging policies")
        constraints = [models.UniqueConstraint(fields=["merchant"], name="messaging_policy_once")]


class Broadcast(MerchantOwned):
    """A targeted message: text and cards, to groups, a tag or a segment, now or later."""

    class Audience(models.TextChoices):
        GROUPS = "groups", _("Groups")
        TAG = "tag", _("Tag")
        SEGMENT = "segment", _("Segment")

    class Delivery(models.TextChoices):
        GROUP_POST = "group_post", _("Post in the groups")
        INBOX = "inbox", _("1:1 message to each customer")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("message status", "Draft")
        SCHEDULED = "scheduled", pgettext_lazy("message status", "Scheduled")
        SENDING = "sending", pgettext_lazy("message status", "Sending")
        SENT = "sent", pgettext_lazy("message status", "Sent")
        CANCELLED = "cancelled", pgettext_lazy("message status", "Cancelled")
        FAILED = "failed", pgettext_lazy("message status", "Failed")

    name = models.CharField(_("name"), max_length=80)
    text = models.TextField(_("text"), max_length=2000, blank=True)
    cards = models.JSONField(_("cards"), default=list, blank=True)
    audience = models.CharField(_("audience"), max_length=8, choices=Audience.choices)
    group_ids = models.JSONField(default=list, blank=True)
    tag = models.ForeignKey(
        "customers.Tag", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    segment = models.ForeignKey(
        "customers.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.CharField(_("delivery"), max_length=10, choices=Delivery.choices)
    is_marketing = models.BooleanField(_("marketing (caps and opt-outs apply)"), default=True)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default="draft")
    targeted_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    progress = models.PositiveIntegerField(default=0)  # customers processed so far
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["scheduled_at"],
                name="broadcast_due",
                condition=models.Q(status="scheduled"),
            )
        ]


class Delivery(MerchantOwned):
    """One customer's line in a broadcast's delivery log.

    Written by the send engine's ``INSERT … SELECT`` from the customers (a million rows a send),
    so the table is kept light: its foreign keys have no database constraint (the rows come from
    their parents in the same statement; deleting a customer, broadcast or merchant still
    cascades through the ORM), and the broadcast has no index of its own (``delivery_once``
    starts with it).
    """

    class Status(models.TextChoices):
        SENT = "sent", pgettext_lazy("delivery status", "Sent")
        SKIPPED = "skipped", pgettext_lazy("delivery status", "Skipped")

    class SkipReason(models.TextChoices):
        OPTED_OUT = "opted_out", _("Refused marketing messages")
        CAPPED = "capped", _("Reached the message cap")
        QUIET_HOURS = "quiet_hours", _("Quiet hours")
        BLOCKED = "blocked", _("Customer blocked")

    merchant = models.ForeignKey(
        "core.Merchant", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    broadcast = models.ForeignKey(
        Broadcast,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
        db_index=False,  # delivery_once (broadcast, customer)
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=8, choices=Status.choices)
    skip_reason = models.CharField(max_length=12, choices=SkipReason.choices, blank=True)
    is_marketing = models.BooleanField(default=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "customer"], name="delivery_once")
        ]
        indexes = [
            # the cap: a customer's marketing messages sent since the start of the period
            models.Index(
                fields=["customer", "sent_at"],
                name="delivery_cap",
                condition=models.Q(status="sent", is_marketing=True),
            )
        ]


class Touch(MerchantOwned):
    """A customer arrived at the shop from a chat, a card or a link: the attribution evidence.

    The order placed within the attribution window after the latest touch is
    attributed to its guide, group and broadcast; without one, to the owner guide.
    """

    class Source(models.TextChoices):
        CARD = "card", _("Card in a chat")
        LINK = "link", _("Shared link")
        CHAT = "chat", _("1:1 chat")
        BROADCAST = "broadcast", _("Targeted message")

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    guide = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        "community.CommunityGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    broadcast = models.ForeignKey(
        Broadcast, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.BigIntegerField(null=True, blank=True)  # the chat message of the card
    touched_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["customer", "-touched_at"], name="touch_latest")]
