"""The console's group-buy form: the activity's fields, and per SKU of the product a group
price (yuan as typed → fen) and the activity stock. The services check the rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.catalog.models import Product, Sku
from siyu.core.money import AmountError, parse_amount
from siyu.groupbuy.activities import STARTED, STARTED_FIELDS
from siyu.groupbuy.models import GroupBuy, GroupBuySku

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


class ActivityForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    team_size = forms.IntegerField(
        label=gettext_lazy("Team size"),
        min_value=2,
        max_value=50,
        initial=3,
        help_text=gettext_lazy("Members per team, the leader included (2–50)."),
    )
    fill_hours = forms.IntegerField(
        label=gettext_lazy("Hours to fill a team"),
        min_value=1,
        max_value=720,
        initial=24,
        help_text=gettext_lazy("A team not full by then fails and everyone is refunded."),
    )
    starts_at = _datetime(gettext_lazy("Starts"))
    ends_at = _datetime(gettext_lazy("Ends"))
    per_customer_limit = forms.IntegerField(
        label=pgettext_lazy("group-buy", "Per customer"), min_value=1, max_value=99, initial=1
    )
    new_customers_only = forms.BooleanField(
        label=gettext_lazy("Joiners must be new customers (no paid order yet)"), required=False
    )
    allow_coupons = forms.BooleanField(
        label=gettext_lazy("Coupons combine with the group price"), required=False
    )

    def __init__(self, *args: Any, activity: GroupBuy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = activity is not None and activity.status in STARTED
        if self.started:
            for name, field in self.fields.items():
                if name not in STARTED_FIELDS:
                    field.disabled = True


@dataclass
class SkuRow:
    sku: Sku
    chosen: bool
    price: str
    stock: str
    sold: int = 0
    price_error: str = ""
    stock_error: str = ""


def sku_rows(product: Product, activity: GroupBuy | None, data: Any = None) -> list[SkuRow]:
    """One row per active SKU of ``product``: what was typed, else what the activity holds."""
    held = (
        {row.sku_id: row for row in GroupBuySku.objects.filter(activity=activity)}
        if activity is not None
        else {}
    )
    rows = []
    for sku in Sku.objects.filter(product=product).order_by("position", "pk"):
        row = held.get(sku.pk)
        if data is not None:
            rows.append(
                SkuRow(
                    sku,
                    bool(data.get(f"on_{sku.pk}")),
                    str(data.get(f"price_{sku.pk}", ""))[:20],
                    str(data.get(f"stock_{sku.pk}", ""))[:12],
                    row.stock_total - row.stock_left if row else 0,
                )
            )
        elif row is not None:
            rows.append(
                SkuRow(
                    sku,
                    True,
                    f"{row.group_price / 100:.2f}",
                    str(row.stock_total),
                    row.stock_total - row.stock_left,
                )
            )
        elif sku.active and activity is None:
            rows.append(SkuRow(sku, True, "", ""))
    return rows


def skus_data(rows: list[SkuRow]) -> tuple[list[dict[str, Any]], list[SkuRow]]:
    """The chosen rows as the service's ``skus`` (yuan → fen), and which row each entry is;
    a price that is not an amount is marked on its row (and sent as -1 to be refused)."""
    data: list[dict[str, Any]] = []
    sent: list[SkuRow] = []
    for row in rows:
        if not row.chosen:
            continue
        try:
            price: Any = parse_amount(row.price) if row.price.strip() else None
        except AmountError:
            row.price_error = _("Give an amount in yuan, like 5 or 12.50.")
            price = None
        stock: Any = int(row.stock) if row.stock.strip().isdigit() else None
        data.append({"sku_id": row.sku.pk, "group_price": price, "stock": stock})
        sent.append(row)
    return data, sent
