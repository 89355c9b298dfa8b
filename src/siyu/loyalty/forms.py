"""Console forms of loyalty: operators type yuan, percentages and multipliers; the services
take fen and basis points (converted here, exactly)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.loyalty.models import BASIS_POINTS, LoyaltySettings, MemberTier


def _bp(value: Decimal | None) -> int:
    return int((value or Decimal(0)) * 100)


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Points enabled"), required=False)
    earn_per_yuan = forms.IntegerField(label=_("Points per ¥1 paid"), min_value=0, max_value=1000)
    fen_per_point = forms.IntegerField(
        label=_("Value of one point (fen)"),
        min_value=1,
        max_value=10_000,
        help_text=_("1: 100 points pay ¥1."),
    )
    max_redeem_percent = forms.DecimalField(
        label=_("Most of an order paid with points (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
    )
    expiry = forms.ChoiceField(label=_("Points expire"), choices=LoyaltySettings.Expiry.choices)
    expiry_days = forms.IntegerField(
        label=_("Days until expiry"), min_value=1, max_value=3650, required=False
    )
    sign_in_points = forms.IntegerField(label=_("Daily sign-in points"), min_value=0)
    first_order_points = forms.IntegerField(label=_("First order points"), min_value=0)
    review_points = forms.IntegerField(label=_("Review points"), min_value=0)

    @classmethod
    def of(cls, row: LoyaltySettings, data: Any = None) -> SettingsForm:
        initial = {
            "enabled": row.enabled,
            "earn_per_yuan": row.earn_per_yuan,
            "fen_per_point": row.fen_per_point,
            "max_redeem_percent": Decimal(row.max_redeem_bp) / 100,
            "expiry": row.expiry,
            "expiry_days": row.expiry_days,
            "sign_in_points": row.sign_in_points,
            "first_order_points": row.first_order_points,
            "review_points": row.review_points,
        }
        return cls(data, initial=initial)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["max_redeem_bp"] = _bp(data.pop("max_redeem_percent"))
        data["expiry_days"] = data.get("expiry_days") or 365
        return data


class TierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=40)
    basis = forms.ChoiceField(label=_("Reached by"), choices=MemberTier.Basis.choices)
    threshold = forms.DecimalField(
        label=_("Threshold"),
        min_value=0,
        decimal_places=2,
        max_digits=15,
        help_text=_("Yuan of spend, or points earned, in the last 12 months."),
    )
    discount_percent = forms.DecimalField(
        label=_("Discount on every order (%)"), min_value=0, max_value=90, decimal_places=2
    )
    points_multiplier = forms.DecimalField(
        label=_("Points multiplier"), min_value=0, max_value=10, decimal_places=2
    )
    free_shipping = forms.BooleanField(label=_("Free delivery"), required=False)

    @classmethod
    def of(cls, tier: MemberTier | None, data: Any = None) -> TierForm:
        if tier is None:
            initial: dict[str, Any] = {
                "basis": MemberTier.Basis.SPEND,
                "threshold": 0,
                "discount_percent": 0,
                "points_multiplier": 1,
            }
        else:
            threshold = (
                Decimal(tier.threshold) / 100
                if tier.basis == MemberTier.Basis.SPEND
                else Decimal(tier.threshold)
            )
            initial = {
                "name": tier.name,
                "basis": tier.basis,
                "threshold": threshold,
                "discount_percent": Decimal(tier.discount_bp) / 100,
                "points_multiplier": Decimal(tier.points_multiplier_bp) / BASIS_POINTS,
                "free_shipping": tier.free_shipping,
            }
        return cls(data, initial=initial)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        threshold = data["threshold"]
        return {
            "name": data["name"],
            "basis": data["basis"],
            "threshold": int(threshold * 100)
            if data["basis"] == MemberTier.Basis.SPEND
            else int(threshold),
            "discount_bp": _bp(data["discount_percent"]),
            "points_multiplier_bp": int(data["points_multiplier"] * BASIS_POINTS),
            "free_shipping": bool(data["free_shipping"]),
        }


class AdjustForm(forms.Form):
    points = forms.IntegerField(
        label=_("Points"), help_text=_("Positive to add, negative to take away.")
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)


class FindCustomerForm(forms.Form):
    q = forms.CharField(label=_("Phone or name"), max_length=40, required=False)
