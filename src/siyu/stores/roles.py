"""What each role may do, in words people read: the table on the staff page. Pure data.

Generated from ``siyu.core.permissions.ROLE_PERMISSIONS``, so the page can
never disagree with what the code enforces. A permission added later without
a label here still shows, under its code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from siyu.core.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, Perm, Role

PERMISSION_LABELS: dict[str, Promise] = {
    Perm.DASHBOARD_VIEW: _("See the dashboard"),
    Perm.STORES_VIEW: _("See stores and their hours"),
    Perm.STORES_MANAGE: _("Create, edit and close any store"),
    Perm.STORES_MANAGE_OWN: _("Edit phone, hours, pickup and status of their own stores"),
    Perm.CATALOG_VIEW: _("See products and categories"),
    Perm.CATALOG_MANAGE: _("Edit products, prices and categories"),
    Perm.STAFF_VIEW: _("See staff and roles"),
    Perm.STAFF_MANAGE: _("Add staff, change roles, reset passwords"),
    Perm.APIKEYS_MANAGE: _("Issue and revoke API keys"),
    Perm.WEBHOOKS_VIEW: _("See webhooks and deliveries"),
    Perm.WEBHOOKS_MANAGE: _("Set up webhooks"),
    Perm.AUDIT_VIEW: _("Read the audit log"),
    Perm.MERCHANT_MANAGE: _("Change the merchant's settings"),
}

ROLE_DESCRIPTIONS: dict[str, Promise] = {
    Role.OWNER: _("Runs the brand: everything, including staff, keys and settings."),
    Role.OPERATOR: _("Runs the business day to day: stores, products, webhooks."),
    Role.STORE_MANAGER: _("Runs their stores: hours, phone, pickup, open or closed."),
    Role.SHOPPING_GUIDE: _("Serves customers at their stores; reads stores and products."),
    Role.FINANCE: _("Checks the numbers: reads stores, products, webhooks and the audit log."),
}

ROLE_BADGES: dict[str, str] = {
    Role.OWNER: "badge-brand",
    Role.OPERATOR: "badge-ok",
    Role.STORE_MANAGER: "badge-warn",
    Role.SHOPPING_GUIDE: "badge-role-guide",
    Role.FINANCE: "badge-role-finance",
}


@dataclass(frozen=True)
class MatrixRow:
    permission: str
    label: str
    allowed: tuple[bool, ...]  # one per role, in ``Role`` order


def permission_label(permission: str) -> str:
    label = PERMISSION_LABELS.get(permission)
    return str(label) if label is not None else permission


def role_matrix() -> list[MatrixRow]:
    """One row per permission (in the table's order), a column per role."""
    ordered = [p for p in PERMISSION_LABELS if p in ALL_PERMISSIONS]
    ordered += sorted(ALL_PERMISSIONS - set(ordered))
    return [
        MatrixRow(
            permission,
            permission_label(permission),
            tuple(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in Role.values),
        )
        for permission in ordered
    ]
