"""Console forms of coupon templates. They read what an operator types (amounts in yuan,
shares in percent, times in the merchant's zone) and turn it into the service's values (fen,
basis points, aware datetimes); the service (``templates_admin``) decides what is valid, and
its field errors are put back next to these fields (:data:`SERVICE_FIELDS`).

Choices (tags, segments, categories, products) are read from the bound merchant by
:func:`template_form`, so a form never offers another merchant's rows.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from siyu.core.money import AmountError, parse_amount, to_decimal
from siyu.promotions.models import MAX_PER_CUSTOMER, MAX_VALID_DAYS, CouponTemplate
from siyu.promotions.templates_admin import EDITABLE_WHEN_STARTED, NOT_STARTED

T = CouponTemplate
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
MAX_PRODUCT_CHOICES = 500

# service field → form field (``scope_ids`` goes to the picker of the chosen scope)
SERVICE_FIELDS = {
    "percent_bp": "percent",
    "audience_tag_id": "audience_tag",
    "audience_segment_id": "audience_segment",
}


def _datetime(label: Any, **kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        **kwargs,
    )


class MoneyField(forms.Field):
    """Yuan as typed (``12.5``, ``¥12.50``) → fen; empty → None."""

    widget = forms.TextInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "placeholder": "0.00", "maxlength": "20"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{to_decimal(value):f}"
        return value

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            return None
        if len(text) > 20:
            raise forms.ValidationError(_("Give an amount in yuan, like 5 or 12.50."))
        try:
            return parse_amount(text)
        except AmountError:
            raise forms.ValidationError(_("Give an amount in yuan, like 5 or 12.50.")) from None


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60, help_text=_("Customers see it."))
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=T.Kind.choices, initial=T.Kind.FIXED, widget=forms.RadioSelect
    )
    amount = MoneyField(label=_("Amount off (¥)"))
    percent = forms.CharField(
        label=_("Share off (%)"),
        required=False,
        max_length=6,
        help_text=_("15 takes 15 percent off the eligible goods."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    cap = MoneyField(label=_("At most (¥)"), help_text=_("Empty: no cap."))
    threshold = MoneyField(
        label=_("Minimum spend (¥)"), help_text=_("Of eligible goods. Empty: none.")
    )
    validity = forms.ChoiceField(
        label=_("Valid"),
        choices=T.Validity.choices,
        initial=T.Validity.DAYS,
        widget=forms.RadioSelect,
    )
    valid_days = forms.IntegerField(
        label=_("Days after claiming"), required=False, min_value=1, max_value=MAX_VALID_DAYS
    )
    valid_from = _datetime(_("Valid from"), help_text=_("In the merchant's time zone."))
    valid_until = _datetime(_("Valid until"), help_text=_("In the merchant's time zone."))
    total_quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    per_customer_limit = forms.IntegerField(
        label=_("Per customer"), min_value=1, max_value=MAX_PER_CUSTOMER, initial=1
    )
    audience = forms.ChoiceField(
        label=_("Who may claim"),
        choices=T.Audience.choices,
        initial=T.Audience.EVERYONE,
        widget=forms.RadioSelect,
    )
    audience_tag = forms.TypedChoiceField(
        label=_("Tag"), required=False, coerce=int, empty_value=None
    )
    audience_segment = forms.TypedChoiceField(
        label=_("Segment"), required=False, coerce=int, empty_value=None
    )
    scope = forms.ChoiceField(
        label=_("Applies to"),
        choices=T.Scope.choices,
        initial=T.Scope.ALL,
        widget=forms.RadioSelect,
    )
    categories = forms.TypedMultipleChoiceField(
        label=_("Categories"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("With every category below them."),
    )
    products = forms.TypedMultipleChoiceField(
        label=_("Products"),
        required=False,
        coerce=int,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    stackable = forms.BooleanField(label=_("Can be combined with other coupons"), required=False)
    issue_on_group_join = forms.BooleanField(
        label=_("Give one to each customer who joins a group"), required=False
    )
    issue_on_first_order = forms.BooleanField(
        label=_("Give one after a customer's first paid order"), required=False
    )

    def __init__(self, *args: Any, template: CouponTemplate | None = None, **kwargs: Any) -> None:
        self.template = template
        if template is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(template)
        super().__init__(*args, **kwargs)
        self.started = template is not None and template.status not in NOT_STARTED
        if self.started:
            for name, field in self.fields.items():
                if name not in EDITABLE_WHEN_STARTED:
                    field.disabled = True

    def clean_percent(self) -> int | None:
        text = (self.cleaned_data.get("percent") or "").strip().rstrip("%").strip()
        if not text:
            return None
        try:
            share = Decimal(text)
        except InvalidOperation:
            share = Decimal(-1)
        if (
            not share.is_finite()
            or not 0 < share <= 100
            or share != share.quantize(Decimal("0.01"))
        ):
            raise forms.ValidationError(_("Give a share from 0.01 to 100, like 15 or 8.5."))
        return int(share * 100)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.started:
            return data
        kind = data.get("kind")
        if kind in (T.Kind.FIXED, T.Kind.THRESHOLD) and not data.get("amount"):
            self.add_error("amount", _("Give the amount off, like 5 or 12.50."))
        if kind == T.Kind.PERCENT and "percent" not in self.errors and not data.get("percent"):
            self.add_error("percent", _("Give the share off, like 15 for 15 percent."))
        if (
            kind == T.Kind.THRESHOLD
            and "threshold" not in self.errors
            and not data.get("threshold")
        ):
            self.add_error("threshold", _("A spend-and-save coupon needs a minimum spend."))
        validity = data.get("validity")
        if (
            validity == T.Validity.DAYS
            and not data.get("valid_days")
            and not self.has_error("valid_days")
        ):
            self.add_error("valid_days", _("How many days after claiming?"))
        if (
            validity == T.Validity.DATES
            and not data.get("valid_until")
            and not self.has_error("valid_until")
        ):
            self.add_error("valid_until", _("Give the date and time it ends."))
        scope = data.get("scope")
        if scope == T.Scope.CATEGORIES and not data.get("categories"):
            self.add_error("categories", _("Choose at least one category."))
        if scope == T.Scope.PRODUCTS and not data.get("products"):
            self.add_error("products", _("Choose at least one product."))
        if data.get("audience") == T.Audience.TAG and not data.get("audience_tag"):
            self.add_error("audience_tag", _("Choose one of your tags."))
        if data.get("audience") == T.Audience.SEGMENT and not data.get("audience_segment"):
            self.add_error("audience_segment", _("Choose one of your segments."))
        return data

    def service_data(self) -> dict[str, Any]:
        """The service's values: every field for a new or unstarted template, only what
        changed among the editable ones for a started one."""
        d = self.cleaned_data
        scope = d["scope"]
        values: dict[str, Any] = {
            "name": d["name"],
            "description": d["description"],
            "kind": d["kind"],
            "amount": d["amount"] or 0,
            "percent_bp": d["percent"] or 0,
            "cap": d["cap"],
            "threshold": d["threshold"] or 0,
            "validity": d["validity"],
            "valid_from": d["valid_from"],
            "valid_until": d["valid_until"],
            "valid_days": d["valid_days"],
            "total_quantity": d["total_quantity"],
            "per_customer_limit": d["per_customer_limit"],
            "audience": d["audience"],
            "audience_tag_id": d["audience_tag"],
            "audience_segment_id": d["audience_segment"],
            "scope": scope,
            "scope_ids": d["categories"] if scope == T.Scope.CATEGORIES else d["products"],
            "stackable": d["stackable"],
            "issue_on_group_join": d["issue_on_group_join"],
            "issue_on_first_order": d["issue_on_first_order"],
        }
        if self.started and self.template is not None:
            return {
                k: v
                for k, v in values.items()
                if k in EDITABLE_WHEN_STARTED and v != getattr(self.template, k)
            }
        return values

    def service_field(self, name: str) -> str | None:
        """The form field a service error on ``name`` belongs to (None: the top of the form)."""
        if name == "scope_ids":
            scope = self.cleaned_data.get("scope") if hasattr(self, "cleaned_data") else None
            return "categories" if scope == T.Scope.CATEGORIES else "products"
        field = SERVICE_FIELDS.get(name, name)
        return field if field in self.fields else None


def initial_of(template: CouponTemplate) -> dict[str, Any]:
    scope_ids = list(template.scope_ids or [])
    return {
        "name": template.name,
        "description": template.description,
        "kind": template.kind,
        "amount": template.amount or None,
        "percent": f"{template.percent_bp / 100:g}" if template.percent_bp else "",
        "cap": template.cap,
        "threshold": template.threshold or None,
        "validity": template.validity,
        "valid_days": template.valid_days,
        "valid_from": template.valid_from,
        "valid_until": template.valid_until,
        "total_quantity": template.total_quantity,
        "per_customer_limit": template.per_customer_limit,
        "audience": template.audience,
        "audience_tag": template.audience_tag_id,
        "audience_segment": template.audience_segment_id,
        "scope": template.scope,
        "categories": scope_ids if template.scope == T.Scope.CATEGORIES else [],
        "products": scope_ids if template.scope == T.Scope.PRODUCTS else [],
        "stackable": template.stackable,
        "issue_on_group_join": template.issue_on_group_join,
        "issue_on_first_order": template.issue_on_first_order,
    }


def category_choices() -> list[tuple[int, str]]:
    """The bound merchant's categories, each under its parents (``Drinks › Coffee``)."""
    from siyu.catalog.models import Category

    rows = {
        pk: (name, parent)
        for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")
    }

    def path(pk: int) -> str:
        names: list[str] = []
        seen: set[int] = set()
        current: int | None = pk
        while current is not None and current in rows and current not in seen:
            seen.add(current)
            names.append(rows[current][0])
            current = rows[current][1]
        return " › ".join(reversed(names))

    return sorted(((pk, path(pk)) for pk in rows), key=lambda c: c[1])


def template_form(data: Any = None, *, template: CouponTemplate | None = None) -> TemplateForm:
    """The form with the bound merchant's tags, segments, categories and products."""
    from siyu.catalog.models import Product
    from siyu.customers.models import Segment, Tag

    form = TemplateForm(data, template=template)
    blank = [("", "—")]
    form.fields["audience_tag"].choices = blank + list(  # type: ignore[attr-defined]
        Tag.objects.order_by("name").values_list("pk", "name")
    )
    form.fields["audience_segment"].choices = blank + list(  # type: ignore[attr-defined]
        Segment.objects.order_by("name").values_list("pk", "name")
    )
    form.fields["categories"].choices = category_choices()  # type: ignore[attr-defined]
    chosen = set(template.scope_ids or []) if template is not None else set()
    products = Product.objects.exclude(status=Product.Status.ARCHIVED) | Product.objects.filter(
        pk__in=chosen
    )
    form.fields["products"].choices = list(  # type: ignore[attr-defined]
        products.order_by("name", "pk").values_list("pk", "name")[:MAX_PRODUCT_CHOICES]
    )
    return form


class ScheduleForm(forms.Form):
    starts_at = _datetime(_("Start at"), help_text=_("In the merchant's time zone."))


class IssueForm(forms.Form):
    customer = forms.CharField(
        label=_("Customer"),
        max_length=40,
        help_text=_("Their mobile number or customer number."),
    )
