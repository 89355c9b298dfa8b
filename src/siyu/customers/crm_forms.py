"""Forms of the CRM console pages (filters, profile, identities, notes, import). They parse;
the services validate."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.customers.forms import CustomerFilterForm
from siyu.customers.models import Consent, Customer, CustomerIdentity


class CrmFilterForm(CustomerFilterForm):
    home_store = forms.TypedChoiceField(
        label=_("Home store"), required=False, coerce=int, empty_value=None
    )
    owner_guide = forms.TypedChoiceField(
        label=_("Guide"), required=False, coerce=int, empty_value=None
    )
    has_ordered = forms.ChoiceField(
        label=_("Orders"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Has ordered")), ("no", _("Never ordered"))],
    )
    refused = forms.ChoiceField(
        label=_("Marketing refused"),
        required=False,
        choices=[("", _("Any")), ("any", _("Any channel")), *Consent.Channel.choices],
    )

    def __init__(
        self,
        *args: Any,
        stores: Iterable[tuple[int, str]] = (),
        guides: Iterable[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["home_store"]
        guide = self.fields["owner_guide"]
        assert isinstance(store, forms.ChoiceField)
        assert isinstance(guide, forms.ChoiceField)
        store.choices = [("", _("Any")), *stores]
        guide.choices = [("", _("Any")), *guides]


class ProfileEditForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("a person's name", "Name"), required=False, max_length=80
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False, choices=Customer.Gender.choices)
    birthday = forms.CharField(
        label=_("Birthday"),
        required=False,
        max_length=10,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    city = forms.CharField(label=_("City"), required=False, max_length=40)
    home_store = forms.ChoiceField(label=_("Home store"), required=False)

    def __init__(self, *args: Any, stores: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["home_store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", _("None")), *stores]


class IdentityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CustomerIdentity.Kind.choices)
    value = forms.CharField(label=_("Id"), max_length=128)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: phone (required), name, gender, birthday, city, store, guide, tags, "
            "external_id, wechat_openid, wechat_unionid, consent_marketing."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
