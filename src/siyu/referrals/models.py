"""The referrals app's tables: the programme, invite codes, referrals, rewards, devices.

* ``ReferralProgramme``: one per merchant — on or paused, an optional schedule, what the
  invitee and the inviter get (a coupon template or points), the per-inviter caps and which
  abuse guards are on.
* ``InviteCode``: one per customer, made the first time they open their invite page; short,
  without 0/O/1/I, unique per merchant.
* ``Referral``: one per invitee (``invitee`` is unique): who invited whom, through which code,
  from which device, and where it stands — ``registered`` → ``qualified`` (the invitee's first
  order completed) → ``rewarded``, or ``blocked`` with a ``block_reason`` (no rewards). The
  referrals that are not blocked form a forest (``inviter`` is the parent of ``invitee``).
* ``ReferralReward``: what one side of one referral got (at most one per referral and side:
  the unique constraint is the idempotency key), or why it could not be given.
* ``CustomerDevice``: the devices (a hash of the storefront's long-lived device cookie, and a
  hash of the user agent) a customer logged in from — the device guard compares them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.tenancy import MerchantOwned

CODE_LENGTH = 6
MAX_CAP = 100_000
MAX_POINTS = 1_000_000


class RewardKind(models.TextChoices):
    NONE = "none", pgettext_lazy("referral reward", "Nothing")
    COUPON = "coupon", pgettext_lazy("referral reward", "A coupon")
    POINTS = "points", pgettext_lazy("referral reward", "Points")


class ReferralProgramme(MerchantOwned):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("referral programme", "Running")
        PAUSED = "paused", pgettext_lazy("referral programme", "Paused")

    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PAUSED
    )
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    message = models.CharField(_("invitation message"), max_length=200, blank=True)
    invitee_reward = models.CharField(
        _("invitee reward"), max_length=8, choices=RewardKind.choices, default=RewardKind.NONE
    )
    invitee_template = models.ForeignKey(
        "promotions.CouponTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("invitee coupon"),
    )
    invitee_points = models.PositiveIntegerField(_("invitee points"), default=0)
    inviter_reward = models.CharField(
        _("inviter reward"), max_length=8, choices=RewardKind.choices, default=RewardKind.NONE
    )
    inviter_template = models.ForeignKey(
        "promotions.CouponTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inviter coupon"),
    )
    inviter_points = models.PositiveIntegerField(_("inviter points"), default=0)
    cap_per_month = models.PositiveIntegerField(_("friends per inviter a month"), null=True)
    cap_total = models.PositiveIntegerField(_("friends per inviter in total"), null=True)
    guard_phone = models.BooleanField(_("block the same phone"), default=True)
    guard_device = models.BooleanField(_("block the same device"), default=True)
    guard_address = models.BooleanField(_("block the same delivery address"), default=True)
    code_entry_days = models.PositiveSmallIntegerField(
        _("days a new customer may type a code"), default=7
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("referral programme")
        verbose_name_plural = _("referral programmes")
        constraints = [models.UniqueConstraint(fields=["merchant"], name="referral_programme_one")]

    def __str__(self) -> str:
        return str(_("Referral programme"))


class InviteCode(MerchantOwned):
    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="invite_code",
        verbose_name=_("customer"),
    )
    code = models.CharField(_("code"), max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invite code")
        verbose_name_plural = _("invite codes")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="invite_code_unique")
        ]

    def __str__(self) -> str:
        return self.code


class Referral(MerchantOwned):
    class Status(models.TextChoices):
        REGISTERED = "registered", pgettext_lazy("referral", "Registered")
        QUALIFIED = "qualified", pgettext_lazy("referral", "First order completed")
        REWARDED = "rewarded", pgettext_lazy("referral", "Rewarded")
        BLOCKED = "blocked", pgettext_lazy("referral", "Blocked")

    class Reason(models.TextChoices):
        NONE = "", "—"
        SELF_INVITE = "self_invite", _("Invited themselves")
        SAME_PHONE = "same_phone", _("Same phone as the inviter or another of their friends")
        SAME_DEVICE = "same_device", _("Same device as the inviter or another of their friends")
        SAME_ADDRESS = "same_address", _("Same delivery address as the inviter")
        CAP_MONTH = "cap_month", _("The inviter reached this month's limit")
        CAP_TOTAL = "cap_total", _("The inviter reached their overall limit")

    class Source(models.TextChoices):
        LINK = "link", _("Invite link")
        CODE = "code", _("Typed code")

    inviter = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="referrals_made",
        verbose_name=_("inviter"),
    )
    invitee = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="referral",
        verbose_name=_("invitee"),
    )
    code = models.CharField(_("code"), max_length=12)
    source = models.CharField(_("source"), max_length=4, choices=Source.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    block_reason = models.CharField(
        _("blocked because"), max_length=12, choices=Reason.choices, blank=True
    )
    block_detail = models.CharField(_("details"), max_length=200, blank=True)
    invitee_phone = models.CharField(_("invitee phone"), max_length=20)
    device_hash = models.CharField(max_length=64, blank=True)
    ua_hash = models.CharField(max_length=64, blank=True)
    tapped_at = models.DateTimeField(_("link opened"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered"))
    qualified_at = models.DateTimeField(_("qualified"), null=True, blank=True)
    rewarded_at = models.DateTimeField(_("rewarded"), null=True, blank=True)
    blocked_at = models.DateTimeField(_("blocked"), null=True, blank=True)
    qualifying_order_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["merchant", "inviter", "status"], name="referral_inviter"),
            models.Index(fields=["merchant", "status", "created_at"], name="referral_status"),
            models.Index(fields=["merchant", "device_hash"], name="referral_device"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(inviter=models.F("invitee")) | models.Q(status="blocked"),
                name="referral_not_self_unless_blocked",
            )
        ]

    def __str__(self) -> str:
        return f"{self.inviter_id} → {self.invitee_id}"


class ReferralReward(MerchantOwned):
    class Side(models.TextChoices):
        INVITEE = "invitee", pgettext_lazy("referral side", "Invitee")
        INVITER = "inviter", pgettext_lazy("referral side", "Inviter")

    class Status(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("referral reward", "Issued")
        FAILED = "failed", pgettext_lazy("referral reward", "Could not be issued")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="rewards")
    side = models.CharField(_("for"), max_length=8, choices=Side.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    kind = models.CharField(_("reward"), max_length=8, choices=RewardKind.choices)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices)
    problem = models.CharField(_("problem"), max_length=200, blank=True)
    template_id = models.BigIntegerField(null=True, blank=True)
    coupon = models.ForeignKey(
        "promotions.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    points = models.PositiveIntegerField(default=0)
    discount_used = models.BigIntegerField(_("discount given (fen)"), default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("referral reward")
        verbose_name_plural = _("referral rewards")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "side"], name="referral_reward_once")
        ]
        indexes = [models.Index(fields=["merchant", "coupon"], name="referral_reward_coupon")]

    def __str__(self) -> str:
        return f"{self.referral_id}:{self.side}"


class CustomerDevice(MerchantOwned):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    device_hash = models.CharField(max_length=64)
    ua_hash = models.CharField(max_length=64, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("customer device")
        verbose_name_plural = _("customer devices")
        constraints = [
            models.UniqueConstraint(fields=["customer", "device_hash"], name="customer_device_once")
        ]
        indexes = [models.Index(fields=["merchant", "device_hash"], name="customer_device_hash")]

    def __str__(self) -> str:
        return self.device_hash[:12]
