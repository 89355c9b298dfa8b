"""Request binding: which merchant a request belongs to, and idempotent API writes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from siyu.core import clock, ids
from siyu.core.actors import Actor
from siyu.core.clock import zone
from siyu.core.models import IdempotencyRecord, Membership, Merchant
from siyu.core.services import authenticate_api_key
from siyu.core.tenancy import merchant_context

SESSION_MERCHANT_KEY = "siyu_merchant_id"
STAFF_PREFIXES = ("/console/", "/guide/")
API_PREFIX = "/api/"
STOREFRONT_API_PREFIX = "/api/v1/storefront/"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def staff_memberships(user_id: int) -> list[Membership]:
    return list(
        Membership.objects.select_related("merchant", "user")
        .filter(user_id=user_id, is_active=True, merchant__status=Merchant.Status.ACTIVE)
        .order_by("merchant__name")
    )


def session_actor(request: HttpRequest) -> Actor | None:
    """The staff member's actor at the merchant chosen in the session (or their first)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    memberships = staff_memberships(user.pk)
    request.siyu_memberships = memberships  # type: ignore[attr-defined]
    if not memberships:
        return None
    wanted = request.session.get(SESSION_MERCHANT_KEY)
    chosen = next((m for m in memberships if m.merchant_id == wanted), memberships[0])
    if chosen.merchant_id != wanted:
        request.session[SESSION_MERCHANT_KEY] = chosen.merchant_id
    return Actor.for_membership(chosen, ip_address=client_ip(request))


def api_key_from(request: HttpRequest) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.META.get("HTTP_X_API_KEY") or None


class TenancyMiddleware:
    """Binds the request to exactly one merchant (staff session or API key)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        actor: Actor | None = None
        request.siyu_memberships = []  # type: ignore[attr-defined]
        request.siyu_auth_error = None  # type: ignore[attr-defined]
        request.siyu_auth_kind = None  # type: ignore[attr-defined]
        if path.startswith(API_PREFIX):
            secret = api_key_from(request)
            if secret:
                api_key = authenticate_api_key(secret)
                if api_key is None:
                    request.siyu_auth_error = "invalid_api_key"  # type: ignore[attr-defined]
                else:
                    actor = Actor.for_api_key(api_key, ip_address=client_ip(request))
                    request.siyu_auth_kind = "api_key"  # type: ignore[attr-defined]
            else:
                actor = session_actor(request)
                if actor is not None:
                    request.siyu_auth_kind = "session"  # type: ignore[attr-defined]
        elif path.startswith(STAFF_PREFIXES):
            actor = session_actor(request)
        request.siyu_actor = actor  # type: ignore[attr-defined]
        if actor is None:
            return self.get_response(request)
        with merchant_context(actor.merchant), timezone.override(zone(actor.merchant.time_zone)):
            return self.get_response(request)


@dataclass(frozen=True)
class Caller:
    """Who sends an API write: the merchant and a stable principal id (idempotency scope)."""

    merchant: Merchant
    principal: str


def caller_of(request: HttpRequest) -> Caller | None:
    """A staff member or API key (``siyu_actor``), else a logged-in storefront customer."""
    actor: Actor | None = getattr(request, "siyu_actor", None)
    customer = getattr(request, "siyu_customer", None)
    if request.path_info.startswith(STOREFRONT_API_PREFIX):
        if customer is not None:
            return Caller(customer.merchant, f"customer:{customer.pk}")
        return None
    if actor is not None:
        return Caller(actor.merchant, actor.principal)
    return None


KEY_RE = re.compile(r"^[\x21-\x7e]{1,255}$")
STALE_CLAIM = timedelta(minutes=5)


def _error(status: int, code: str, message: str, field: str = "Idempotency-Key") -> JsonResponse:
    return JsonResponse(
        {"error": code, "message": message, "fields": {field: message}}, status=status
    )


class IdempotencyMiddleware:
    """Makes API writes atomic, and POSTs with an ``Idempotency-Key`` take effect once.

    Every unsafe API request runs in one transaction that rolls back when the
    answer is an error, so bad input leaves nothing half-written. A POST with
    ``Idempotency-Key`` first claims the key (committed on its own, so a
    concurrent duplicate sees it), then runs the view and stores the answer in
    the view's transaction: the change and the stored answer commit together.
    A repeat with the same key and body gets the stored answer
    (``Idempotent-Replayed: true``); with another body, 422; while the first is
    still running, 409. An answer of 4xx or 5xx took no effect: it is rolled
    back and the key is freed, so the client may correct the request and retry.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in UNSAFE_METHODS or not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        key = request.META.get("HTTP_IDEMPOTENCY_KEY")
        caller = caller_of(request)
        if key is None or request.method != "POST" or caller is None:
            return self._atomic(request)
        if not KEY_RE.match(key):
            return _error(400, "invalid_idempotency_key", "1–255 printable ASCII characters.")
        return self._idempotent(request, caller, key)

    def _atomic(self, request: HttpRequest) -> HttpResponse:
        with transaction.atomic():
            response = self.get_response(request)
            if response.status_code >= 400:
                transaction.set_rollback(True)
        return response

    def _claim(
        self, caller: Caller, key: str, request: HttpRequest, digest: str
    ) -> IdempotencyRecord | HttpResponse:
        lookup = {"merchant": caller.merchant, "principal": caller.principal, "key": key}
        try:
            with transaction.atomic():
                return IdempotencyRecord.unscoped.create(
                    **lookup,
                    method=request.method or "POST",
                    path=request.path[:400],
                    request_hash=digest,
                )
        except IntegrityError:
            existing = IdempotencyRecord.unscoped.get(**lookup)
        if existing.request_hash != digest:
            return _error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.",
            )
        if existing.state == IdempotencyRecord.State.DONE:
            return self._replay(existing)
        # A claim left by a process that died mid-request may be taken over.
        taken = IdempotencyRecord.unscoped.filter(
            pk=existing.pk,
            state=IdempotencyRecord.State.PROCESSING,
            updated_at__lt=clock.now() - STALE_CLAIM,
        ).update(updated_at=clock.now())
        if taken:
            existing.refresh_from_db()
            return existing
        return _error(
            409,
            "idempotency_request_in_progress",
            "The first request with this key is still running.",
        )

    def _idempotent(self, request: HttpRequest, caller: Caller, key: str) -> HttpResponse:
        digest = ids.sha256_hex(f"{request.method} {request.path}\n".encode() + request.body)
        claimed = self._claim(caller, key, request, digest)
        if isinstance(claimed, HttpResponse):
            return claimed
        record = claimed
        try:
            with transaction.atomic():
                response = self.get_response(request)
                if response.status_code >= 400:
                    # nothing took effect: roll back and free the key for a corrected retry
                    raise _NotApplied(response)
        except _NotApplied as exc:
            IdempotencyRecord.unscoped.filter(pk=record.pk).delete()
            return exc.response
        except BaseException:
            IdempotencyRecord.unscoped.filter(pk=record.pk).delete()
            raise
        IdempotencyRecord.unscoped.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE,
            status_code=response.status_code,
            content_type=response.get("Content-Type", "application/json"),
            response_body=bytes(response.content) if not response.streaming else b"",
            location=response.get("Location", "")[:400],
            updated_at=clock.now(),
        )
        return response

    @staticmethod
    def _replay(record: IdempotencyRecord) -> HttpResponse:
        response = HttpResponse(
            bytes(record.response_body or b""),
            status=record.status_code or 200,
            content_type=record.content_type or "application/json",
        )
        if record.location:
            response["Location"] = record.location
        response["Idempotent-Replayed"] = "true"
        return response


class _NotApplied(Exception):
    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response
