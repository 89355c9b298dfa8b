from __future__ import annotations

import pytest

from siyu.core import services
from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.ids import sha256_hex
from siyu.core.models import ApiKey, AuditEntry
from siyu.core.permissions import Role
from siyu.core.testing import actor_for, api_client


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(merchant):
    issued = services.create_api_key(Actor.system(merchant), name="ERP", role=Role.OPERATOR)
    key = ApiKey.unscoped.get(pk=issued.api_key.pk)
    assert issued.secret.startswith("sk_")
    assert len(issued.secret) == 43
    assert key.key_hash == sha256_hex(issued.secret)
    assert issued.secret not in {key.key_hash, key.prefix, key.name}
    assert key.prefix == issued.secret[:12]
    entry = AuditEntry.unscoped.get(action="apikey.create")
    assert issued.secret not in str(entry.after)


def test_a_key_authenticates_its_merchant_and_role(merchant):
    client = api_client(merchant, Role.FINANCE)
    body = client.get("/api/v1/merchant").json()
    assert body["slug"] == merchant.slug
    assert body["role"] == "finance"
    assert "catalog.manage" not in body["permissions"]
    client.api_key.refresh_from_db()
    assert client.api_key.last_used_at is not None


def test_a_revoked_key_stops_working_at_once(merchant):
    client = api_client(merchant)
    assert client.get("/api/v1/merchant").status_code == 200
    services.revoke_api_key(Actor.system(merchant), client.api_key)
    response = client.get("/api/v1/merchant")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"


def test_unknown_or_missing_keys_are_401(db, client):
    assert client.get("/api/v1/merchant").json()["error"] == "unauthorized"
    response = client.get("/api/v1/merchant", headers={"Authorization": "Bearer sk_nope"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_api_key"


def test_only_owners_issue_keys(merchant):
    with pytest.raises(Forbidden):
        services.create_api_key(actor_for(merchant, Role.OPERATOR), name="x")


def test_key_name_is_required(merchant):
    with pytest.raises(InvalidInput) as info:
        services.create_api_key(Actor.system(merchant), name="  ")
    assert "name" in info.value.fields
    assert not ApiKey.unscoped.exists()


def test_revoking_twice_is_harmless(merchant):
    actor = Actor.system(merchant)
    issued = services.create_api_key(actor, name="x")
    services.revoke_api_key(actor, issued.api_key)
    first = issued.api_key.revoked_at
    services.revoke_api_key(actor, issued.api_key)
    assert issued.api_key.revoked_at == first
    assert AuditEntry.unscoped.filter(action="apikey.revoke").count() == 1


def test_audit_and_event_api_are_scoped_and_permissioned(merchant, other_merchant):
    services.create_api_key(Actor.system(other_merchant), name="theirs")
    mine = api_client(merchant, Role.OWNER)
    items = mine.get("/api/v1/merchant/audit").json()["items"]
    assert items
    assert all("theirs" not in (i["object_repr"] or "") for i in items)
    guide = api_client(merchant, Role.SHOPPING_GUIDE)
    forbidden = guide.get("/api/v1/merchant/audit")
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "forbidden"
