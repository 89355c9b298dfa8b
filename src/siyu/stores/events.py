"""Domain event types of stores and staff (registered from ``StoresConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

STORE_CREATED = "stores.store.created"
STORE_UPDATED = "stores.store.updated"
STORE_CLOSED = "stores.store.closed"
STAFF_ADDED = "staff.member.added"
STAFF_UPDATED = "staff.member.updated"
STAFF_DEACTIVATED = "staff.member.deactivated"


def register() -> None:
    register_event_type(
        STORE_CREATED, _("Store created"), _("A new store was added, with its position.")
    )
    register_event_type(
        STORE_UPDATED,
        _("Store updated"),
        _("A store's details, hours, pickup or status changed; `changed` lists the fields."),
    )
    register_event_type(
        STORE_CLOSED, _("Store closed"), _("A store closed for good and left store search.")
    )
    register_event_type(
        STAFF_ADDED, _("Staff member added"), _("A person was given a role at the merchant.")
    )
    register_event_type(
        STAFF_UPDATED,
        _("Staff member updated"),
        _("A staff member's role, stores or active state changed."),
    )
    register_event_type(
        STAFF_DEACTIVATED,
        _("Staff member deactivated"),
        _("A staff member lost access to the merchant."),
    )


register()
