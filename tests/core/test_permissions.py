from __future__ import annotations

import pytest

from siyu.core.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, Perm, Role, role_has


def test_owner_can_do_everything():
    assert ROLE_PERMISSIONS[Role.OWNER] == ALL_PERMISSIONS


@pytest.mark.parametrize(
    ("role", "permission", "allowed"),
    [
        (Role.OPERATOR, Perm.CATALOG_MANAGE, True),
        (Role.OPERATOR, Perm.STAFF_MANAGE, False),
        (Role.OPERATOR, Perm.APIKEYS_MANAGE, False),
        (Role.STORE_MANAGER, Perm.STORES_MANAGE_OWN, True),
        (Role.STORE_MANAGER, Perm.STORES_MANAGE, False),
        (Role.STORE_MANAGER, Perm.CATALOG_MANAGE, False),
        (Role.SHOPPING_GUIDE, Perm.CATALOG_VIEW, True),
        (Role.SHOPPING_GUIDE, Perm.AUDIT_VIEW, False),
        (Role.FINANCE, Perm.AUDIT_VIEW, True),
        (Role.FINANCE, Perm.CATALOG_MANAGE, False),
    ],
)
def test_role_matrix(role, permission, allowed):
    assert role_has(role, permission) is allowed


def test_every_role_has_a_row():
    assert set(ROLE_PERMISSIONS) == set(Role.values)


def test_unknown_permission_is_a_bug_not_a_denial():
    with pytest.raises(KeyError):
        role_has(Role.OWNER, "catalog.fly")
