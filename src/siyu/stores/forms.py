"""Console forms of stores and staff. They parse input; the services decide and validate."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import Role
from siyu.stores import hours
from siyu.stores.models import Store
from siyu.stores.services import STORE_FIELDS

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    StrOrPromise = str | _StrPromise

YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


# --- opening hours -----------------------------------------------------------------


def _for_time_input(value: str) -> str:
    # <input type="time"> has no 24:00: midnight as a closing time is shown as 00:00
    return "00:00" if value == "24:00" else value


class OpeningHoursWidget(forms.Widget):
    """One row of "opens – closes" time inputs per range, per weekday (Alpine.js adds rows).

    Posts ``hours-<day>-open`` and ``hours-<day>-close`` once per range. A range
    from 00:00 to 00:00 means open all day.
    """

    template_name = "stores/widgets/opening_hours.html"

    def value_from_datadict(
        self, data: Mapping[str, Any], files: MultiValueDict, name: str
    ) -> hours.WeeklyHours:
        getlist = getattr(data, "getlist", lambda key: [data[key]] if key in data else [])
        result: hours.WeeklyHours = {}
        for day in hours.DAYS:
            opens = getlist(f"hours-{day}-open")
            closes = getlist(f"hours-{day}-close")
            ranges: list[list[str]] = []
            for o, c in zip(opens, closes, strict=False):
                o, c = (o or "").strip()[:5], (c or "").strip()[:5]
                if not o and not c:
                    continue  # an empty row is no range
                if o == "00:00" and c == "00:00":
                    c = "24:00"
                ranges.append([o, c])
            result[day] = ranges
        return result

    def value_omitted_from_data(
        self, data: Mapping[str, Any], files: MultiValueDict, name: str
    ) -> bool:
        return False

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        current = value if isinstance(value, dict) else {}
        days = {
            day: [[_for_time_input(str(part)) for part in pair] for pair in current.get(day) or []]
            for day in hours.DAYS
        }
        context["days"] = [
            {
                "key": day,
                "name": hours.DAY_NAMES[day],
                "previous": hours.DAYS[i - 1] if i else "",
                "previous_name": hours.DAY_NAMES[hours.DAYS[i - 1]] if i else "",
            }
            for i, day in enumerate(hours.DAYS)
        ]
        context["days_json"] = json.dumps(days)
        return context


class OpeningHoursField(forms.Field):
    widget = OpeningHoursWidget
    default_error_messages = {"invalid": _("Check the opening hours.")}

    def to_python(self, value: Any) -> hours.WeeklyHours:
        normalized, errors = hours.validate(value, field="")
        if errors:
            raise ValidationError([self._describe(name, reason) for name, reason in errors.items()])
        return normalized

    @staticmethod
    def _describe(name: str, reason: str) -> str:
        parts = name.strip(".").split(".")
        day = hours.DAY_NAMES.get(parts[0]) if parts and parts[0] else None
        if day is None:
            return reason
        if len(parts) > 1 and parts[1].isdigit():
            return gettext("%(day)s, hours %(n)s: %(reason)s") % {
                "day": day,
                "n": int(parts[1]) + 1,
                "reason": reason,
            }
        return gettext("%(day)s: %(reason)s") % {"day": day, "reason": reason}


# --- stores ---------------------------------------------------------------------------


class StoreFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    city = forms.ChoiceField(label=_("City"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Store.Status.choices]
    )
    pickup = forms.ChoiceField(label=_("Pickup"), required=False, choices=YES_NO)

    def __init__(
        self,
        *args: Any,
        cities: Iterable[str] = (),
        districts: Iterable[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        city = self.fields["city"]
        assert isinstance(city, forms.ChoiceField)
        city.choices = [("", _("All cities")), *((c, c) for c in cities)]
        district = self.fields["district"]
        assert isinstance(district, forms.ChoiceField)
        district.choices = [("", _("All districts")), *((d, d) for d in districts)]


def _coordinate(
    label: StrOrPromise, minimum: int, maximum: int, help_text: StrOrPromise
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=minimum,
        max_value=maximum,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


MAP_HINT = _(
    "In Amap or Baidu Maps, long-press the store's door: the coordinates appear in the "
    "place card (latitude first, e.g. 31.229115, 121.454906)."
)


class StoreManagerForm(forms.Form):
    """What a store manager may change at their own stores."""

    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=32,
        help_text=_("Landline with area code, mobile or 400 number."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    opening_hours = OpeningHoursField(
        label=_("Opening hours"),
        required=False,
        help_text=_(
            "Several ranges a day for a break; 22:00–02:00 runs past midnight; "
            "00:00–00:00 is open all day; a day without hours is closed."
        ),
    )
    pickup_enabled = forms.BooleanField(label=_("In-store pickup"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (Store.Status.OPEN, Store.Status.OPEN.label),
            (Store.Status.TEMPORARILY_CLOSED, Store.Status.TEMPORARILY_CLOSED.label),
        ],
        help_text=_("Temporarily closed stores are hidden from pickup and “open now” searches."),
    )


class StoreForm(StoreManagerForm):
    """Every field of a store (owners and operators)."""

    field_order = list(STORE_FIELDS)

    code = forms.CharField(
        label=_("Store code"),
        max_length=32,
        help_text=_("Your own code, unique across your stores, e.g. SH-JA-001."),
    )
    name = forms.CharField(label=_("Name"), max_length=100)
    province = forms.CharField(label=_("Province"), max_length=40, required=False)
    city = forms.CharField(label=_("City"), max_length=40)
    district = forms.CharField(label=_("District"), max_length=40, required=False)
    address = forms.CharField(label=_("Street address"), max_length=255)
    latitude = _coordinate(_("Latitude"), -90, 90, MAP_HINT)
    longitude = _coordinate(_("Longitude"), -180, 180, _("Degrees east, e.g. 121.454906."))

    def __init__(self, *args: Any, allow_closed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allow_closed:  # an operator editing a store closed for good may reopen it
            status = self.fields["status"]
            assert isinstance(status, forms.ChoiceField)
            status.choices = Store.Status.choices


class NearestForm(forms.Form):
    lat = _coordinate(_("Latitude"), -90, 90, MAP_HINT)
    lng = _coordinate(_("Longitude"), -180, 180, _("Degrees east, e.g. 121.454906."))
    limit = forms.IntegerField(
        label=_("How many"),
        min_value=1,
        max_value=50,
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "10"}),
    )
    radius_km = forms.DecimalField(
        label=_("Within (km)"),
        required=False,
        min_value=0.1,
        max_value=20000,
        help_text=_("Leave empty to find the nearest stores however far."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    pickup = forms.BooleanField(label=_("Pickup only"), required=False)
    open_now = forms.BooleanField(label=_("Open now only"), required=False)


# --- staff ------------------------------------------------------------------------------


def _role_choices(grantable: Iterable[str]) -> list[tuple[str, str]]:
    allowed = set(grantable)
    return [(value, str(label)) for value, label in Role.choices if value in allowed]


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("All roles")), *Role.choices]
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    active = forms.ChoiceField(
        label=_("Active"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Active")), ("no", _("Deactivated"))],
    )

    def __init__(self, *args: Any, stores: Iterable[tuple[int, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", _("All stores")), *stores]


STORES_HELP = _("For store managers and shopping guides. Hold Ctrl (⌘ on a Mac) to choose several.")


class _StaffStoresMixin(forms.Form):
    def __init__(
        self,
        *args: Any,
        grantable: Iterable[str] = (),
        stores: Iterable[tuple[int, str]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        role = self.fields["role"]
        assert isinstance(role, forms.ChoiceField)
        role.choices = _role_choices(grantable)
        store_field = self.fields["stores"]
        assert isinstance(store_field, forms.ChoiceField)
        store_field.choices = list(stores)


class StaffAddForm(_StaffStoresMixin):
    mode = forms.ChoiceField(
        label=pgettext_lazy("add staff: new or existing login", "Who"),
        choices=[
            ("new", _("A new person: create their login")),
            ("existing", _("Someone with a Siyu login already (e.g. at another brand)")),
        ],
        initial="new",
        widget=forms.RadioSelect,
    )
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("What they type to log in, e.g. zhang.yue."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    display_name = forms.CharField(
        label=pgettext_lazy("a person's name", "Name"), max_length=80, required=False
    )
    phone = forms.CharField(
        label=_("Mobile"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(
        label=_("Initial password"),
        required=False,
        help_text=_("At least 8 characters; tell it to them in person."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=True),
    )
    role = forms.ChoiceField(label=_("Role"))
    stores = forms.TypedMultipleChoiceField(
        label=_("Stores"), required=False, coerce=int, help_text=STORES_HELP
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") == "new" and not cleaned.get("password"):
            self.add_error("password", _("A new person needs an initial password."))
        if cleaned.get("mode") == "existing":
            cleaned["password"] = ""  # an existing login keeps its own password
        return cleaned


class StaffEditForm(_StaffStoresMixin):
    role = forms.ChoiceField(label=_("Role"))
    stores = forms.TypedMultipleChoiceField(
        label=_("Stores"), required=False, coerce=int, help_text=STORES_HELP
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("Deactivated staff cannot log in to this merchant; their records stay."),
    )


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned
