"""Console forms of targeted messages and the messaging policy. They parse input; the services
validate and decide (their field errors are put back next to these fields by the views).

Choices (groups, stores, tags, segments, products) are given by the view, read from the bound
merchant, so a form never offers another merchant's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy
from siyu.marketing.policy import MAX_CAP, MIN_CAP

Choices = Sequence[tuple[Any, Any]]

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

# Status words with a context: a bare "Sent" is translated elsewhere as a column ("sent at").
MESSAGE_STATUS = {
    "draft": pgettext_lazy("message status", "Draft"),
    "scheduled": pgettext_lazy("message status", "Scheduled"),
    "sending": pgettext_lazy("message status", "Sending"),
    "sent": pgettext_lazy("message status", "Sent"),
    "cancelled": pgettext_lazy("message status", "Cancelled"),
    "failed": pgettext_lazy("message status", "Failed"),
}
DELIVERY_STATUS = {
    "sent": pgettext_lazy("delivery status", "Sent"),
    "skipped": pgettext_lazy("delivery status", "Skipped"),
}
FUNNEL_STEPS = {
    "targeted": pgettext_lazy("funnel", "Targeted"),
    "sent": pgettext_lazy("funnel", "Sent"),
    "read": pgettext_lazy("funnel", "Read"),
    "clicked": pgettext_lazy("funnel", "Clicked"),
    "ordered": pgettext_lazy("funnel", "Ordered"),
}

SCOPE_PICK = "pick"
SCOPE_STORE = "store"
WHEN_NOW = "now"
WHEN_LATER = "later"
WHEN_DRAFT = "draft"

# service field → form field (``cards.N`` are mapped by the card's type in the view)
SERVICE_FIELDS = {
    "group_ids": "groups",
    "tag_id": "tag",
    "segment_id": "segment",
    "cards": "product",
}


def _optional_id(**kwargs: Any) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(required=False, coerce=int, empty_value=None, **kwargs)


class BroadcastForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("For you and your colleagues; customers do not see it."),
    )
    text = forms.CharField(
        label=_("Text"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    product = _optional_id(
        label=_("Product card"), help_text=_("Opens the product in the shop; type to search.")
    )
    store_card = _optional_id(label=_("Store card"), help_text=_("Opens the store in the shop."))
    audience = forms.ChoiceField(
        label=_("Audience"),
        choices=Broadcast.Audience.choices,
        initial=Broadcast.Audience.GROUPS,
        widget=forms.RadioSelect,
    )
    group_scope = forms.ChoiceField(
        label=_("Which groups"),
        choices=[
            (SCOPE_PICK, _("Groups I choose")),
            (SCOPE_STORE, _("All groups of a store")),
        ],
        initial=SCOPE_PICK,
        required=False,
        widget=forms.RadioSelect,
    )
    groups = forms.TypedMultipleChoiceField(
        label=_("Groups"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    group_store = _optional_id(label=_("Store"))
    tag = _optional_id(label=_("Tag"))
    segment = _optional_id(label=_("Segment"))
    delivery = forms.ChoiceField(
        label=pgettext_lazy("how a message is sent", "Delivery"),
        choices=Broadcast.Delivery.choices,
        initial=Broadcast.Delivery.INBOX,
        widget=forms.RadioSelect,
        help_text=_(
            "A group post appears once in each group and every member sees it. "
            "1:1 messages go to each customer's shop inbox."
        ),
    )
    is_marketing = forms.BooleanField(
        label=_("Marketing message"),
        required=False,
        initial=True,
        help_text=_(
            "Marketing messages respect the messaging policy: customers who refused marketing "
            "messages are skipped, and so is everyone during quiet hours and customers who "
            "already reached the message cap. Untick only for service messages (opening hours, "
            "an order notice): they reach everyone but blocked customers."
        ),
    )
    when = forms.ChoiceField(
        label=pgettext_lazy("when to send", "When"),
        choices=[
            (WHEN_NOW, _("Send now")),
            (WHEN_LATER, _("Schedule")),
            (WHEN_DRAFT, _("Save as a draft")),
        ],
        initial=WHEN_NOW,
        widget=forms.RadioSelect,
    )
    scheduled_at = forms.DateTimeField(
        label=_("Send at"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        help_text=_("In the merchant's time zone."),
    )

    def __init__(
        self,
        *args: Any,
        groups: Choices = (),
        stores: Choices = (),
        tags: Choices = (),
        segments: Choices = (),
        products: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["groups"].choices = list(groups)  # type: ignore[attr-defined]
        self.fields["group_store"].choices = [("", _("Choose a store")), *stores]  # type: ignore[attr-defined]
        self.fields["store_card"].choices = [("", _("No store card")), *stores]  # type: ignore[attr-defined]
        self.fields["tag"].choices = [("", _("Choose a tag")), *tags]  # type: ignore[attr-defined]
        self.fields["segment"].choices = [("", _("Choose a segment")), *segments]  # type: ignore[attr-defined]
        self.fields["product"].choices = [("", _("No product card")), *products]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        audience = data.get("audience")
        if audience == Broadcast.Audience.GROUPS:
            if data.get("group_scope") == SCOPE_STORE:
                if not data.get("group_store"):
                    self.add_error("group_store", _("Choose a store."))
            elif not data.get("groups"):
                self.add_error("groups", _("Choose at least one group."))
        elif audience == Broadcast.Audience.TAG and not data.get("tag"):
            self.add_error("tag", _("Choose a tag."))
        elif audience == Broadcast.Audience.SEGMENT and not data.get("segment"):
            self.add_error("segment", _("Choose a segment."))
        later = data.get("when") == WHEN_LATER
        if later and not data.get("scheduled_at") and "scheduled_at" not in self.errors:
            self.add_error("scheduled_at", _("Give a date and time."))
        return data

    def cards(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        cards = []
        if data.get("product"):
            cards.append({"type": "product", "id": data["product"]})
        if data.get("store_card"):
            cards.append({"type": "store", "id": data["store_card"]})
        return cards

    def service_values(self, group_ids: list[int]) -> dict[str, Any]:
        """The values of :func:`siyu.marketing.services.create_broadcast` (``group_ids``
        resolved by the view: the chosen groups, or the store's active groups)."""
        data = self.cleaned_data
        audience = data["audience"]
        return {
            "name": data["name"],
            "text": data["text"],
            "cards": self.cards(),
            "audience": audience,
            "group_ids": group_ids if audience == Broadcast.Audience.GROUPS else [],
            "tag_id": data["tag"] if audience == Broadcast.Audience.TAG else None,
            "segment_id": data["segment"] if audience == Broadcast.Audience.SEGMENT else None,
            "delivery": data["delivery"],
            "is_marketing": data["is_marketing"],
            "scheduled_at": data["scheduled_at"] if data["when"] == WHEN_LATER else None,
        }

    @staticmethod
    def initial_of(row: Broadcast) -> dict[str, Any]:
        cards = row.cards or []
        product = next((c["id"] for c in cards if c.get("type") == "product"), None)
        store = next((c["id"] for c in cards if c.get("type") == "store"), None)
        return {
            "name": row.name,
            "text": row.text,
            "product": product,
            "store_card": store,
            "audience": row.audience,
            "group_scope": SCOPE_PICK,
            "groups": list(row.group_ids or []),
            "tag": row.tag_id,
            "segment": row.segment_id,
            "delivery": row.delivery,
            "is_marketing": row.is_marketing,
            "when": WHEN_LATER if row.scheduled_at else WHEN_DRAFT,
            "scheduled_at": row.scheduled_at,
        }


class BroadcastFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *MESSAGE_STATUS.items()],
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("Sent and skipped")), *DELIVERY_STATUS.items()],
    )
    reason = forms.ChoiceField(
        label=_("Skip reason"),
        required=False,
        choices=[("", _("Any reason")), *Delivery.SkipReason.choices],
    )


class PolicyForm(forms.Form):
    cap_count = forms.IntegerField(
        label=_("Marketing messages at most"),
        min_value=MIN_CAP,
        max_value=MAX_CAP,
        help_text=_("1 to 100 per customer."),
    )
    cap_period = forms.ChoiceField(label=_("Per"), choices=MessagingPolicy.Period.choices)
    quiet_start = forms.TimeField(
        label=_("Quiet hours from"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Across midnight is fine, e.g. 21:30 until 08:30. Leave both empty: none."),
    )

    @staticmethod
    def initial_of(row: MessagingPolicy) -> dict[str, Any]:
        return {
            "cap_count": row.cap_count,
            "cap_period": row.cap_period,
            "quiet_start": row.quiet_start,
            "quiet_end": row.quiet_end,
        }
