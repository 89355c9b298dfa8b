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


register()
