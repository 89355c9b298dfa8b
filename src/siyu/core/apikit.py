"""What every API router shares: authentication, permissions, errors and pagination.

Imported only by ``api.py`` modules (the API layer), never by services.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import PaginationBase
from ninja.security import APIKeyCookie, HttpBearer

from siyu.core.actors import Actor
from siyu.core.errors import DomainError
from siyu.core.tenancy import MerchantNotBound


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer sk_…`` with a merchant API key (resolved by the middleware)."""

    openapi_description = "A merchant API key: `Authorization: Bearer sk_…`."

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        if getattr(request, "siyu_auth_kind", None) == "api_key":
            return request.siyu_actor  # type: ignore[attr-defined]
        return None


class StaffSessionAuth(APIKeyCookie):
    """A logged-in staff session (the console and the docs page); CSRF-checked on writes."""

    param_name = "sessionid"
    openapi_description = (
        "A staff session cookie from the console login (CSRF token required on writes)."
    )

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        if getattr(request, "siyu_auth_kind", None) != "session":
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
                request, lambda r: HttpResponse(), (), {}
            )
            if reason is not None:
                raise HttpError(403, "CSRF check failed")
        return request.siyu_actor  # type: ignore[attr-defined]

    def __call__(self, request: HttpRequest) -> Actor | None:
        return self.authenticate(request, self._get_key(request))


AUTH = [ApiKeyAuth(), StaffSessionAuth()]


def actor_of(request: HttpRequest, permission: str | None = None) -> Actor:
    """The authenticated actor, after checking ``permission`` (403 when missing)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if permission is not None:
        actor.require(permission)
    return actor


class ErrorOut(Schema):
    error: str = Field(description="A stable, machine-readable code.")
    message: str = Field("", description="A sentence for people.")
    fields: dict[str, str] = Field(default_factory=dict, description="Field name → reason.")


ERROR_RESPONSES: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
        # ninja nests the body under the parameter name ("payload"): drop it
        if len(parts) > 1 and parts[0] in {"payload", "data", "filters", "body"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        name = _field_name(error.get("loc", ()))
        message = str(error.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        fields.setdefault(name, message)
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(
        request: HttpRequest,
        status: int,
        code: str,
        message: str = "",
        fields: dict[str, str] | None = None,
    ) -> HttpResponse:
        return api.create_response(
            request, {"error": code, "message": message, "fields": fields or {}}, status=status
        )

    @api.exception_handler(ValidationError)
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return respond(
            request, 422, "invalid", "The request is not valid.", validation_fields(exc.errors)
        )

    @api.exception_handler(DomainError)
    def on_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return respond(request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(AuthenticationError)
    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if getattr(request, "siyu_auth_error", None) == "invalid_api_key":
            return respond(request, 401, "invalid_api_key", "The API key is unknown or revoked.")
        return respond(request, 401, "unauthorized", "Send a merchant API key or log in as staff.")

    @api.exception_handler(MerchantNotBound)
    def on_unbound(request: HttpRequest, exc: MerchantNotBound) -> HttpResponse:
        return respond(request, 401, "unauthorized", "No merchant is bound to this request.")

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, "not_found", "Not found.")

    @api.exception_handler(ObjectDoesNotExist)
    def on_missing(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return respond(request, 404, "not_found", "Not found.")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            413: "too_large",
            429: "throttled",
        }
        return respond(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


class Page(PaginationBase):
    """``?limit=&offset=`` pagination answering ``{items, count, limit, offset, next_offset}``."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=200, description="Items per page (1–200).")
        offset: int = Field(0, ge=0, description="Items to skip.")

    class Output(Schema):
        items: list[Any]
        count: int
        limit: int
        offset: int
        next_offset: int | None

    def paginate_queryset(
        self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any
    ) -> Any:
        count = self._items_count(queryset)
        start, stop = pagination.offset, pagination.offset + pagination.limit
        return {
            "items": list(queryset[start:stop]),
            "count": count,
            "limit": pagination.limit,
            "offset": pagination.offset,
            "next_offset": stop if stop < count else None,
        }


def get_or_404(queryset: Any, **lookup: Any) -> Any:
    """One row of the bound merchant, or 404 (never a 403 that confirms it exists)."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    return obj
