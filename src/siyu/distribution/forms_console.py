"""Forms of the distribution console pages (web layer: they only parse and show input;
the services validate and change)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.core.money import AmountError, parse_amount
from siyu.distribution.models import (
    CommissionEntry,
    CommissionRule,
    DistributionSettings,
    Distributor,
    Withdrawal,
)


class YuanField(forms.CharField):
    """An amount typed in yuan (``8``, ``8.5``, ``¥8.50``) → fen."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_amount(text)
        except AmountError as exc:
            raise forms.ValidationError(_("Give an amount in yuan, e.g. 8 or 8.50.")) from exc


class PercentField(forms.CharField):
    """A percentage typed with at most two decimals (``10``, ``2.5``) → basis points."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = (super().to_python(value) or "").strip().rstrip("%").strip()
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise forms.ValidationError(_("Give a percentage, e.g. 10 or 2.5.")) from exc
        if not number.is_finite():
            raise forms.ValidationError(_("Give a percentage, e.g. 10 or 2.5."))
        bp = number * 100
        if bp != bp.to_integral_value():
            raise forms.ValidationError(_("At most two decimals, e.g. 2.55."))
        if not 0 <= bp <= 10_000:
            raise forms.ValidationError(_("From 0 to 100."))
        return int(bp)


def percent_text(bp: int) -> str:
    """Basis points as the percentage a form shows: 1000 → ``10``, 250 → ``2.5``."""
    return format((Decimal(bp) / 100).normalize(), "f")


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=_("Distribution on"), required=False)
    enrolment = forms.ChoiceField(
        label=_("Who may become a distributor"),
        choices=DistributionSettings.Enrolment.choices,
        help_text=_(
            "Joining is always free. Never charge for becoming a distributor: Chinese law "
            "treats paid entry as pyramid selling."
        ),
    )
    binding_policy = forms.ChoiceField(
        label=_("Binding"), choices=DistributionSettings.BindingPolicy.choices
    )
    protection_days = forms.IntegerField(
        label=_("Protection period (days)"),
        help_text=_(
            "With “first link wins”: how long another distributor's link cannot take over."
        ),
    )
    self_purchase = forms.BooleanField(label=_("Commission on own purchases"), required=False)
    settlement_delay_days = forms.IntegerField(
        label=_("Settle after completion (days)"),
        help_text=_("The return window: commission settles this many days after completion."),
    )
    second_level = forms.BooleanField(label=_("Second level"), required=False)
    second_level_rate = PercentField(
        label=_("Second level rate (%)"),
        required=False,
        help_text=_(
            "What a distributor's inviter earns of their sales. Never more than two levels."
        ),
    )
    minimum_withdrawal = YuanField(label=_("Minimum withdrawal (yuan)"))

    @classmethod
    def initial_of(cls, row: DistributionSettings) -> dict[str, Any]:
        return {
            "enabled": row.enabled,
            "enrolment": row.enrolment,
            "binding_policy": row.binding_policy,
            "protection_days": row.protection_days,
            "self_purchase": row.self_purchase,
            "settlement_delay_days": row.settlement_delay_days,
            "second_level": row.second_level,
            "second_level_rate": percent_text(row.second_level_rate_bp),
            "minimum_withdrawal": f"{row.minimum_withdrawal / 100:.2f}",
        }

    def changes(self) -> dict[str, Any]:
        """The cleaned data as the service's setting names."""
        data = dict(self.cleaned_data)
        rate = data.pop("second_level_rate")
        if rate is not None:
            data["second_level_rate_bp"] = rate
        return data


FIELD_OF_SETTING = {"second_level_rate_bp": "second_level_rate"}


class RuleForm(forms.Form):
    scope = forms.ChoiceField(
        label=pgettext_lazy("commission rule", "Applies to"), choices=CommissionRule.Scope.choices
    )
    category = forms.TypedChoiceField(
        label=_("Category"), coerce=int, required=False, empty_value=None
    )
    product = forms.TypedChoiceField(
        label=pgettext_lazy("commission rule", "Product"),
        coerce=int,
        required=False,
        empty_value=None,
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=CommissionRule.Kind.choices)
    rate = PercentField(label=_("Rate (%)"), required=False)
    fixed = YuanField(label=_("Amount per unit (yuan)"), required=False)

    def __init__(
        self,
        *args: Any,
        categories: list[tuple[int, str]] = [],  # noqa: B006  (read only)
        products: list[tuple[int, str]] = [],  # noqa: B006
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        blank = [("", "—")]
        category = self.fields["category"]
        product = self.fields["product"]
        assert isinstance(category, forms.ChoiceField)
        assert isinstance(product, forms.ChoiceField)
        category.choices = blank + list(categories)
        product.choices = blank + list(products)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # a value the field refused already has its reason: one message beside a field
        kind = data.get("kind")
        if (
            kind == CommissionRule.Kind.PERCENT
            and data.get("rate") is None
            and "rate" not in self.errors
        ):
            self.add_error("rate", _("Give the rate."))
        if (
            kind == CommissionRule.Kind.FIXED
            and data.get("fixed") is None
            and "fixed" not in self.errors
        ):
            self.add_error("fixed", _("Give the amount per unit."))
        return data

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        scope = data["scope"]
        return {
            "scope": scope,
            "kind": data["kind"],
            "rate_bp": data.get("rate") or 0,
            "fixed_fen": data.get("fixed") or 0,
            "category_id": data.get("category") if scope == CommissionRule.Scope.CATEGORY else None,
            "product_id": data.get("product") if scope == CommissionRule.Scope.PRODUCT else None,
        }


FIELD_OF_RULE = {
    "rate_bp": "rate",
    "fixed_fen": "fixed",
    "category_id": "category",
    "product_id": "product",
}


class DistributorFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _("Share code, phone or name")}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), *Distributor.Status.choices],
    )


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (Distributor.Status.APPROVED, _("Approve")),
            (Distributor.Status.REJECTED, _("Reject")),
            (Distributor.Status.SUSPENDED, _("Suspend")),
        ]
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


class LedgerFilterForm(forms.Form):
    distributor = forms.CharField(
        label=_("Distributor's share code"), required=False, max_length=16
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All")), *CommissionEntry.Kind.choices]
    )
    order = forms.CharField(label=_("Order number"), required=False, max_length=24)
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class WithdrawalFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *Withdrawal.Status.choices]
    )


class RejectWithdrawalForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PayWithdrawalForm(forms.Form):
    reference = forms.CharField(
        label=_("Bank transfer reference"),
        max_length=80,
        help_text=_("The reference of the transfer you made; it goes into the accounting export."),
    )


# --- shopping guides' commission (views_console_guides) -----------------------------------------


class GuideRuleForm(RuleForm):
    """A guides' rule: the same fields as the distributors' rule. When editing a rule its
    target (scope, category, product) is fixed; only its kind and rate change."""

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            for name in ("scope", "category", "product"):
                self.fields[name].disabled = True


class GuideLedgerFilterForm(forms.Form):
    guide = forms.TypedChoiceField(
        label=_("Shopping guide"), coerce=int, required=False, empty_value=None
    )
    kind = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *CommissionEntry.Kind.choices]
    )

    def __init__(
        self,
        *args: Any,
        guides: list[tuple[int, str]] = [],  # noqa: B006  (read only)
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        guide = self.fields["guide"]
        assert isinstance(guide, forms.ChoiceField)
        guide.choices = [("", _("All")), *guides]
