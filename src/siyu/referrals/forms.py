"""Console forms of referrals. They parse input; the services validate and decide.

The coupon templates offered are the bound merchant's started ones, given by the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.referrals.models import Referral, RewardKind

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )


def _cap(label: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, help_text=_("Empty: no limit.")
    )


class ProgrammeForm(forms.Form):
    starts_at = _datetime(_("Starts"))
    ends_at = _datetime(_("Ends"))
    message = forms.CharField(
        label=_("Invitation message"),
        required=False,
        max_length=200,
        help_text=_("Shown to friends on the invitation page."),
    )
    invitee_reward = forms.ChoiceField(label=_("The friend gets"), choices=RewardKind.choices)
    invitee_template_id = forms.TypedChoiceField(
        label=_("Coupon for the friend"), required=False, coerce=int, empty_value=None
    )
    invitee_points = forms.IntegerField(
        label=_("Points for the friend"), required=False, min_value=0
    )
    inviter_reward = forms.ChoiceField(
        label=_("The inviter gets (after the friend's first completed order)"),
        choices=RewardKind.choices,
    )
    inviter_template_id = forms.TypedChoiceField(
        label=_("Coupon for the inviter"), required=False, coerce=int, empty_value=None
    )
    inviter_points = forms.IntegerField(
        label=_("Points for the inviter"), required=False, min_value=0
    )
    cap_per_month = _cap(_("Friends per inviter a month"))
    cap_total = _cap(_("Friends per inviter in total"))
    guard_phone = forms.BooleanField(
        label=_("Block a friend with the same phone as another friend of the inviter"),
        required=False,
    )
    guard_device = forms.BooleanField(
        label=_("Block a friend on the inviter's device or another friend's device"),
        required=False,
    )
    guard_address = forms.BooleanField(
        label=_("Block a first order delivered to the inviter's address"), required=False
    )
    code_entry_days = forms.IntegerField(
        label=_("Days a new customer may type a friend's code"), min_value=0, max_value=90
    )

    def __init__(self, *args: Any, templates: Sequence[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *templates]
        self.fields["invitee_template_id"].choices = choices  # type: ignore[attr-defined]
        self.fields["inviter_template_id"].choices = choices  # type: ignore[attr-defined]

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        for name in ("invitee_points", "inviter_points"):
            data[name] = data[name] or 0
        return data


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Referral.Status.choices]
    )
    reason = forms.ChoiceField(
        label=_("Blocked because"),
        required=False,
        choices=[("", _("Any reason")), *Referral.Reason.choices[1:]],
    )
    reward_failed = forms.BooleanField(label=_("Rewards not issued"), required=False)


class TreeForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer"),
        max_length=40,
        help_text=_("A customer's number (ID) or phone."),
    )
