"""Console forms of webhooks. They parse input; the rules live in ``services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.events import EVENT_TYPES
from siyu.webhooks import selectors
from siyu.webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookEndpoint


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text=_("Siyu POSTs a signed JSON body here for every event you choose."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What receives these events, e.g. “ERP order sync”."),
    )
    all_events = forms.BooleanField(
        label=_("Every event, including types added later"), required=False
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"), required=False, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, endpoint: WebhookEndpoint | None = None, **kwargs: Any) -> None:
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "url": endpoint.url,
                "description": endpoint.description,
                "all_events": endpoint.subscribes_to_all,
                "event_types": [] if endpoint.subscribes_to_all else endpoint.event_types,
                "is_active": endpoint.is_active,
            }
        super().__init__(*args, **kwargs)
        self.areas = selectors.event_areas()  # whatever is registered now
        field = self.fields["event_types"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(e.name, e.label) for area in self.areas for e in area.events]
        if endpoint is not None:
            # editing leaves enabling/disabling to its own button
            del self.fields["is_active"]

    def chosen_event_types(self) -> list[str]:
        if self.cleaned_data.get("all_events"):
            return [ALL_EVENTS]
        return list(self.cleaned_data.get("event_types") or [])

    def grouped_checkboxes(self) -> list[tuple[str, list[Any]]]:
        """The event checkboxes grouped by area, for the template."""
        by_value = {widget.data["value"]: widget for widget in self["event_types"]}
        return [
            (area.label, [by_value[e.name] for e in area.events if e.name in by_value])
            for area in self.areas
        ]


GRACE_CHOICES = [
    (0, _("Immediately: the old secret stops working now")),
    (1, _("After 1 hour")),
    (24, _("After 24 hours")),
    (72, _("After 3 days")),
]


class RotateSecretForm(forms.Form):
    grace_hours = forms.TypedChoiceField(
        label=_("Old secret expires"), choices=GRACE_CHOICES, coerce=int, initial=0
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    event_type = forms.ChoiceField(label=_("Event"), required=False)
    endpoint = forms.TypedChoiceField(label=_("Endpoint"), required=False, coerce=int)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, endpoints: list[WebhookEndpoint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("All"))]
        status = self.fields["status"]
        event_type = self.fields["event_type"]
        endpoint = self.fields["endpoint"]
        assert isinstance(status, forms.ChoiceField)
        assert isinstance(event_type, forms.ChoiceField)
        assert isinstance(endpoint, forms.ChoiceField)
        status.choices = everything + list(WebhookDelivery.Status.choices)
        event_type.choices = everything + [
            (name, f"{EVENT_TYPES[name].label} · {name}") for name in sorted(EVENT_TYPES)
        ]
        endpoint.choices = everything + [(e.pk, e.description or e.url) for e in endpoints]
