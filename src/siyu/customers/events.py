"""Domain event types of customers (registered from ``CustomersConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

CUSTOMER_CREATED = "customers.customer.created"
CUSTOMER_UPDATED = "customers.customer.updated"
CUSTOMER_BLOCKED = "customers.customer.blocked"
CUSTOMER_UNBLOCKED = "customers.customer.unblocked"
CUSTOMER_LOGGED_IN = "customers.customer.logged_in"
ADDRESS_SAVED = "customers.address.saved"
ADDRESS_DELETED = "customers.address.deleted"
TAG_ADDED = "customers.tag.added"
TAG_REMOVED = "customers.tag.removed"
TAG_BULK_ADDED = "customers.tag.bulk_added"
TAG_BULK_REMOVED = "customers.tag.bulk_removed"
CONSENT_CHANGED = "customers.consent.changed"
IMPORT_FINISHED = "customers.import.finished"


def register() -> None:
    register_event_type(
        CUSTOMER_CREATED,
        _("Customer created"),
        _("A customer joined: first login to the shop, or added by staff or an import."),
    )
    register_event_type(
        CUSTOMER_UPDATED,
        _("Customer updated"),
        _("A customer's name or status changed; `changed` lists the fields."),
    )
    register_event_type(
        CUSTOMER_BLOCKED, _("Customer blocked"), _("Staff blocked a customer from logging in.")
    )
    register_event_type(
        CUSTOMER_UNBLOCKED, _("Customer unblocked"), _("Staff let a blocked customer in again.")
    )
    register_event_type(
        CUSTOMER_LOGGED_IN,
        _("Customer logged in"),
        _("A customer logged in to the shop with a one-time code."),
    )
    register_event_type(
        ADDRESS_SAVED,
        _("Address saved"),
        _("A customer added or changed a delivery address, or chose another default."),
    )
    register_event_type(
        ADDRESS_DELETED, _("Address deleted"), _("A customer deleted a delivery address.")
    )
    register_event_type(
        TAG_ADDED,
        _("Tag added"),
        _("A customer was tagged: by staff, an import or an auto-tag rule (`source`)."),
    )
    register_event_type(
        TAG_REMOVED, _("Tag removed"), _("A tag was taken off a customer (`reason`).")
    )
    register_event_type(
        TAG_BULK_ADDED,
        _("Tag added in bulk"),
        _("A tag was put on many customers at once; `count` says how many."),
    )
    register_event_type(
        TAG_BULK_REMOVED,
        _("Tag removed in bulk"),
        _("A tag was taken off many customers at once; `count` says how many."),
    )
    register_event_type(
        CONSENT_CHANGED,
        _("Consent changed"),
        _(
            "A customer refused or allowed again marketing messages on one channel "
            "(`channel`: inbox, group, sms, wechat; `status`: refused or granted)."
        ),
    )
    register_event_type(
        IMPORT_FINISHED,
        _("Customer import finished"),
        _("A CSV import of customers finished: counts created, updated, unchanged and errors."),
    )


register()
