"""Console forms of the core (API keys, merchant settings, audit filters)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import Role

COMMON_ZONES = [
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Kuala_Lumpur",
    "Asia/Bangkok",
    "Europe/London",
    "America/Los_Angeles",
    "UTC",
]


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=80, help_text=_("What the key is for, e.g. “ERP sync”.")
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Role.choices,
        initial=Role.OPERATOR,
        help_text=_("The key may do what a staff member of this role may do."),
    )

    def __init__(self, *args: Any, grantable: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = set(grantable)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = [(value, label) for value, label in Role.choices if value in allowed]


class MerchantForm(forms.Form):
    name = forms.CharField(label=_("Brand name"), max_length=120)
    legal_name = forms.CharField(label=_("Legal name"), max_length=200, required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=[(z, z) for z in COMMON_ZONES]
        + [(z, z) for z in sorted(zoneinfo.available_timezones()) if z not in COMMON_ZONES],
        help_text=_("Times are stored in UTC and shown in this zone."),
    )


class AuditFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    action = forms.CharField(label=_("Action"), required=False)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
