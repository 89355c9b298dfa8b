"""The console's navigation: what exists now, and the capabilities to come."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core.actors import Actor
from siyu.core.permissions import Perm


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str | None  # None: a capability that is not built yet
    permission: str | None
    namespace: str  # marks the item active for every page of this URL namespace/prefix
    icon: str


NAV: list[tuple[str | Promise, list[NavItem]]] = [
    (
        _("Overview"),
        [NavItem(_("Dashboard"), "console:home", Perm.DASHBOARD_VIEW, "console:home", "home")],
    ),
    (
        _("Business"),
        [
            NavItem(_("Stores"), "stores:store_list", Perm.STORES_VIEW, "stores:store", "store"),
            NavItem(
                _("Products"), "catalog:product_list", Perm.CATALOG_VIEW, "catalog:product", "box"
            ),
            NavItem(
                _("Categories"),
                "catalog:category_list",
                Perm.CATALOG_VIEW,
                "catalog:category",
                "tree",
            ),
            NavItem(_("Orders"), "orders:order_list", Perm.ORDERS_VIEW, "orders:", "receipt"),
            NavItem(
                _("Payments"), "payments:payment_list", Perm.ORDERS_VIEW, "payments:", "wallet"
            ),
            NavItem(
                _("Inventory"), "inventory:stock_list", Perm.INVENTORY_VIEW, "inventory:", "stack"
            ),
        ],
    ),
    (
        _("Private domain"),
        [
            NavItem(
                _("Customers"),
                "customers:customer_list",
                Perm.CUSTOMERS_VIEW,
                "customers:customer",
                "users",
            ),
            NavItem(
                _("Tags and segments"),
                "customers:segment_list",
                Perm.CUSTOMERS_VIEW,
                "customers:segment",
                "tag",
            ),
            NavItem(
                _("Community groups"),
                "community:group_list",
                Perm.COMMUNITY_VIEW,
                "community:",
                "chat",
            ),
            NavItem(
                _("Shopping guides"), "guides:guide_list", Perm.GUIDES_MANAGE, "guides:", "guide"
            ),
            NavItem(
                _("Marketing"),
                "marketing:broadcast_list",
                Perm.MARKETING_VIEW,
                "marketing:",
                "send",
            ),
            NavItem(
                _("Coupons"),
                "promotions:template_list",
                Perm.PROMOTIONS_VIEW,
                "promotions:",
                "tag",
            ),
            NavItem(
                _("Group-buys"), "groupbuy:activity_list", Perm.PROMOTIONS_VIEW, "groupbuy:", "team"
            ),
            NavItem(
                _("Bargains"), "bargain:activity_list", Perm.PROMOTIONS_VIEW, "bargain:", "scissors"
            ),
            NavItem(
                _("Points and tiers"),
                "loyalty:overview",
                Perm.PROMOTIONS_VIEW,
                "loyalty:",
                "star",
            ),
            NavItem(
                _("Referrals"), "referrals:overview", Perm.PROMOTIONS_VIEW, "referrals:", "invite"
            ),
            NavItem(
                _("Distribution"),
                "distribution:overview",
                Perm.DISTRIBUTION_VIEW,
                "distribution:",
                "share",
            ),
            NavItem(_("Live rooms"), None, None, "", "live"),
            NavItem(
                _("Analytics"), "analytics:overview", Perm.ANALYTICS_VIEW, "analytics:", "chart"
            ),
        ],
    ),
    (
        _("Settings"),
        [
            NavItem(
                _("Staff and roles"), "stores:staff_list", Perm.STAFF_VIEW, "stores:staff", "id"
            ),
            NavItem(_("API keys"), "core:apikey_list", Perm.APIKEYS_MANAGE, "core:apikey", "key"),
            NavItem(
                _("Webhooks"), "webhooks:endpoint_list", Perm.WEBHOOKS_VIEW, "webhooks:", "hook"
            ),
            NavItem(_("Audit log"), "core:audit_list", Perm.AUDIT_VIEW, "core:audit", "log"),
            NavItem(
                _("Merchant"),
                "core:merchant_settings",
                Perm.MERCHANT_MANAGE,
                "core:merchant",
                "gear",
            ),
        ],
    ),
]


def nav_for(actor: Actor, current: str) -> list[dict[str, Any]]:
    """Sections with the items this actor may open; ``current`` is "namespace:url_name"."""
    sections: list[dict[str, Any]] = []
    for title, items in NAV:
        shown: list[dict[str, Any]] = []
        for item in items:
            if item.url_name is None:
                shown.append(
                    {
                        "label": item.label,
                        "url": None,
                        "icon": item.icon,
                        "active": False,
                        "coming": True,
                    }
                )
                continue
            if item.permission and not actor.can(item.permission):
                continue
            try:
                url = reverse(item.url_name)
            except NoReverseMatch:
                continue
            shown.append(
                {
                    "label": item.label,
                    "url": url,
                    "icon": item.icon,
                    "coming": False,
                    "active": bool(item.namespace) and current.startswith(item.namespace),
                }
            )
        if shown:
            sections.append({"title": title, "items": shown})
    return sections
