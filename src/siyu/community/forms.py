"""Console forms of the community. They parse input; the services validate and decide.

Choices (stores, staff, groups, products) are given by the view, read from the bound
merchant, so a form never offers another merchant's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from siyu.community.models import MAX_CAPACITY, AutoReply, CommunityGroup, JoinCode

Choices = Sequence[tuple[Any, Any]]

MUTE_CHOICES = [
    ("1h", _("1 hour")),
    ("1d", _("1 day")),
    ("forever", _("Until unmuted")),
]
MUTE_SPANS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "forever": timedelta(days=36500)}
FOREVER_AFTER = timedelta(days=3650)  # a mute longer than this reads "until unmuted"


def parse_card(value: str | None) -> dict[str, Any] | None:
    """``"product:12"`` → ``{"type": "product", "id": 12}``; empty → None."""
    if not value:
        return None
    kind, _sep, pk = value.partition(":")
    return {"type": kind, "id": int(pk)} if pk.isdigit() else None


def card_value(card: Any) -> str:
    if isinstance(card, dict) and card.get("type") and card.get("id"):
        return f"{card['type']}:{card['id']}"
    return ""


def message_value(text: str, card_choice: str | None) -> dict[str, Any]:
    """A welcome / reply body ``{"text", "card"}`` (empty parts left out)."""
    body: dict[str, Any] = {}
    if text:
        body["text"] = text
    card = parse_card(card_choice)
    if card is not None:
        body["card"] = card
    return body


class CardField(forms.ChoiceField):
    """A product or store card, or none; choices grouped: products, stores."""

    def __init__(self, *, card_choices: Choices = (), **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Card"))
        super().__init__(choices=[("", _("No card")), *card_choices], **kwargs)


class GroupFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=60)
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *CommunityGroup.Status.choices],
    )

    def __init__(self, *args: Any, stores: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("All stores")), *stores]  # type: ignore[attr-defined]


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    store = forms.TypedChoiceField(
        label=_("Store"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Empty: a group of the whole brand."),
    )
    owner = forms.TypedChoiceField(
        label=pgettext_lazy("group", "Owner"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("The staff member who runs the group (a guide sees the groups they own)."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        min_value=1,
        max_value=MAX_CAPACITY,
        initial=200,
        help_text=_("1 to 500 members."),
    )
    announcement = forms.CharField(
        label=_("Announcement"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    welcome_text = forms.CharField(
        label=_("Welcome text"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sent in the group when someone joins, after “Welcome @name!”."),
    )
    welcome_card = CardField(label=_("Welcome card"))
    banned_words = forms.CharField(
        label=_("Banned words"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line. Customers' messages containing one are refused."),
    )

    def __init__(
        self,
        *args: Any,
        stores: Choices = (),
        staff: Choices = (),
        card_choices: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("Whole brand")), *stores]  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", _("Nobody")), *staff]  # type: ignore[attr-defined]
        self.fields["welcome_card"].choices = [("", _("No card")), *card_choices]  # type: ignore[attr-defined]

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "store": data["store"],
            "owner": data["owner"],
            "capacity": data["capacity"],
            "announcement": data["announcement"],
            "welcome": message_value(data["welcome_text"], data["welcome_card"]),
            "banned_words": [w for w in data["banned_words"].splitlines() if w.strip()],
        }

    @staticmethod
    def initial_of(group: CommunityGroup) -> dict[str, Any]:
        welcome = group.welcome or {}
        return {
            "name": group.name,
            "store": group.store_id,
            "owner": group.owner_id,
            "capacity": group.capacity,
            "announcement": group.announcement,
            "welcome_text": welcome.get("text", ""),
            "welcome_card": card_value(welcome.get("card")),
            "banned_words": "\n".join(group.banned_words or []),
        }


class MuteForm(forms.Form):
    duration = forms.ChoiceField(label=_("Mute for"), choices=MUTE_CHOICES)


class AutoReplyForm(forms.Form):
    keyword = forms.CharField(label=_("Keyword"), max_length=40)
    match = forms.ChoiceField(
        label=_("Match"), choices=AutoReply.Match.choices, initial=AutoReply.Match.CONTAINS
    )
    reply_text = forms.CharField(
        label=_("Reply"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    reply_card = CardField(label=_("Reply card"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, card_choices: Choices = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reply_card"].choices = [("", _("No card")), *card_choices]  # type: ignore[attr-defined]

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "keyword": data["keyword"],
            "match": data["match"],
            "reply": message_value(data["reply_text"], data["reply_card"]),
            "is_active": data["is_active"],
        }

    @staticmethod
    def initial_of(reply: AutoReply) -> dict[str, Any]:
        body = reply.reply or {}
        return {
            "keyword": reply.keyword,
            "match": reply.match,
            "reply_text": body.get("text", ""),
            "reply_card": card_value(body.get("card")),
            "is_active": reply.is_active,
        }


class OrderedGroupsField(forms.MultipleChoiceField):
    """Groups ticked in a list, each with a position number (``position-<id>``): the ids
    in routing order. The view's template renders the rows (see ``code_form.html``)."""

    widget = forms.MultipleHiddenInput


class CodeForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=JoinCode.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=80)
    state = forms.CharField(
        label=_("Channel state"),
        max_length=60,
        help_text=_("Recorded on the customer and the membership, e.g. store_door, table_card."),
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    guide = forms.TypedChoiceField(
        label=_("Guide"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("For a guide's personal code: scanning binds the customer to this guide."),
    )
    groups = OrderedGroupsField(label=_("Groups, in order"), required=False)
    auto_create = forms.BooleanField(label=_("Open a new group when all are full"), required=False)
    base_name = forms.CharField(label=_("Name of new groups"), required=False, max_length=50)
    new_group_capacity = forms.IntegerField(
        label=_("Capacity of new groups"), min_value=1, max_value=MAX_CAPACITY, initial=200
    )
    welcome_text = forms.CharField(
        label=_("Welcome text"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Empty: the group's own welcome."),
    )
    welcome_card = CardField(label=_("Welcome card"))
    poster_message = forms.CharField(label=_("Poster message"), required=False, max_length=80)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        stores: Choices = (),
        staff: Choices = (),
        groups: Choices = (),
        card_choices: Choices = (),
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("No store")), *stores]  # type: ignore[attr-defined]
        self.fields["guide"].choices = [("", _("No guide")), *staff]  # type: ignore[attr-defined]
        self.fields["groups"].choices = [(str(pk), label) for pk, label in groups]  # type: ignore[attr-defined]
        self.fields["welcome_card"].choices = [("", _("No card")), *card_choices]  # type: ignore[attr-defined]
        if editing:
            self.fields["kind"].disabled = True
            self.fields["kind"].help_text = _("The kind of a printed code cannot change.")

    def clean_groups(self) -> list[int]:
        ticked = [int(pk) for pk in self.cleaned_data.get("groups") or []]

        def position(pk: int) -> tuple[int, int]:
            raw = str(self.data.get(f"position-{pk}", "")).strip()
            return (int(raw) if raw.lstrip("-").isdigit() else 10**6, ticked.index(pk))

        return sorted(ticked, key=position)

    def service_values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            "kind": data["kind"],
            "name": data["name"],
            "state": data["state"],
            "store": data["store"],
            "guide": data["guide"],
            "groups": data["groups"],
            "auto_create": data["auto_create"],
            "base_name": data["base_name"],
            "new_group_capacity": data["new_group_capacity"],
            "welcome": message_value(data["welcome_text"], data["welcome_card"]),
            "poster_message": data["poster_message"],
            "is_active": data["is_active"],
        }
        return values

    @staticmethod
    def initial_of(code: JoinCode, group_ids: list[int]) -> dict[str, Any]:
        welcome = code.welcome or {}
        return {
            "kind": code.kind,
            "name": code.name,
            "state": code.state,
            "store": code.store_id,
            "guide": code.guide_id,
            "groups": [str(pk) for pk in group_ids],
            "auto_create": code.auto_create,
            "base_name": code.base_name,
            "new_group_capacity": code.new_group_capacity,
            "welcome_text": welcome.get("text", ""),
            "welcome_card": card_value(welcome.get("card")),
            "poster_message": code.poster_message,
            "is_active": code.is_active,
        }


class PostManyForm(forms.Form):
    SCOPES = [
        ("all", _("All my active groups")),
        ("store", _("The groups of one store")),
        ("pick", _("Groups I choose")),
    ]
    scope = forms.ChoiceField(
        label=_("Send to"), choices=SCOPES, initial="pick", widget=forms.RadioSelect
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    groups = forms.TypedMultipleChoiceField(
        label=_("Groups"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    card = CardField()

    def __init__(
        self,
        *args: Any,
        stores: Choices = (),
        groups: Choices = (),
        card_choices: Choices = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = [("", _("Choose a store")), *stores]  # type: ignore[attr-defined]
        self.fields["groups"].choices = list(groups)  # type: ignore[attr-defined]
        self.fields["card"].choices = [("", _("No card")), *card_choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        scope = data.get("scope")
        if scope == "store" and not data.get("store"):
            self.add_error("store", _("Choose a store."))
        if scope == "pick" and not data.get("groups"):
            self.add_error("groups", _("Choose at least one group."))
        if not (data.get("text") or "").strip() and not data.get("card"):
            self.add_error("text", _("Write a message or choose a card."))
        return data
