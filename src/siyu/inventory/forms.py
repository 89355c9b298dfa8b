"""Console forms of inventory. They parse input; the services decide and validate."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.inventory.models import Location, StockMovement
from siyu.inventory.services import MAX_QUANTITY, MAX_THRESHOLD

# Reasons staff pick most often for an adjustment; any other text is fine too.
ADJUST_REASONS = [
    _("Stock take"),
    _("Damaged"),
    _("Expired"),
    _("Lost or stolen"),
    _("Found"),
    _("Used in store"),
    _("Correction of a receipt"),
]


def location_label(location: Location) -> str:
    kind = location.get_kind_display()
    suffix = "" if location.active else f" ({_('inactive')})"
    return f"{location.name} · {kind}{suffix}"


class LocationChoiceField(forms.ChoiceField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Location"))
        super().__init__(*args, **kwargs)

    def set_locations(self, locations: Iterable[Location], *, blank: str | None = None) -> None:
        choices: list[tuple[str, str]] = [("", blank)] if blank is not None else []
        choices += [(str(loc.pk), location_label(loc)) for loc in locations]
        self.choices = choices


class _WithLocations(forms.Form):
    location = LocationChoiceField()

    def __init__(
        self,
        *args: Any,
        locations: Iterable[Location] = (),
        blank: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["location"]
        assert isinstance(field, LocationChoiceField)
        field.set_locations(locations, blank=blank)


class _Filters(_WithLocations):
    """List filters: every field optional, the location included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].required = False


class StockFilterForm(_Filters):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    low = forms.BooleanField(label=_("Low or out of stock only"), required=False)


class _StockChangeForm(_WithLocations):
    sku = forms.CharField(
        label=_("SKU code or barcode"),
        max_length=64,
        help_text=_("Scan the barcode or type the SKU code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    # a fresh token per form: submitting the same form twice receives once
    token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class ReceiveForm(_StockChangeForm):
    quantity = forms.IntegerField(
        label=_("Quantity received"),
        min_value=1,
        max_value=MAX_QUANTITY,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=200,
        help_text=_("Delivery note or supplier, e.g. 入库单 RK-20260301."),
    )


class AdjustForm(_StockChangeForm):
    MODES = [
        ("counted", _("Set to the counted quantity (stock take)")),
        ("delta", _("Add or take away (e.g. -2 for damaged goods)")),
    ]

    mode = forms.ChoiceField(label=_("How"), choices=MODES, widget=forms.RadioSelect)
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text=_("The counted quantity, or the change: negative takes away."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        widget=forms.TextInput(attrs={"list": "adjust-reasons"}),
    )


class MovementFilterForm(_Filters):
    sku = forms.CharField(label=_("SKU code or barcode"), required=False, max_length=64)
    kind = forms.ChoiceField(
        label=pgettext_lazy("movement kind", "Kind"),
        required=False,
        choices=[("", _("All kinds")), *StockMovement.Kind.choices],
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=64)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end is before the start."))
        return data


class LocationForm(forms.Form):
    """A warehouse (every field) or a store's location (name and threshold)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Your own code, unique across locations, e.g. WH-SH-01."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    low_stock_threshold = forms.IntegerField(
        label=_("Low-stock threshold"),
        min_value=0,
        max_value=MAX_THRESHOLD,
        initial=0,
        help_text=_(
            "A SKU with this many or fewer available counts as low stock (and alerts "
            "integrators). 0 switches the alert off."
        ),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    ships_delivery = forms.BooleanField(
        label=_("Ships delivery orders"),
        required=False,
        help_text=_("Exactly one location ships delivery orders; choosing this one moves it here."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, store_location: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if store_location:
            del self.fields["code"]  # a store's location keeps the code it was given
