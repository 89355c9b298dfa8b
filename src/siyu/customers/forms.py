"""Forms of the customer pages (console and storefront). They parse; the services validate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.customers.models import Customer


class CustomerFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": _("Phone number or name")}),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Customer.Status.choices]
    )
    join_channel = forms.ChoiceField(label=_("Join channel"), required=False)

    def __init__(self, *args: Any, channels: Iterable[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = self.fields["join_channel"]
        assert isinstance(channel, forms.ChoiceField)
        channel.choices = [("", _("Any")), *channels]


class SmsFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=40,
        widget=forms.TextInput(
            attrs={"placeholder": _("Digits of the number"), "inputmode": "tel"}
        ),
    )


# --- storefront -----------------------------------------------------------------------


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "placeholder": "138 1234 5678",
            }
        ),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "placeholder": "123456",
            }
        ),
    )


class ProfileForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("a person's name", "Name"), required=False, max_length=80
    )


class AddressForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), max_length=40)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel"}),
    )
    province = forms.CharField(
        label=_("Province"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1", "placeholder": "上海市"}),
    )
    city = forms.CharField(
        label=_("City"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2", "placeholder": "上海市"}),
    )
    district = forms.CharField(
        label=_("District"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "address-level3", "placeholder": "静安区"}),
    )
    street = forms.CharField(
        label=_("Street address"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("Street, number, building, floor and room."),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    is_default = forms.BooleanField(label=_("Use as my default address"), required=False)
