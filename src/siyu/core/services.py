"""State changes of the core: merchants and API keys.

Staff membership changes live in ``siyu.stores.staff`` (the design puts staff
and roles with stores); this module owns the tenant itself and integrator keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from siyu.core import audit, clock, ids
from siyu.core.actors import Actor
from siyu.core.clock import zone
from siyu.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from siyu.core.models import ApiKey, Membership, Merchant, User
from siyu.core.money import MINOR_UNITS
from siyu.core.permissions import GRANTABLE_ROLES, Perm, Role

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,48}[a-z0-9]$")
API_KEY_PREFIX = "sk_"


def _validate_merchant_fields(
    *, slug: str, name: str, currency: str, time_zone: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not SLUG_RE.match(slug):
        errors["slug"] = _("3–50 lowercase letters, digits and hyphens.")
    if not name.strip():
        errors["name"] = _("This field is required.")
    if currency.upper() not in MINOR_UNITS:
        errors["currency"] = _("Unsupported currency code.")
    if zone(time_zone).key != time_zone:
        errors["time_zone"] = _("Unknown time zone.")
    return errors


@transaction.atomic
def create_merchant(
    *,
    slug: str,
    name: str,
    owner: User | None = None,
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    legal_name: str = "",
) -> Merchant:
    """Create a tenant and, when given, make ``owner`` its owner."""
    slug = slug.strip().lower()
    errors = _validate_merchant_fields(slug=slug, name=name, currency=currency, time_zone=time_zone)
    if errors:
        raise InvalidInput(_("The merchant could not be created."), fields=errors)
    if Merchant.objects.filter(slug=slug).exists():
        raise Conflict(_("A merchant with this slug exists."), fields={"slug": _("Already taken.")})
    merchant = Merchant.objects.create(
        slug=slug,
        name=name.strip(),
        currency=currency.upper(),
        time_zone=time_zone,
        legal_name=legal_name,
    )
    if owner is not None:
        Membership.objects.create(user=owner, merchant=merchant, role=Role.OWNER)
    audit.record(
        Actor.system(merchant, label=str(owner) if owner else "system"),
        "merchant.create",
        merchant,
        after=audit.snapshot(merchant, ["slug", "name", "currency", "time_zone"]),
    )
    return merchant


@transaction.atomic
def update_merchant(actor: Actor, *, name: str, legal_name: str, time_zone: str) -> Merchant:
    actor.require(Perm.MERCHANT_MANAGE)
    merchant = Merchant.objects.select_for_update().get(pk=actor.merchant.pk)
    errors = _validate_merchant_fields(
        slug=merchant.slug, name=name, currency=merchant.currency, time_zone=time_zone
    )
    if errors:
        raise InvalidInput(_("The merchant could not be saved."), fields=errors)
    fields = ["name", "legal_name", "time_zone"]
    before = audit.snapshot(merchant, fields)
    merchant.name, merchant.legal_name, merchant.time_zone = (
        name.strip(),
        legal_name.strip(),
        time_zone,
    )
    merchant.save(update_fields=fields)
    audit.record(
        actor, "merchant.update", merchant, before=before, after=audit.snapshot(merchant, fields)
    )
    return merchant


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@transaction.atomic
def create_api_key(actor: Actor, *, name: str, role: str = Role.OPERATOR) -> IssuedApiKey:
    """Issue a key. Only its SHA-256 is stored; the returned secret is shown once."""
    actor.require(Perm.APIKEYS_MANAGE)
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("This field is required.")
    elif len(name) > 80:
        errors["name"] = _("At most 80 characters.")
    if role not in Role.values:
        errors["role"] = _("Unknown role.")
    elif role not in GRANTABLE_ROLES.get(actor.role, frozenset()):
        raise Forbidden(
            _("You may not issue a key with this role."), fields={"role": _("Not allowed.")}
        )
    if errors:
        raise InvalidInput(_("The API key could not be created."), fields=errors)
    secret = API_KEY_PREFIX + ids.token(40)
    api_key = ApiKey.unscoped.create(
        merchant=actor.merchant,
        name=name,
        prefix=secret[:12],
        key_hash=ids.sha256_hex(secret),
        role=role,
        created_by=actor.user,
    )
    audit.record(
        actor, "apikey.create", api_key, after=audit.snapshot(api_key, ["name", "prefix", "role"])
    )
    return IssuedApiKey(api_key, secret)


@transaction.atomic
def revoke_api_key(actor: Actor, api_key: ApiKey) -> ApiKey:
    actor.require(Perm.APIKEYS_MANAGE)
    if api_key.merchant_id != actor.merchant.pk:
        raise NotFound(_("Not found."))
    if api_key.revoked_at is not None:
        return api_key  # revoking twice is a no-op: retries are safe
    api_key.revoked_at = clock.now()
    api_key.revoked_by = actor.user
    api_key.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        actor, "apikey.revoke", api_key, before={"revoked": False}, after={"revoked": True}
    )
    return api_key


def authenticate_api_key(secret: str) -> ApiKey | None:
    """The active key for ``secret``, or None. Touches ``last_used_at`` at most once a minute."""
    if not secret.startswith(API_KEY_PREFIX) or len(secret) > 100:
        return None
    api_key = (
        ApiKey.unscoped.select_related("merchant")
        .filter(key_hash=ids.sha256_hex(secret), revoked_at__isnull=True)
        .first()
    )
    if api_key is None or api_key.merchant.status != Merchant.Status.ACTIVE:
        return None
    now = clock.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > timedelta(minutes=1):
        ApiKey.unscoped.filter(pk=api_key.pk).update(last_used_at=now)
    return api_key
