"""What console views share: the login/role gate, pagination and error display.

Views are the web layer: they may import this; services never do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from siyu.core.actors import Actor
from siyu.core.errors import DomainError

View = TypeVar("View", bound=Callable[..., HttpResponse])


class ConsoleRequest(HttpRequest):
    actor: Actor


def console_view(permission: str | None = None) -> Callable[[View], View]:
    """Require a logged-in staff member bound to a merchant, holding ``permission``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor: Actor | None = getattr(request, "siyu_actor", None)
            if actor is None:
                return render(request, "console/no_merchant.html", status=403)
            if permission is not None and not actor.can(permission):
                return render(request, "console/forbidden.html", status=403)
            request.actor = actor  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def paginate(request: HttpRequest, queryset: Any, per_page: int = 25) -> Page:
    paginator = Paginator(queryset, per_page)
    return paginator.get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus ``page``, for pagination links that keep filters."""
    params = [(k, v) for k, values in request.GET.lists() if k != "page" for v in values]
    return urlencode(params)


def show_errors(form: forms.BaseForm, error: DomainError) -> None:
    """Put a service's field errors next to the form fields (others at the top)."""
    if not error.fields:
        form.add_error(None, error.message or error.code)
        return
    for name, reason in error.fields.items():
        field = name.split(".")[0]
        form.add_error(field if field in form.fields else None, reason)


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
