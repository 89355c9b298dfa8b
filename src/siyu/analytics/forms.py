"""What the analytics console and ``siyu report`` take in: a period, filters and a dimension.

:class:`DashboardForm` reads the query string of every analytics page (period picker, filters,
"group by"); :meth:`DashboardForm.query` turns it into the :class:`Period`, :class:`Filters`
and dimension the metrics functions take, or raises ``InvalidInput`` naming the field and the
reason (the pages answer 400 with it). Periods are whole local days of the merchant's time
zone; a custom period's "to" day is included, as people say "from the 1st to the 31st".

:func:`dimension_labels` names the values of a dimension (a store's name, a guide's name) for
grouped tables; :func:`filter_choices` lists what the filter selects offer.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.analytics.reference import DIMENSIONS, NO_FILTERS, SOURCES, Filters, Period
from siyu.core import clock
from siyu.core.errors import InvalidInput
from siyu.core.models import Merchant
from siyu.core.tenancy import merchant_context

# The choices shown in the period picker; "custom" takes the from and to days.
PERIODS: dict[str, Promise] = {
    "7d": _("Last 7 days"),
    "30d": _("Last 30 days"),
    "90d": _("Last 90 days"),
    "this_month": _("This month"),
    "last_month": _("Last month"),
    "this_year": _("This year"),
    "custom": _("Custom"),
}

DIMENSION_LABELS: dict[str, Promise] = {
    "store": _("Store"),
    "group": _("Group"),
    "guide": _("Guide"),
    "channel": _("Join channel"),
    "distributor": _("Distributor"),
    "campaign": _("Campaign"),
    "source": _("Source"),
}
assert set(DIMENSION_LABELS) == set(DIMENSIONS)

SOURCE_LABELS: dict[str, Promise] = {
    "live": _("Live room"),
    "campaign": _("Campaign"),
    "distributor": _("Distributor"),
    "guide": _("Guide"),
    "group": _("Group"),
    "organic": _("Organic"),
}
assert set(SOURCE_LABELS) == set(SOURCES)

# Filters on ids: the form field, and the Filters field it fills.
ID_FILTERS = {
    "store": "store_ids",
    "group": "group_ids",
    "guide": "guide_ids",
    "distributor": "distributor_ids",
    "campaign": "campaign_ids",
}

# A custom period longer than this is refused: the daily chart would be unreadable and the
# query reads every sale of it.
MAX_DAYS = 3 * 366


def local_today(merchant: Merchant) -> date:
    """Today in the merchant's time zone."""
    return clock.local(clock.now(), merchant.time_zone).date()


def period_for(key: str, today: date, start: date | None = None, end: date | None = None) -> Period:
    """The ``[start, end)`` days of a picker choice; "last N days" end with today.

    ``start`` and ``end`` (both included) are only read for ``custom``.
    """
    tomorrow = today + timedelta(days=1)
    if key in ("7d", "30d", "90d"):
        return Period(tomorrow - timedelta(days=int(key[:-1])), tomorrow)
    if key == "this_month":
        return Period(today.replace(day=1), tomorrow)
    if key == "last_month":
        first = today.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return Period(previous, first)
    if key == "this_year":
        return Period(date(today.year, 1, 1), tomorrow)
    if key == "custom":
        if start is None or end is None:
            missing = "from" if start is None else "to"
            raise InvalidInput(
                _("A custom period needs both days."), fields={missing: _("required")}
            )
        if end < start:
            raise InvalidInput(
                _("The period must end after it starts."),
                fields={"to": _("must not be before “from”")},
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise InvalidInput(
                _("The period is too long."),
                fields={"to": _("at most %(n)d days after “from”") % {"n": MAX_DAYS}},
            )
        return Period(start, end + timedelta(days=1))
    raise InvalidInput(_("Unknown period."), fields={"period": _("unknown choice")})


def month_days(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


@dataclass(frozen=True)
class DashboardQuery:
    """A parsed query string: the period, the filters, the dimension and the picker state."""

    period: Period
    period_key: str
    filters: Filters = NO_FILTERS
    by: str | None = None
    segment_id: int | None = None
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def last_day(self) -> date:
        """The last day of the period (included), as the picker shows it."""
        return self.period.end - timedelta(days=1)


class DashboardForm(forms.Form):
    """The analytics pages' query string (every field optional; see the module's doc)."""

    period = forms.ChoiceField(required=False, choices=list(PERIODS.items()))
    store = forms.IntegerField(required=False, min_value=1)
    group = forms.IntegerField(required=False, min_value=1)
    guide = forms.IntegerField(required=False, min_value=1)
    distributor = forms.IntegerField(required=False, min_value=1)
    campaign = forms.IntegerField(required=False, min_value=1)
    channel = forms.CharField(required=False, max_length=60)
    segment = forms.IntegerField(required=False, min_value=1)
    by = forms.ChoiceField(
        required=False, choices=[("", ""), *((d, DIMENSION_LABELS[d]) for d in DIMENSIONS)]
    )

    def __init__(self, data: Any, *, default_period: str = "30d", **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        # "from" is a Python keyword: these two are added by name.
        self.fields["from"] = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
        self.fields["to"] = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
        self.default_period = default_period

    def query(self, merchant: Merchant) -> DashboardQuery:
        """The parsed query, or ``InvalidInput`` naming the first bad field and why."""
        if not self.is_valid():
            fields = {
                name: "; ".join(str(e) for e in errors) for name, errors in self.errors.items()
            }
            raise InvalidInput(_("Some query parameters are not valid."), fields=fields)
        data = self.cleaned_data
        # Days given without a choice mean a custom period; with another choice they are the
        # picker's echo of the last period shown, and the choice wins.
        key = data["period"] or ("custom" if data["from"] or data["to"] else self.default_period)
        period = period_for(key, local_today(merchant), data["from"], data["to"])
        ids = {
            target: (data[name],) for name, target in ID_FILTERS.items() if data[name] is not None
        }
        customer_ids = None
        if data["segment"] is not None:
            customer_ids = segment_customer_ids(merchant, data["segment"])
        filters = Filters(
            join_channels=(data["channel"],) if data["channel"] else (),
            customer_ids=customer_ids,
            **ids,
        )
        return DashboardQuery(
            period=period,
            period_key=key,
            filters=filters,
            by=data["by"] or None,
            segment_id=data["segment"],
        )


def segment_customer_ids(merchant: Merchant, segment_id: int) -> Any:
    """The ids of a segment's customers, as a queryset (it stays in the database)."""
    from siyu.customers.models import Segment
    from siyu.customers.segments import segment_customers

    with merchant_context(merchant):
        segment = Segment.objects.filter(pk=segment_id).first()
        if segment is None:
            raise InvalidInput(_("Unknown segment."), fields={"segment": _("no such segment")})
        return segment_customers(segment).values("id")


def parse_choice(value: str | None, choices: Iterable[str], name: str, default: str) -> str:
    """A page's own choice parameter (cohort key, value shown), or 400 naming it."""
    allowed = list(choices)
    if not value:
        return default
    if value not in allowed:
        raise InvalidInput(
            _("Unknown choice."),
            fields={name: _("must be one of: %s") % ", ".join(allowed)},
        )
    return value


def filter_choices(merchant: Merchant) -> dict[str, list[tuple[Any, str]]]:
    """What the filter selects offer: stores, groups, guides, distributors, join channels,
    segments (the first 500 of each, by name)."""
    from siyu.community.models import CommunityGroup
    from siyu.core.models import Membership
    from siyu.customers.models import Customer, Segment
    from siyu.distribution.models import Distributor
    from siyu.stores.models import Store

    limit = 500
    with merchant_context(merchant):
        channels = (
            Customer.objects.exclude(join_channel="")
            .values_list("join_channel", flat=True)
            .distinct()
            .order_by("join_channel")[:limit]
        )
        return {
            "store": [(s.pk, s.name) for s in Store.objects.order_by("name", "pk")[:limit]],
            "group": [
                (g.pk, g.name) for g in CommunityGroup.objects.order_by("name", "pk")[:limit]
            ],
            "guide": [
                (m.pk, str(m.user))
                for m in Membership.objects.filter(merchant=merchant, is_active=True)
                .select_related("user")
                .order_by("pk")[:limit]
            ],
            "distributor": [
                (d.pk, _distributor_name(d))
                for d in Distributor.objects.select_related("customer").order_by("pk")[:limit]
            ],
            "channel": [(c, c) for c in channels],
            "segment": [(s.pk, s.name) for s in Segment.objects.order_by("name", "pk")[:limit]],
        }


def _distributor_name(distributor: Any) -> str:
    customer = distributor.customer
    return str(customer.name or customer.phone or distributor.share_code)


def dimension_labels(merchant: Merchant, by: str, keys: Iterable[Any]) -> dict[Any, str]:
    """A readable name for each value of dimension ``by`` (ids become names; a missing
    value is "none", an unknown id "#id")."""
    from siyu.community.models import CommunityGroup
    from siyu.core.models import Membership
    from siyu.distribution.models import Distributor
    from siyu.stores.models import Store

    keys = list(keys)
    ids = [k for k in keys if isinstance(k, int)]
    names: dict[Any, str] = {}
    with merchant_context(merchant):
        if by == "store":
            names = {s.pk: s.name for s in Store.objects.filter(pk__in=ids)}
        elif by == "group":
            names = {g.pk: g.name for g in CommunityGroup.objects.filter(pk__in=ids)}
        elif by == "guide":
            names = {
                m.pk: str(m.user)
                for m in Membership.objects.filter(merchant=merchant, pk__in=ids).select_related(
                    "user"
                )
            }
        elif by == "distributor":
            names = {
                d.pk: _distributor_name(d)
                for d in Distributor.objects.filter(pk__in=ids).select_related("customer")
            }
    result = {}
    for key in keys:
        if key is None or key == "":
            result[key] = str(_("(none)"))
        elif by == "source":
            result[key] = str(SOURCE_LABELS.get(key, key))
        elif key in names:
            result[key] = names[key]
        else:
            result[key] = str(key) if by == "channel" else f"#{key}"
    return result


UNIT_LABELS: dict[str, Promise] = {
    "weeks": pgettext_lazy("time unit", "Weeks"),
    "days": pgettext_lazy("time unit", "Days"),
}


class BacktestForm(forms.Form):
    """The lifetime-value page's holdout check: fit on the history before ``as_of`` only and
    compare with the purchases from ``as_of`` to ``to`` (both days included), in a time unit.

    :meth:`clean` checks what needs no database (``as_of`` not after ``to``, ``to`` not after
    today); the page adds the history's bounds (a sale before ``as_of``) beside the field."""

    as_of = forms.DateField(
        label=_("Fit as of"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The model sees only the sales before this day."),
    )
    to = forms.DateField(
        label=_("Compare up to"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The last day of the holdout period (included); empty for today."),
    )
    unit = forms.ChoiceField(
        label=_("Time unit"),
        choices=list(UNIT_LABELS.items()),
        initial="weeks",
    )

    def __init__(self, data: Any, *, today: date, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        as_of, last = data.get("as_of"), data.get("to")
        if last is None and "to" not in self.errors:
            last = data["to"] = self.today
        if last is not None and last > self.today:
            self.add_error(
                "to", _("Must not be after today (%(day)s).") % {"day": self.today.isoformat()}
            )
        elif as_of is not None and last is not None and as_of > last:
            self.add_error("as_of", _("Must not be after the last day compared."))
        return data

    @property
    def end(self) -> date:
        """The first day after the holdout period (what ``lifetime.backtest`` takes)."""
        return self.cleaned_data["to"] + timedelta(days=1)
