"""Console forms of orders. They parse input; the services decide and validate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.money import AmountError, parse_amount
from siyu.orders.models import Order
from siyu.orders.selectors import OrderFilters

ANY = ("", _("Any"))


class OrderFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=40)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[ANY, *Order.Status.choices]
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    fulfilment = forms.ChoiceField(
        label=_("Fulfilment"), required=False, choices=[ANY, *Order.Fulfilment.choices]
    )
    refund_state = forms.ChoiceField(
        label=_("Refunds"), required=False, choices=[ANY, *Order.RefundState.choices]
    )
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        stores: Iterable[tuple[int, str]] = (),
        channels: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", _("All stores")), *stores]
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ChoiceField)
        channel.choices = [("", _("All channels")), *((c, c) for c in channels)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end is before the start."))
        return data

    def filters(self) -> OrderFilters:
        """The valid filters (an invalid form filters nothing but what is valid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return OrderFilters(
            status=data.get("status") or "",
            store_id=data.get("store"),
            fulfilment=data.get("fulfilment") or "",
            channel=data.get("channel") or "",
            refund_state=data.get("refund_state") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=data.get("q") or "",
        )


class ShipForm(forms.Form):
    carrier = forms.CharField(
        label=_("Carrier"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "carriers", "autocomplete": "off"}),
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "latin"}),
    )


# Carriers Chinese merchants ship with, offered as suggestions (any name is accepted).
CARRIERS = [
    _("SF Express"),
    _("JD Logistics"),
    _("ZTO Express"),
    _("YTO Express"),
    _("STO Express"),
    _("Yunda Express"),
    _("China Post EMS"),
    _("Deppon"),
    _("J&T Express"),
]


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PickupCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "off",
                "pattern": "[0-9 ]*",
                "placeholder": "000000",
            }
        ),
    )


class PickupCounterForm(PickupCodeForm):
    store = forms.TypedChoiceField(label=_("Store"), coerce=int)

    field_order = ["store", "code"]

    def __init__(self, *args: Any, stores: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = list(stores)


class YuanField(forms.CharField):
    """An amount typed in yuan (``8``, ``8.5``, ``¥8.50``) → fen."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_amount(text)
        except AmountError as exc:
            raise forms.ValidationError(_("Give an amount in yuan, e.g. 8 or 8.50.")) from exc


class ShippingRuleForm(forms.Form):
    flat_fee = YuanField(
        label=_("Delivery fee (yuan)"),
        required=False,
        help_text=_("Charged on every delivery order; leave empty or 0 for free delivery."),
    )
    free_over = YuanField(
        label=_("Free delivery from (yuan)"),
        required=False,
        help_text=_("Orders whose goods cost at least this ship free; leave empty for never."),
    )
