"""Console forms of payments. They parse input; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.money import AmountError, parse_amount
from siyu.payments import gateways
from siyu.payments.models import Payment, Refund

EVERYTHING = [("", _("All"))]


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class PaymentFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    gateway = forms.ChoiceField(label=_("Gateway"), required=False)
    since = _date(_("From"))
    until = _date(_("To"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        gateway = self.fields["gateway"]
        assert isinstance(status, forms.ChoiceField)
        assert isinstance(gateway, forms.ChoiceField)
        status.choices = EVERYTHING + list(Payment.Status.choices)
        gateway.choices = EVERYTHING + [(code, gateways.label(code)) for code in gateways.KNOWN]


SOURCE_CHOICES = [
    ("", _("All")),
    ("customer", _("Customer requests")),
    ("staff", _("Issued by staff")),
    ("automatic", _("Automatic")),
]


class RefundFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    source = forms.ChoiceField(label=_("Source"), required=False, choices=SOURCE_CHOICES)
    since = _date(_("From"))
    until = _date(_("To"))
    order = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = EVERYTHING + list(Refund.Status.choices)


MODE_CHOICES = [
    ("lines", _("By line and quantity")),
    ("amount", _("An amount (no restock)")),
    ("full", _("Everything left")),
]


class RefundForm(forms.Form):
    """The order panel's refund form: a mode, quantities per line (``qty_<line id>``), an amount."""

    mode = forms.ChoiceField(label=_("Refund"), choices=MODE_CHOICES, initial="lines")
    amount = forms.CharField(label=_("Amount (¥)"), required=False, max_length=20)
    reason = forms.CharField(label=_("Reason"), max_length=200)
    restock = forms.BooleanField(label=_("Put refunded items back in stock"), required=False)

    def clean_amount(self) -> int | None:
        text = (self.cleaned_data.get("amount") or "").strip()
        if self.data.get("mode") != "amount":
            return None
        if not text:
            raise forms.ValidationError(_("Give the amount to refund."))
        try:
            return parse_amount(text)
        except AmountError as exc:
            raise forms.ValidationError(_("Not an amount, e.g. 12.50.")) from exc

    def chosen_lines(self) -> list[tuple[int, int]]:
        """(order line id, quantity) for every ``qty_<id>`` above zero."""
        chosen: list[tuple[int, int]] = []
        for key, value in self.data.items():
            if not key.startswith("qty_"):
                continue
            try:
                line_id, quantity = int(key[4:]), int(str(value).strip() or "0")
            except ValueError:
                self.add_error(None, _("Quantities must be whole numbers."))
                return []
            if quantity:
                chosen.append((line_id, quantity))
        return sorted(chosen)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the customer"), max_length=200)
