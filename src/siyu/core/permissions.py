"""Staff roles and what each may do. Pure data: no database access.

A permission is ``<area>.<verb>``. Pages and API endpoints name the permission
they need; :func:`role_has` answers from this table. Later capabilities add
their own areas here so that one table shows who may do what.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    OPERATOR = "operator", _("Operator")
    STORE_MANAGER = "store_manager", _("Store manager")
    SHOPPING_GUIDE = "shopping_guide", _("Shopping guide")
    FINANCE = "finance", _("Finance")


class Perm:
    """Permission names. Kept as constants so a typo is an AttributeError."""

    DASHBOARD_VIEW = "dashboard.view"
    STORES_VIEW = "stores.view"
    STORES_MANAGE = "stores.manage"  # create, edit and close any store
    STORES_MANAGE_OWN = "stores.manage_own"  # edit hours, phone, pickup of assigned stores
    CATALOG_VIEW = "catalog.view"
    CATALOG_MANAGE = "catalog.manage"
    STAFF_VIEW = "staff.view"
    STAFF_MANAGE = "staff.manage"
    APIKEYS_MANAGE = "apikeys.manage"
    WEBHOOKS_VIEW = "webhooks.view"
    WEBHOOKS_MANAGE = "webhooks.manage"
    AUDIT_VIEW = "audit.view"
    MERCHANT_MANAGE = "merchant.manage"
    ORDERS_VIEW = "orders.view"
    ORDERS_FULFIL = "orders.fulfil"  # prepare, ship, mark ready, verify pickup codes
    ORDERS_REFUND = "orders.refund"  # issue and approve refunds
    INVENTORY_VIEW = "inventory.view"
    INVENTORY_MANAGE = "inventory.manage"  # receive, adjust, locations
    CUSTOMERS_VIEW = "customers.view"
    CUSTOMERS_MANAGE = "customers.manage"  # edit and block customers, read the SMS outbox
    CUSTOMERS_TAG = "customers.tag"  # tag customers, write notes (guides: their own customers)
    CUSTOMERS_EXPORT = "customers.export"  # segment lists and CSV exports with phone numbers
    SEGMENTS_MANAGE = "segments.manage"  # tags, tag groups, auto-tag rules, segments, imports
    COMMUNITY_VIEW = "community.view"
    COMMUNITY_MANAGE = "community.manage"  # groups, join codes, auto-replies, moderation
    COMMUNITY_CHAT = "community.chat"  # post in groups and 1:1 chats
    WORKBENCH_USE = "workbench.use"  # the guide workbench (/guide/): own customers and tasks
    GUIDES_MANAGE = "guides.manage"  # materials, transfers, guide settings, guide performance
    MARKETING_VIEW = "marketing.view"
    MARKETING_SEND = "marketing.send"  # targeted messages and the messaging policy
    DISTRIBUTION_VIEW = "distribution.view"  # distributors, bindings, the commission ledger
    DISTRIBUTION_MANAGE = "distribution.manage"  # settings, rules, approving distributors
    DISTRIBUTION_PAYOUT = "distribution.payout"  # approve, reject and pay withdrawals
    PROMOTIONS_VIEW = "promotions.view"  # coupon templates and issued coupons
    PROMOTIONS_MANAGE = "promotions.manage"  # create, start, pause, end; issue to a customer
    ANALYTICS_VIEW = "analytics.view"  # dashboards, reports, lifetime value, their exports
    ANALYTICS_IMPORT = "analytics.import"  # bring history in from an old system


ALL_PERMISSIONS: frozenset[str] = frozenset(
    value for name, value in vars(Perm).items() if name.isupper() and isinstance(value, str)
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_PERMISSIONS,
    Role.OPERATOR: frozenset(
        {
            Perm.DASHBOARD_VIEW,
            Perm.STORES_VIEW,
            Perm.STORES_MANAGE,
            Perm.STORES_MANAGE_OWN,
            Perm.CATALOG_VIEW,
            Perm.CATALOG_MANAGE,
            Perm.STAFF_VIEW,
            Perm.WEBHOOKS_VIEW,
            Perm.WEBHOOKS_MANAGE,
            Perm.AUDIT_VIEW,
            Perm.ORDERS_VIEW,
            Perm.ORDERS_FULFIL,
            Perm.ORDERS_REFUND,
            Perm.INVENTORY_VIEW,
            Perm.INVENTORY_MANAGE,
            Perm.CUSTOMERS_VIEW,
            Perm.CUSTOMERS_MANAGE,
            Perm.CUSTOMERS_TAG,
            Perm.CUSTOMERS_EXPORT,
            Perm.SEGMENTS_MANAGE,
            Perm.COMMUNITY_VIEW,
            Perm.COMMUNITY_MANAGE,
            Perm.COMMUNITY_CHAT,
            Perm.WORKBENCH_USE,
            Perm.GUIDES_MANAGE,
            Perm.MARKETING_VIEW,
            Perm.MARKETING_SEND,
            Perm.DISTRIBUTION_VIEW,
            Perm.DISTRIBUTION_MANAGE,
            Perm.PROMOTIONS_VIEW,
            Perm.PROMOTIONS_MANAGE,
            Perm.ANALYTICS_VIEW,
            Perm.ANALYTICS_IMPORT,
        }
    ),
    # Store managers and guides work on the orders and stock of the stores they are assigned to.
    Role.STORE_MANAGER: frozenset(
        {
            Perm.DASHBOARD_VIEW,
            Perm.STORES_VIEW,
            Perm.STORES_MANAGE_OWN,
            Perm.CATALOG_VIEW,
            Perm.STAFF_VIEW,
            Perm.ORDERS_VIEW,
            Perm.ORDERS_FULFIL,
            Perm.INVENTORY_VIEW,
            Perm.INVENTORY_MANAGE,
            Perm.CUSTOMERS_VIEW,
            Perm.CUSTOMERS_TAG,
            Perm.COMMUNITY_VIEW,
            Perm.COMMUNITY_MANAGE,
            Perm.COMMUNITY_CHAT,
            Perm.WORKBENCH_USE,
            Perm.MARKETING_VIEW,
        }
    ),
    # Guides see and chat with their own customers and the groups they own (the services
    # narrow "customers" to owned ones for this role).
    Role.SHOPPING_GUIDE: frozenset(
        {
            Perm.DASHBOARD_VIEW,
            Perm.STORES_VIEW,
            Perm.CATALOG_VIEW,
            Perm.ORDERS_VIEW,
            Perm.ORDERS_FULFIL,
            Perm.INVENTORY_VIEW,
            Perm.CUSTOMERS_VIEW,
            Perm.CUSTOMERS_TAG,
            Perm.COMMUNITY_VIEW,
            Perm.COMMUNITY_CHAT,
            Perm.WORKBENCH_USE,
        }
    ),
    Role.FINANCE: frozenset(
        {
            Perm.DASHBOARD_VIEW,
            Perm.STORES_VIEW,
            Perm.CATALOG_VIEW,
            Perm.WEBHOOKS_VIEW,
            Perm.AUDIT_VIEW,
            Perm.ORDERS_VIEW,
            Perm.ORDERS_REFUND,
            Perm.INVENTORY_VIEW,
            Perm.CUSTOMERS_VIEW,
            Perm.DISTRIBUTION_VIEW,
            Perm.DISTRIBUTION_PAYOUT,
            Perm.PROMOTIONS_VIEW,
            Perm.ANALYTICS_VIEW,
        }
    ),
}

# Roles an actor of a given role may grant to others (staff invitations, API keys).
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Role.values),
    Role.OPERATOR: frozenset(),
    Role.STORE_MANAGER: frozenset(),
    Role.SHOPPING_GUIDE: frozenset(),
    Role.FINANCE: frozenset(),
}


def role_has(role: str, permission: str) -> bool:
    if permission not in ALL_PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def permissions_of(role: str) -> frozenset[str]:
    return ROLE_PERMISSIONS.get(role, frozenset())
