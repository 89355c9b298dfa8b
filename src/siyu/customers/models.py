"""Customers of a merchant (the start of the CRM), their addresses, login codes and SMS outbox."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned


class Customer(MerchantOwned):
    """A shopper of one merchant, identified by phone (E.164). Not a staff ``User``."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("customer status", "Active")
        BLOCKED = "blocked", _("Blocked")

    # E.164, e.g. +8613812345678; blank only for a customer imported from an old system
    # without a phone (known by an external id), so unique only where given.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    name = models.CharField(pgettext_lazy("a person's name", "name"), max_length=80, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Not given")
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")

    # Where the customer first came from: a join code's or guide code's channel state
    # ("store_door", "guide"), "storefront" for self sign-up, "import" ...
    join_channel = models.CharField(_("join channel"), max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    # Profile (CRM). Changed through siyu.customers.profile.
    gender = models.CharField(
        _("gender"), max_length=8, choices=Gender.choices, default=Gender.UNKNOWN, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(
        _("birth month"), null=True, blank=True, editable=False
    )  # kept in step with birthday, so "birthday month" is an index lookup
    city = models.CharField(_("city"), max_length=40, blank=True)
    home_store = models.ForeignKey(
        "stores.Store",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="home_customers",
        verbose_name=_("home store"),
    )
    # The shopping guide (a staff membership with the shopping_guide role, or any staff) who
    # owns this customer: one owner at a time; changes are recorded as OwnershipChange rows.
    owner_guide = models.ForeignKey(
        "core.Membership",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_customers",
        verbose_name=_("owner guide"),
    )
    owner_since = models.DateTimeField(_("owned since"), null=True, blank=True)

    # Statistics from the analytics sales facts, imported history included (siyu.customers.stats,
    # docs/metrics.md "Customer statistics"). Money in fen.
    first_order_at = models.DateTimeField(_("first order"), null=True, blank=True)
    last_order_at = models.DateTimeField(_("last order"), null=True, blank=True)
    order_count = models.PositiveIntegerField(_("orders"), default=0)
    total_spent = models.BigIntegerField(_("total spent"), default=0)  # paid minus refunded
    average_order_value = models.BigIntegerField(_("average order value"), default=0)
    # RFM quintile scores 1–5 (5 best), recomputed nightly across the merchant; 0 = no orders.
    rfm_recency = models.PositiveSmallIntegerField(_("R score"), default=0)
    rfm_frequency = models.PositiveSmallIntegerField(_("F score"), default=0)
    rfm_monetary = models.PositiveSmallIntegerField(_("M score"), default=0)
    stats_updated_at = models.DateTimeField(null=True, blank=True)
    # Written by siyu.analytics on its schedule, from the sales facts (imported history
    # included): the named RFM cell (rules.RFM_CELLS) and the lifetime-value model's results —
    # the chance the customer is still active (per cent), the predicted value of the next 12
    # months (fen) and the value segment (rules.VALUE_SEGMENTS). Empty / 0 until scored.
    rfm_cell = models.CharField(_("RFM segment"), max_length=24, blank=True)
    clv_alive = models.PositiveSmallIntegerField(_("chance still active (%)"), default=0)
    clv_value = models.BigIntegerField(_("predicted value, next 12 months"), default=0)
    clv_segment = models.CharField(_("value segment"), max_length=24, blank=True)
    clv_scored_at = models.DateTimeField(_("value scored"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "phone"],
                condition=~models.Q(phone=""),
                name="customer_phone_unique",
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "-created_at", "-id"], name="customer_merchant_new"),
            models.Index(fields=["merchant", "owner_guide"], name="customer_owner_guide"),
            models.Index(fields=["merchant", "home_store"], name="customer_home_store"),
            models.Index(fields=["merchant", "last_order_at"], name="customer_last_order"),
            models.Index(fields=["merchant", "birth_month"], name="customer_birth_month"),
        ]

    def __str__(self) -> str:
        return self.name or self.phone or f"#{self.pk}"

    @property
    def is_blocked(self) -> bool:
        return self.status == self.Status.BLOCKED


class CustomerAddress(MerchantOwned):
    """A delivery address in the Chinese shape: recipient, phone, province/city/district, street.

    A customer has at most one default address (a partial unique constraint);
    the services keep exactly one while the customer has any.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    recipient = models.CharField(_("recipient"), max_length=40)
    phone = models.CharField(_("phone"), max_length=20)
    province = models.CharField(_("province"), max_length=40)
    city = models.CharField(_("city"), max_length=40)
    district = models.CharField(_("district"), max_length=40, blank=True)
    street = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    is_default = models.BooleanField(_("default"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        ordering = ["-is_default", "-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(is_default=True),
                name="customer_address_one_default",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.province}{self.city}{self.district}{self.street}"

    @property
    def one_line(self) -> str:
        """The address as a Chinese courier writes it: province, city, district, street."""
        parts = [self.province]
        if self.city != self.province:  # 上海市上海市 reads as a mistake
            parts.append(self.city)
        parts += [self.district, self.street]
        return "".join(p for p in parts if p)


class LoginCode(MerchantOwned):
    """A one-time login code sent by SMS. Only its keyed hash is stored.

    A newer code for the same phone replaces the pending one; a code is used
    at most once (one conditional UPDATE from pending to used) and allows at
    most ``OTP_MAX_ATTEMPTS`` tries.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        USED = "used", _("Used")
        REPLACED = "replaced", _("Replaced by a newer code")

    phone = models.CharField(_("phone"), max_length=20)
    code_hash = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tries"), default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "phone", "-created_at"], name="login_code_phone_time"),
            models.Index(
                fields=["merchant", "ip_address", "-created_at"], name="login_code_ip_time"
            ),
            models.Index(fields=["created_at"], name="login_code_time"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.status}"


class SendLock(MerchantOwned):
    """One row per phone number or IP address that asked for codes.

    Code requests for the same phone or address lock these rows first
    (``SELECT … FOR UPDATE``, in key order), so two requests at the same moment
    cannot both pass the send limits.
    """

    key = models.CharField(max_length=80)  # "phone:+8613812345678" or "ip:203.0.113.9"
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("send lock")
        verbose_name_plural = _("send locks")
        constraints = [models.UniqueConstraint(fields=["merchant", "key"], name="send_lock_once")]

    def __str__(self) -> str:
        return self.key


class SmsMessage(MerchantOwned):
    """An SMS as the built-in ``outbox`` backend keeps it: how operators and the demo read codes."""

    class Status(models.TextChoices):
        OUTBOX = "outbox", _("In the outbox")
        SENT = "sent", _("Sent")
        FAILED = "failed", pgettext_lazy("SMS status", "Failed")

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Login code")

    to = models.CharField(_("to"), max_length=20)
    text = models.CharField(_("text"), max_length=500)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    backend = models.CharField(_("backend"), max_length=20)
    provider_reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("SMS message")
        verbose_name_plural = _("SMS messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "-created_at", "-id"], name="sms_merchant_time"),
            models.Index(fields=["merchant", "to", "-created_at"], name="sms_to_time"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.text[:40]}"


class CustomerIdentity(MerchantOwned):
    """Another way to recognise the same person: a WeChat openid or unionid, an id in the
    merchant's old system. Unique per merchant and kind, so an adapter can match people."""

    class Kind(models.TextChoices):
        WECHAT_OPENID = "wechat_openid", _("WeChat openid")
        WECHAT_UNIONID = "wechat_unionid", _("WeChat unionid")
        EXTERNAL = "external", _("External id")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("identity")
        verbose_name_plural = _("identities")
        ordering = ["kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "kind", "value"], name="customer_identity_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class Consent(MerchantOwned):
    """A customer's answer for one channel of marketing messages.

    No row means the customer has not refused (marketing to existing customers
    is allowed until refused); a ``refused`` row is honoured everywhere a
    marketing message is sent. Service messages (order updates, login codes)
    are not marketing and ignore it.
    """

    class Channel(models.TextChoices):
        INBOX = "inbox", _("Shop messages")
        GROUP = "group", _("Group posts")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")

    class Status(models.TextChoices):
        GRANTED = "granted", _("Agreed")
        REFUSED = "refused", _("Refused")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    source = models.CharField(_("source"), max_length=40, blank=True)  # storefront, console, import
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="consent_once")]
        indexes = [
            models.Index(
                fields=["merchant", "channel", "customer"],
                name="consent_refused",
                condition=models.Q(status="refused"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.status}"


class TimelineEntry(MerchantOwned):
    """One thing that happened to a customer. Append-only; pruned by age (SIYU_TIMELINE_DAYS).

    ``kind`` says what (see ``Kind``); ``data`` holds the ids and names the
    console needs to render it in either language; ``actor`` says who did it.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Became a customer")
        SCANNED = "scanned", _("Scanned a code")
        JOINED = "joined", _("Joined a group")
        LEFT = "left", _("Left a group")
        ORDERED = "ordered", _("Ordered")
        PAID = "paid", _("Paid")
        REFUNDED = "refunded", _("Refunded")
        MESSAGED = "messaged", _("Message")
        TAGGED = "tagged", _("Tagged")
        UNTAGGED = "untagged", _("Tag removed")
        TRANSFERRED = "transferred", _("Guide changed")
        CONSENT = "consent", _("Consent changed")
        NOTE = "note", _("Note")
        PROFILE = "profile", _("Profile changed")
        IMPORTED = "imported", _("Imported")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    actor = models.CharField(_("by"), max_length=150, blank=True)
    occurred_at = models.DateTimeField(_("when"))

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="timeline_customer"),
            models.Index(fields=["occurred_at"], name="timeline_age"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind}"


class CustomerNote(MerchantOwned):
    """A note staff keep about a customer ("prefers oat milk", "call after 6 pm")."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        "core.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=150, blank=True)
    text = models.CharField(_("note"), max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.text[:40]


class TagGroup(MerchantOwned):
    """A family of tags ("Taste", "Life stage"). ``exclusive``: a customer holds at most one."""

    name = models.CharField(_("name"), max_length=40)
    exclusive = models.BooleanField(_("one tag per customer"), default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag group")
        verbose_name_plural = _("tag groups")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="tag_group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Tag(MerchantOwned):
    group = models.ForeignKey(TagGroup, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=40)
    color = models.CharField(_("colour"), max_length=7, default="#2f6f4f")
    description = models.CharField(_("description"), max_length=200, blank=True)
    customer_count = models.PositiveIntegerField(default=0)  # kept by the tag services
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["group__position", "group_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="tag_name_unique_in_group")
        ]

    def __str__(self) -> str:
        return self.name


class CustomerTag(MerchantOwned):
    """A tag on a customer, and how it got there."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("By hand")
        BULK = "bulk", _("In bulk")
        RULE = "rule", _("Auto-tag rule")
        IMPORT = "import", _("Import")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links")
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    rule = models.ForeignKey(
        "customers.AutoTagRule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    added_by = models.CharField(max_length=150, blank=True)
    added_at = models.DateTimeField()

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_once")
        ]
        indexes = [models.Index(fields=["tag", "customer"], name="customer_tag_by_tag")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Segment(MerchantOwned):
    """A saved audience: a rule in the segment language (siyu.customers.segments)."""

    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=200, blank=True)
    rule = models.JSONField(_("rule"))
    customer_count = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="segment_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class AutoTagRule(MerchantOwned):
    """Puts ``tag`` on every customer matching ``rule`` (segment language); evaluated on the
    customer's events and nightly. With ``remove_unmatched`` the tag leaves customers who no
    longer match (only where this rule put it)."""

    name = models.CharField(_("name"), max_length=80)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="rules")
    rule = models.JSONField(_("rule"))
    remove_unmatched = models.BooleanField(_("remove when no longer matching"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_added = models.PositiveIntegerField(default=0)
    last_run_removed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("auto-tag rule")
        verbose_name_plural = _("auto-tag rules")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CustomerImport(MerchantOwned):
    """A CSV import of customers: progress while it runs, then the validation report."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    file_name = models.CharField(_("file"), max_length=200)
    file_sha256 = models.CharField(max_length=64)
    content = models.BinaryField(editable=False)  # the uploaded CSV, so the worker can read it
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row", "field", "reason"}], capped
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name


class OrderWindow(MerchantOwned):
    """A customer's paid orders in one of the kept windows (:mod:`siyu.customers.windows`).

    ``days`` is the window (0: all time), ``category_id`` the category whose subtree the
    orders had a line from (0: any). ``orders`` counts the orders not fully refunded,
    ``spent`` the money kept (``total - refunded_total``; any-category rows only). A missing
    row means 0. Derived from the orders, rebuilt at will; segments read it for the windows
    it keeps instead of grouping the orders.
    """

    pk = models.CompositePrimaryKey("customer_id", "days", "category_id")
    # Derived rows, rewritten by the million in a rebuild: no constraint to check at commit
    # (a row left by a customer deleted in raw SQL matches no one and goes at the next rebuild)
    merchant = models.ForeignKey(
        "core.Merchant", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    days = models.PositiveSmallIntegerField()
    category_id = models.PositiveIntegerField()
    orders = models.IntegerField(default=0)
    spent = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("order window")
        verbose_name_plural = _("order windows")
        indexes = [
            models.Index(
                fields=["merchant", "days", "category_id", "orders", "customer"],
                name="order_window_orders",
            ),
            models.Index(
                fields=["merchant", "days", "spent", "customer"],
                name="order_window_spent",
                condition=models.Q(category_id=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}/{self.days}/{self.category_id}"


class OrderWindowState(models.Model):
    """Which local day a merchant's :class:`OrderWindow` rows describe (None: being rebuilt)."""

    merchant = models.OneToOneField(
        "core.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    as_of = models.DateField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order window state")
        verbose_name_plural = _("order window states")

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.as_of}"
