"""Console forms of bargain activities. They read what an operator types (prices in yuan, times
in the merchant's zone) and turn it into the service's values (fen, aware datetimes); the
service (:mod:`siyu.bargain.activities`) decides what is valid, and its field errors are put
back next to these fields (``sku_id`` → ``sku``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.bargain.activities import EDITABLE_WHEN_SCHEDULED
from siyu.bargain.models import MAX_HELPERS, MAX_HOURS, MAX_PER_CUSTOMER, MAX_WEIGHT
from siyu.bargain.models import BargainActivity as A
from siyu.core.money import AmountError, parse_amount, to_decimal

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_SKU_CHOICES = 500
SERVICE_FIELDS = {"sku_id": "sku"}
STATUS_CHOICES = [
    ("", _("All")),
    ("draft", _("Draft")),
    ("scheduled", _("Scheduled")),
    ("running", _("Running")),
    ("paused", _("Paused")),
    ("ended", _("Ended")),
]


def _datetime(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


class YuanField(forms.Field):
    """Yuan as typed (``12.5``, ``¥12.50``) → fen."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "placeholder": "0.00", "maxlength": "20"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{to_decimal(value):f}"
        return value

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            if len(text) > 20:
                raise AmountError(text)
            return parse_amount(text)
        except AmountError:
            raise forms.ValidationError(_("Give an amount in yuan, like 5 or 12.50.")) from None


class ActivityForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("Customers see it."))
    sku = forms.TypedChoiceField(label=_("SKU"), coerce=int)
    floor_price = YuanField(
        label=_("Floor price (¥)"), help_text=_("Where the last needed helper's cut lands.")
    )
    helpers_needed = forms.IntegerField(
        label=_("Helpers needed"), min_value=1, max_value=MAX_HELPERS, initial=5
    )
    time_limit_hours = forms.IntegerField(
        label=_("Time to cut (hours)"), min_value=1, max_value=MAX_HOURS, initial=24
    )
    starts_at = _datetime(_("Starts"))
    ends_at = _datetime(_("Ends"))
    stock_total = forms.IntegerField(
        label=_("Activity stock"),
        min_value=1,
        help_text=_("Units sold at a bargain price in all; an unpaid order cancelled gives back."),
    )
    per_customer_limit = forms.IntegerField(
        label=_("Bargains per customer"), min_value=1, max_value=MAX_PER_CUSTOMER, initial=1
    )
    new_customer_weight = forms.IntegerField(
        label=_("A new customer counts as"),
        min_value=1,
        max_value=MAX_WEIGHT,
        initial=1,
        help_text=_("Helpers (1: like anyone else)."),
    )
    helpers_must_be_new = forms.BooleanField(label=_("Only new customers may help"), required=False)
    buy_before_floor = forms.BooleanField(
        label=_("May buy at the current price before the floor"), required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        skus: list[tuple[int, str]],
        activity: A | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sku"].choices = [("", "—"), *skus]  # type: ignore[attr-defined]
        if activity is not None and activity.status != A.Status.DRAFT:
            for name, field in self.fields.items():
                service_name = "sku_id" if name == "sku" else name
                if service_name not in EDITABLE_WHEN_SCHEDULED:
                    field.disabled = True

    @staticmethod
    def initial_of(activity: A) -> dict[str, Any]:
        return {
            "name": activity.name,
            "sku": activity.sku_id,
            "floor_price": activity.floor_price,
            "helpers_needed": activity.helpers_needed,
            "time_limit_hours": activity.time_limit_hours,
            "starts_at": activity.starts_at,
            "ends_at": activity.ends_at,
            "stock_total": activity.stock_total,
            "per_customer_limit": activity.per_customer_limit,
            "new_customer_weight": activity.new_customer_weight,
            "helpers_must_be_new": activity.helpers_must_be_new,
            "buy_before_floor": activity.buy_before_floor,
        }

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            name: data.get(name)
            for name in self.fields
            if name != "sku" and not self.fields[name].disabled
        }
        if not self.fields["sku"].disabled:
            values["sku_id"] = data.get("sku")
        return values


class FilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
