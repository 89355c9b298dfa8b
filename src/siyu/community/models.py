"""Community groups, their members, join codes (活码) and the built-in chat.

A ``CommunityGroup`` belongs to a store or to the whole merchant and holds at
most ``capacity`` active members; ``member_count`` is the counter the join
services move with one conditional UPDATE (``member_count < capacity``), so
concurrent scans never overfill a group. A ``JoinCode`` routes a scan to one of
its groups (in order, the first with room; opening a new one from
``base_name`` when all are full and ``auto_create`` is on), to the group of the
nearest store (``kind=store_finder``), or binds the customer to a guide
(``kind=guide``). The chat is ``Conversation`` (one per group, or one per
customer and staff member for 1:1) with ``Message`` rows and a ``ReadState``
per participant; websockets push new messages (``siyu.community.consumers``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned

DEFAULT_CAPACITY = 200
MAX_CAPACITY = 500


class CommunityGroup(MerchantOwned):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    name = models.CharField(_("name"), max_length=60)
    store = models.ForeignKey(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="community_groups",
        verbose_name=_("store"),
        help_text=_("Empty: a group of the whole brand."),
    )
    owner = models.ForeignKey(
        "core.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_groups",
        verbose_name=_("owner"),
    )
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=DEFAULT_CAPACITY)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    announcement = models.TextField(_("announcement"), max_length=2000, blank=True)
    # {"text": "...", "card": {"type": "product"|"coupon"|"store", "id": ...}} or {}
    welcome = models.JSONField(_("welcome message"), default=dict, blank=True)
    banned_words = models.JSONField(_("banned words"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    # The code whose overflow opened this group (auto_create), and its place in the series.
    opened_by_code = models.ForeignKey(
        "community.JoinCode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("community group")
        verbose_name_plural = _("community groups")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=MAX_CAPACITY),
                name="group_capacity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(member_count__lte=models.F("capacity")),
                name="group_not_over_capacity",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "store"], name="group_store")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_room(self) -> bool:
        return self.member_count < self.capacity


class GroupMember(MerchantOwned):
    """A customer's stay in a group: join time, source, leave time. Re-joining opens a new row."""

    class LeaveReason(models.TextChoices):
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed by staff")

    group = models.ForeignKey(CommunityGroup, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="group_memberships"
    )
    source_code = models.ForeignKey(
        "community.JoinCode", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("channel"), max_length=60, blank=True)
    joined_at = models.DateTimeField(_("joined"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    leave_reason = models.CharField(max_length=8, choices=LeaveReason.choices, blank=True)
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    welcomed_at = models.DateTimeField(null=True, blank=True)  # the welcome was sent (once)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["-joined_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "customer"],
                condition=models.Q(left_at__isnull=True),
                name="group_member_once_active",
            )
        ]
        indexes = [
            models.Index(fields=["customer", "group"], name="group_member_customer"),
            models.Index(
                fields=["group", "customer"],
                name="group_member_active",
                condition=models.Q(left_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.group_id}"


class JoinCode(MerchantOwned):
    class Kind(models.TextChoices):
        GROUPS = "groups", _("Group code")
        STORE_FINDER = "store_finder", _("Nearest-store code")
        GUIDE = "guide", _("Guide's personal code")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=80)
    # The short link /j/<token>: unique across merchants (the link carries no merchant).
    token = models.CharField(max_length=16, unique=True)
    state = models.CharField(
        _("channel state"),
        max_length=60,
        help_text=_("Recorded on the customer and the membership, e.g. store_door, table_card."),
    )
    store = models.ForeignKey(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="join_codes",
        verbose_name=_("store"),
    )
    guide = models.ForeignKey(
        "core.Membership",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="guide_codes",
        verbose_name=_("guide"),
    )
    groups = models.ManyToManyField(
        CommunityGroup, through="JoinCodeGroup", related_name="join_codes", blank=True
    )
    auto_create = models.BooleanField(_("open a new group when all are full"), default=False)
    base_name = models.CharField(_("name of new groups"), max_length=50, blank=True)
    new_group_capacity = models.PositiveSmallIntegerField(default=DEFAULT_CAPACITY)
    welcome = models.JSONField(_("welcome message"), default=dict, blank=True)
    poster_message = models.CharField(_("poster message"), max_length=80, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    scan_count = models.PositiveIntegerField(_("scans"), default=0)
    join_count = models.PositiveIntegerField(_("joins"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("join code")
        verbose_name_plural = _("join codes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class JoinCodeGroup(MerchantOwned):
    """A group a code routes to, in order."""

    code = models.ForeignKey(JoinCode, on_delete=models.CASCADE, related_name="routes")
    group = models.ForeignKey(CommunityGroup, on_delete=models.CASCADE, related_name="routes")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["code", "group"], name="join_code_group_once")
        ]


class JoinCodeScan(MerchantOwned):
    """One scan of a code and what came of it."""

    class Outcome(models.TextChoices):
        VISITED = "visited", _("Opened, not logged in")
        JOINED = "joined", pgettext_lazy("scan outcome", "Joined")
        ALREADY_MEMBER = "member", _("Already a member")
        BOUND = "bound", _("Bound to the guide")
        FULL = "full", _("All groups full")
        INACTIVE = "inactive", _("Code switched off")

    code = models.ForeignKey(JoinCode, on_delete=models.CASCADE, related_name="scans")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    group = models.ForeignKey(
        CommunityGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    scanned_at = models.DateTimeField()

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["code", "-scanned_at"], name="scan_code_time")]


class AutoReply(MerchantOwned):
    """A keyword auto-reply: in one group, or in every group of the merchant (group empty)."""

    class Match(models.TextChoices):
        CONTAINS = "contains", _("Message contains the keyword")
        EXACT = "exact", _("Message is exactly the keyword")

    group = models.ForeignKey(
        CommunityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="auto_replies"
    )
    keyword = models.CharField(_("keyword"), max_length=40)
    match = models.CharField(_("match"), max_length=8, choices=Match.choices, default="contains")
    reply = models.JSONField(_("reply"))  # {"text": ..., "card": {...}}
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("auto-reply")
        verbose_name_plural = _("auto-replies")
        ordering = ["keyword", "id"]


class Conversation(MerchantOwned):
    """A chat: a group's, a 1:1 between a customer and a staff member, or the customer's inbox
    of messages from the brand (targeted messages)."""

    class Kind(models.TextChoices):
        GROUP = "group", _("Group chat")
        DIRECT = "direct", _("1:1 chat")
        INBOX = "inbox", _("Messages from the brand")

    kind = models.CharField(max_length=8, choices=Kind.choices)
    group = models.OneToOneField(
        CommunityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="conversation"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversations",
    )
    staff = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    last_message_id = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "staff"],
                condition=models.Q(kind="direct"),
                name="conversation_direct_once",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(kind="inbox"),
                name="conversation_inbox_once",
            ),
        ]
        indexes = [models.Index(fields=["staff", "-last_message_at"], name="conversation_staff")]


class Message(MerchantOwned):
    """A chat message. A targeted message writes a million of them with one ``INSERT … SELECT``
    from the inboxes, so the table is kept light: the merchant and the conversation have no
    database constraint (the rows come from their conversation in the same statement; deleting
    one still cascades through the ORM), the conversation no index of its own
    (``message_conversation`` starts with it), and the senders' indexes hold only the messages
    that have one (system messages, most of the table, have none)."""

    class SenderKind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        STAFF = "staff", _("Staff")
        SYSTEM = "system", pgettext_lazy("chat sender", "Automatic")

    merchant = models.ForeignKey(
        "core.Merchant", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        db_constraint=False,
        db_index=False,  # message_conversation (conversation, id)
    )
    sender_kind = models.CharField(max_length=8, choices=SenderKind.choices)
    sender_customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # message_sender_customer, partial
    )
    sender_staff = models.ForeignKey(
        "core.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # message_sender_staff, partial
    )
    text = models.TextField(max_length=2000, blank=True)
    # {"type": "product"|"coupon"|"store"|"order", "id": ..., "title": ..., "image": ...,
    #  "price": fen, "url": "/s/<slug>/..."}; the url carries the attribution parameters.
    card = models.JSONField(null=True, blank=True)
    # Set when a targeted message (marketing.Broadcast) or a welcome/auto-reply produced it.
    broadcast_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"], name="message_conversation"),
            # deleting a customer or a staff member (SET_NULL) finds their messages here
            models.Index(
                fields=["sender_customer"],
                name="message_sender_customer",
                condition=models.Q(sender_customer__isnull=False),
            ),
            models.Index(
                fields=["sender_staff"],
                name="message_sender_staff",
                condition=models.Q(sender_staff__isnull=False),
            ),
        ]


class ReadState(MerchantOwned):
    """How far one participant has read a conversation (unread = later messages)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="read_states"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    staff = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    last_read_message_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "customer"],
                condition=models.Q(customer__isnull=False),
                name="read_state_customer_once",
            ),
            models.UniqueConstraint(
                fields=["conversation", "staff"],
                condition=models.Q(staff__isnull=False),
                name="read_state_staff_once",
            ),
        ]
