"""Console forms of the catalog, and the parsing of the product form's SKU rows.

The SKU rows are drawn by Alpine.js from a JSON state and posted as plain
fields (``sku-0-code``, ``sku-0-opt-1``, ``sku-0-price``...). Prices are typed
in yuan ("12.30") and become fen here, through ``siyu.core.money``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from siyu.catalog import options as opts
from siyu.catalog.models import Product, Sku
from siyu.catalog.services import MAX_SKUS_PER_PRODUCT, SkuInput
from siyu.core.money import AmountError, parse_amount

STATUS_CHOICES_NEW = [
    (Product.Status.DRAFT, Product.Status.DRAFT.label),
    (Product.Status.ON_SALE, Product.Status.ON_SALE.label),
    (Product.Status.OFF_SALE, Product.Status.OFF_SALE.label),
]


class ProductFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": gettext_lazy("Name or barcode")}
        ),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False)
    store = forms.ChoiceField(label=gettext_lazy("Store"), required=False)

    def __init__(
        self,
        *args: Any,
        category_paths: dict[int, str],
        stores: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._set_choices(
            "category",
            [("", _("All categories")), ("none", _("Uncategorised"))]
            + [(str(pk), path) for pk, path in category_paths.items()],
        )
        self._set_choices("status", [("", _("All but archived")), *Product.Status.choices])
        self._set_choices("store", [("", _("All stores"))] + [(str(pk), n) for pk, n in stores])

    def _set_choices(self, name: str, choices: list[tuple[str, Any]]) -> None:
        field_ = self.fields[name]
        assert isinstance(field_, forms.ChoiceField)
        field_.choices = choices


class ProductForm(forms.Form):
    """The product's own fields; SKU rows, images and stores are read by :func:`parse_sku_rows`
    and the view."""

    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    subtitle = forms.CharField(
        label=gettext_lazy("Subtitle"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("One line under the name, e.g. “Double shot, whole milk”."),
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Status"))
    description = forms.CharField(
        label=pgettext_lazy("of a product", "Description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    option_names = forms.CharField(
        label=gettext_lazy("Options"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "What customers choose, separated by commas, e.g. “Size, Temperature”. "
            "Leave empty for a product with a single SKU."
        ),
    )
    all_stores = forms.TypedChoiceField(
        label=gettext_lazy("Sold in"),
        choices=[
            ("1", gettext_lazy("All stores")),
            ("0", gettext_lazy("Only the stores chosen below")),
        ],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    stores = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Stores"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        category_paths: dict[int, str],
        stores: list[tuple[int, str]],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = [("", _("No category"))] + [
            (str(pk), path) for pk, path in category_paths.items()
        ]
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = Product.Status.choices if editing else STATUS_CHOICES_NEW
        store_field = self.fields["stores"]
        assert isinstance(store_field, forms.ChoiceField)
        store_field.choices = [(pk, label) for pk, label in stores]

    def clean_category(self) -> int | None:
        value = self.cleaned_data.get("category")
        return int(value) if value else None

    def clean_option_names(self) -> list[str]:
        names = opts.split_list(self.cleaned_data.get("option_names") or "")
        try:
            return opts.normalize_option_names(names)
        except opts.OptionError as exc:
            raise forms.ValidationError(str(exc)) from exc


@dataclass
class SkuRow:
    """One SKU row as the page shows it (amounts as typed, in yuan) with its errors."""

    id: int | None = None
    code: str = ""
    values: list[str] = field(default_factory=list)
    price: str = ""
    list_price: str = ""
    barcode: str = ""
    weight: str = ""
    active: bool = True
    errors: dict[str, str] = field(default_factory=dict)

    def as_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "values": self.values,
            "price": self.price,
            "list_price": self.list_price,
            "barcode": self.barcode,
            "weight": self.weight,
            "active": self.active,
            "errors": self.errors,
        }


def yuan(amount: int | None) -> str:
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d}"


def rows_from_skus(skus: list[Sku], option_names: list[str]) -> list[SkuRow]:
    return [
        SkuRow(
            id=s.pk,
            code=s.code,
            values=[str(s.options.get(name, "")) for name in option_names],
            price=yuan(s.price),
            list_price=yuan(s.list_price),
            barcode=s.barcode,
            weight="" if s.weight_grams is None else str(s.weight_grams),
            active=s.active,
        )
        for s in skus
    ]


# Digits, an optional decimal part, an optional ¥. A comma is accepted only as a thousands
# separator ("1,280.00"): "30,5" is refused rather than read as ¥305 (in much of the world
# the comma is the decimal mark), and "1e3" rather than read as ¥1000.
AMOUNT_RE = re.compile(r"^¥?\s*(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$")


def _amount(text: str, *, required: bool) -> tuple[int | None, str | None]:
    text = text.strip().replace("￥", "¥")  # the full-width sign of Chinese keyboards
    if not text:
        return None, (_("This field is required.") if required else None)
    if not AMOUNT_RE.match(text):
        return None, _("Enter an amount in yuan, e.g. 12.30.")
    try:
        return parse_amount(text), None
    except AmountError:
        return None, _("Enter an amount in yuan, e.g. 12.30.")


def parse_sku_rows(data: QueryDict, option_count: int) -> tuple[list[SkuRow], list[SkuInput]]:
    """Read the posted SKU rows. Rows keep what was typed (to show again with errors);
    inputs carry fen, ready for the services. Empty trailing rows are dropped."""
    try:
        count = min(int(data.get("sku_rows", "0")), MAX_SKUS_PER_PRODUCT)
    except ValueError:
        count = 0
    rows: list[SkuRow] = []
    for i in range(max(count, 0)):
        get = lambda name, i=i: (data.get(f"sku-{i}-{name}") or "").strip()  # noqa: E731
        raw_id = get("id")
        row = SkuRow(
            id=int(raw_id) if raw_id.isdigit() else None,
            code=get("code"),
            values=[get(f"opt-{j}") for j in range(option_count)],
            price=get("price"),
            list_price=get("list_price"),
            barcode=get("barcode"),
            weight=get("weight"),
            active=data.get(f"sku-{i}-active") == "on",
        )
        blank = not any([row.code, row.price, row.list_price, row.barcode, row.weight, *row.values])
        if blank and row.id is None:
            continue
        rows.append(row)
    inputs: list[SkuInput] = []
    for row in rows:
        price, problem = _amount(row.price, required=True)
        if problem:
            row.errors["price"] = problem
        list_price, problem = _amount(row.list_price, required=False)
        if problem:
            row.errors["list_price"] = problem
        weight: int | None = None
        if row.weight:
            if row.weight.isdigit():
                weight = int(row.weight)
            else:
                row.errors["weight_grams"] = _("Give a whole number of grams.")
        inputs.append(
            SkuInput(
                id=row.id,
                code=row.code,
                price=price,
                list_price=list_price,
                barcode=row.barcode,
                weight_grams=weight,
                active=row.active,
                options={},
            )
        )
    return rows, inputs


def attach_options(inputs: list[SkuInput], rows: list[SkuRow], option_names: list[str]) -> None:
    for data, row in zip(inputs, rows, strict=True):
        data.options = dict(zip(option_names, row.values, strict=False))


def spread_errors(rows: list[SkuRow], fields: dict[str, str]) -> dict[str, str]:
    """Put ``skus.<i>.<field>`` errors on their rows; answer the others."""
    rest: dict[str, str] = {}
    for name, reason in fields.items():
        parts = name.split(".")
        if parts[0] == "skus" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows):
                rows[index].errors.setdefault(parts[2], reason)
                continue
        rest[name] = reason
    return rest


def generated_rows(
    option_names: list[str], data: QueryDict, rows: list[SkuRow]
) -> tuple[list[SkuRow], str | None]:
    """Rows for the value combinations typed in ``values-<j>`` that no row has yet."""
    values = {
        name: opts.split_list(data.get(f"values-{j}", "")) for j, name in enumerate(option_names)
    }
    existing = [dict(zip(option_names, row.values, strict=False)) for row in rows]
    try:
        missing = opts.missing_combinations(option_names, values, existing)
    except opts.OptionError as exc:
        return [], str(exc)
    if len(rows) + len(missing) > MAX_SKUS_PER_PRODUCT:
        return [], _("At most %(n)d SKUs.") % {"n": MAX_SKUS_PER_PRODUCT}
    # rows that are still completely empty are replaced by the generated ones
    kept = [row for row in rows if row.id is not None or any([row.code, row.price, *row.values])]
    return kept + [SkuRow(values=[combo[name] for name in option_names]) for combo in missing], None


class CategoryForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    parent = forms.ChoiceField(label=gettext_lazy("Parent"), required=False)
    position = forms.IntegerField(
        label=pgettext_lazy("sort order", "Position"), required=False, min_value=0
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)

    def __init__(self, *args: Any, category_paths: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.ChoiceField)
        parent.choices = [("", _("(top level)"))] + [
            (str(pk), path) for pk, path in category_paths.items()
        ]

    def clean_parent(self) -> int | None:
        value = self.cleaned_data.get("parent")
        return int(value) if value else None
