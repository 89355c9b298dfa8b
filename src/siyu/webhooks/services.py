"""State changes of webhooks: endpoints, secrets, replays and test events.

Every function takes the acting :class:`Actor` first, checks its permission,
validates everything before writing, and writes the audit log in the same
transaction. The signing secret never reaches the audit log: a rotation is
logged as "rotated", with its grace period.

Secret rotation: the new secret signs every delivery from the moment it is
issued. With ``grace_hours`` > 0 the previous secret keeps signing too (the
``Siyu-Signature`` header then carries two ``v1`` values) until the grace
period ends, so a receiver can switch secrets without losing a delivery.
``grace_hours=0`` (the default) drops the old secret at once — the right
choice when it may have leaked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from siyu.core import audit, clock, events, ids
from siyu.core.actors import Actor
from siyu.core.errors import InvalidInput, NotFound
from siyu.core.events import EVENT_TYPES, envelope
from siyu.core.permissions import Perm
from siyu.webhooks import delivery as sending
from siyu.webhooks.events import ENDPOINT_DISABLED, PING
from siyu.webhooks.models import ALL_EVENTS, WebhookDelivery, WebhookEndpoint
from siyu.webhooks.targets import BlockedTarget, resolve_target, url_problem

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
MAX_GRACE_HOURS = 72
MAX_DESCRIPTION = 200
AUDITED_FIELDS = ["url", "description", "event_types", "is_active", "disabled_reason"]

DisabledReason = WebhookEndpoint.DisabledReason


def new_secret() -> str:
    return SECRET_PREFIX + ids.token(32)


def _snapshot(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return audit.snapshot(endpoint, AUDITED_FIELDS)  # never the secret


@dataclass(frozen=True)
class IssuedEndpoint:
    """An endpoint with its secret, which is shown this once."""

    endpoint: WebhookEndpoint
    secret: str


# --- validation ---------------------------------------------------------------------------


def _url_error(url: str) -> str | None:
    problem = url_problem(url, require_https=bool(getattr(settings, "PRODUCTION", False)))
    if problem is not None:
        return problem
    try:
        resolve_target(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except BlockedTarget as exc:
        return str(exc)
    return None


def _clean_event_types(values: Iterable[str]) -> tuple[list[str], str | None]:
    """Registered names (sorted, deduplicated) or ["*"]; the reason when invalid."""
    chosen = [str(v).strip() for v in values]
    chosen = [v for v in chosen if v]
    if not chosen:
        return [], _("Choose at least one event, or all events.")
    if ALL_EVENTS in chosen:
        return [ALL_EVENTS], None
    unknown = sorted({v for v in chosen if v not in EVENT_TYPES})
    if unknown:
        return [], _("Unknown event types: %(names)s.") % {"names": ", ".join(unknown)}
    return sorted(set(chosen)), None


def _clean_description(description: str) -> tuple[str, str | None]:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        return description, _("At most %(n)d characters.") % {"n": MAX_DESCRIPTION}
    return description, None


def _endpoints(actor: Actor) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.unscoped.filter(merchant=actor.merchant)


def _get_endpoint_for_update(actor: Actor, endpoint_id: int) -> WebhookEndpoint:
    """The actor's merchant's endpoint, row-locked; another merchant's is not found."""
    endpoint = _endpoints(actor).select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("Not found."))
    return endpoint


# --- endpoints ------------------------------------------------------------------------------


def create_endpoint(
    actor: Actor,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    is_active: bool = True,
) -> IssuedEndpoint:
    """Add an endpoint with a fresh secret (returned once)."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    url = url.strip()
    errors: dict[str, str] = {}
    description, problem = _clean_description(description)
    if problem:
        errors["description"] = problem
    types, problem = _clean_event_types(event_types)
    if problem:
        errors["event_types"] = problem
    problem = _url_error(url)  # may resolve DNS: done before any transaction opens
    if problem:
        errors["url"] = problem
    if errors:
        raise InvalidInput(_("The endpoint could not be saved."), fields=errors)
    secret = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.unscoped.create(
            merchant=actor.merchant,
            url=url,
            description=description,
            event_types=types,
            is_active=is_active,
            disabled_reason="" if is_active else DisabledReason.MANUAL,
            disabled_at=None if is_active else clock.now(),
            secret=secret,
        )
        audit.record(actor, "webhooks.endpoint.create", endpoint, after=_snapshot(endpoint))
    return IssuedEndpoint(endpoint, secret)


_UNSET: Any = object()


def update_endpoint(
    actor: Actor,
    endpoint_id: int,
    *,
    url: str = _UNSET,
    event_types: Sequence[str] = _UNSET,
    description: str = _UNSET,
    is_active: bool = _UNSET,
) -> WebhookEndpoint:
    """Change what is given; leave the rest. Enabling resets the failure streak."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    if not _endpoints(actor).filter(pk=endpoint_id).exists():
        raise NotFound(_("Not found."))
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {}
    if url is not _UNSET:
        url = url.strip()
        problem = _url_error(url)
        if problem:
            errors["url"] = problem
        changes["url"] = url
    if event_types is not _UNSET:
        types, problem = _clean_event_types(event_types)
        if problem:
            errors["event_types"] = problem
        changes["event_types"] = types
    if description is not _UNSET:
        cleaned, problem = _clean_description(description)
        if problem:
            errors["description"] = problem
        changes["description"] = cleaned
    if errors:
        raise InvalidInput(_("The endpoint could not be saved."), fields=errors)
    with transaction.atomic():
        endpoint = _get_endpoint_for_update(actor, endpoint_id)
        before = _snapshot(endpoint)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        if is_active is not _UNSET:
            _apply_active(endpoint, bool(is_active))
        after = _snapshot(endpoint)
        if audit.changed(before, after):
            endpoint.save()
            audit.record(actor, "webhooks.endpoint.update", endpoint, before=before, after=after)
    return endpoint


def _apply_active(endpoint: WebhookEndpoint, active: bool) -> None:
    if active == endpoint.is_active:
        return
    endpoint.is_active = active
    if active:
        endpoint.disabled_reason = DisabledReason.NONE
        endpoint.disabled_at = None
        endpoint.consecutive_failures = 0
    else:
        endpoint.disabled_reason = DisabledReason.MANUAL
        endpoint.disabled_at = clock.now()


@transaction.atomic
def set_endpoint_active(actor: Actor, endpoint_id: int, active: bool) -> WebhookEndpoint:
    """Enable or disable; doing it twice changes nothing (safe to retry).

    Enabling clears the failure streak; deliveries that failed meanwhile stay
    failed (replay them from the delivery log).
    """
    actor.require(Perm.WEBHOOKS_MANAGE)
    endpoint = _get_endpoint_for_update(actor, endpoint_id)
    if endpoint.is_active == active:
        return endpoint
    before = _snapshot(endpoint)
    _apply_active(endpoint, active)
    endpoint.save()
    audit.record(
        actor,
        "webhooks.endpoint.enable" if active else "webhooks.endpoint.disable",
        endpoint,
        before=before,
        after=_snapshot(endpoint),
    )
    return endpoint


@transaction.atomic
def delete_endpoint(actor: Actor, endpoint_id: int) -> None:
    """Remove an endpoint with its delivery log. Deliveries still queued are dropped."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    endpoint = _get_endpoint_for_update(actor, endpoint_id)
    before = _snapshot(endpoint)
    audit.record(
        actor,
        "webhooks.endpoint.delete",
        endpoint,
        before=before,
        after=None,
    )
    endpoint.delete()


def rotate_secret(actor: Actor, endpoint_id: int, *, grace_hours: int = 0) -> IssuedEndpoint:
    """Issue a new secret, effective at once; the old one also signs for ``grace_hours``."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    if not isinstance(grace_hours, int) or not 0 <= grace_hours <= MAX_GRACE_HOURS:
        raise InvalidInput(
            _("The secret could not be rotated."),
            fields={
                "grace_hours": _("A whole number of hours from 0 to %(n)d.")
                % {"n": MAX_GRACE_HOURS}
            },
        )
    secret = new_secret()
    with transaction.atomic():
        endpoint = _get_endpoint_for_update(actor, endpoint_id)
        now = clock.now()
        if grace_hours:
            endpoint.previous_secret = endpoint.secret
            endpoint.previous_secret_expires_at = now + timedelta(hours=grace_hours)
        else:
            endpoint.previous_secret = ""
            endpoint.previous_secret_expires_at = None
        endpoint.secret = secret
        endpoint.secret_rotated_at = now
        endpoint.save(
            update_fields=[
                "secret",
                "previous_secret",
                "previous_secret_expires_at",
                "secret_rotated_at",
                "updated_at",
            ]
        )
        audit.record(
            actor,
            "webhooks.endpoint.rotate_secret",
            endpoint,
            after={
                "secret_rotated": True,
                "grace_hours": grace_hours,
                "previous_secret_expires_at": endpoint.previous_secret_expires_at,
            },
        )
    return IssuedEndpoint(endpoint, secret)


def disable_failing_endpoint(actor: Actor, endpoint_id: int, *, failures: int) -> bool:
    """Switch off an endpoint whose deliveries keep failing (the sender calls it as the system).

    Returns True when this call disabled it (a conditional update: only one
    sender does, however many fail at the same moment).
    """
    actor.require(Perm.WEBHOOKS_MANAGE)
    merchant = actor.merchant
    with transaction.atomic():
        now = clock.now()
        switched = WebhookEndpoint.unscoped.filter(
            pk=endpoint_id, merchant=merchant, is_active=True
        ).update(
            is_active=False,
            disabled_reason=DisabledReason.FAILING,
            disabled_at=now,
            updated_at=now,
        )
        if not switched:
            return False
        endpoint = WebhookEndpoint.unscoped.get(pk=endpoint_id)
        audit.record(
            actor,
            "webhooks.endpoint.auto_disable",
            endpoint,
            before={"is_active": True},
            after={"is_active": False, "disabled_reason": endpoint.disabled_reason},
        )
        events.emit(
            merchant,
            ENDPOINT_DISABLED,
            {"endpoint_id": endpoint.pk, "url": endpoint.url, "consecutive_failures": failures},
            aggregate=endpoint,
        )
    return True


# --- replay and test events ------------------------------------------------------------------


@transaction.atomic
def replay_delivery(actor: Actor, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's exact body again now, as a new delivery (one attempt)."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    original = (
        WebhookDelivery.unscoped.filter(merchant=actor.merchant)
        .select_related("endpoint")
        .filter(pk=delivery_id)
        .first()
    )
    if original is None:
        raise NotFound(_("Not found."))
    replay = sending.new_delivery(
        original.endpoint,
        event=original.event,
        event_type=original.event_type,
        body=original.body,
        max_attempts=1,
        replay_of=original,
    )
    audit.record(
        actor,
        "webhooks.delivery.replay",
        replay,
        after={"replay_of": original.pk, "endpoint": original.endpoint_id},
    )
    sending.send_after_commit([replay.pk])
    return replay


@transaction.atomic
def send_test_event(actor: Actor, endpoint_id: int) -> WebhookDelivery:
    """Emit a ``webhooks.ping`` event and deliver it to this endpoint only (even when disabled)."""
    actor.require(Perm.WEBHOOKS_MANAGE)
    endpoint = _endpoints(actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(_("Not found."))
    event = events.emit(
        actor.merchant,
        PING,
        {"endpoint_id": endpoint.pk, "url": endpoint.url, "sent_by": actor.label},
        aggregate=endpoint,
    )
    ping = sending.new_delivery(
        endpoint,
        event=event,
        event_type=PING,
        body=sending.serialise(envelope(event, actor.merchant.slug)),
        max_attempts=1,
    )
    audit.record(actor, "webhooks.endpoint.ping", endpoint, after={"delivery": ping.pk})
    sending.send_after_commit([ping.pk])
    return ping
