"""The distributor centre in the storefront (``/s/<slug>/distributor/``), phone-first.

* ``home``: balances from the ledger (pending, available, in withdrawal, withdrawn), my
  share code and the lists' counts; a customer who is not an approved distributor is sent
  to ``apply``.
* ``orders``, ``customers``, ``team``: my attributed orders (with the commission of each),
  my bound customers and the distributors I invited, customers masked.
* ``share``: pick a product, copy its share link (``?d=<share code>``), see and download
  its poster (``poster``: an SVG with the product and a QR code of the link).
* ``withdraw``: request a withdrawal (¥, at least the minimum, at most what is available;
  once per form) and the history of my withdrawals.
* ``apply``: become a distributor (free; open enrolment approves at once, otherwise staff
  decide) and see a pending or rejected application.

Every page reads the logged-in customer's own distributor row; nothing of another
distributor is in reach.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from siyu.core.errors import DomainError
from siyu.core.money import AmountError, format_amount, parse_amount
from siyu.customers import session
from siyu.customers.models import Customer
from siyu.distribution import centre, centre_services, selectors, services, sharing
from siyu.distribution.models import DistributionSettings, Distributor
from siyu.storefront.views_account import customer_required

PAGE = 20
View = Callable[..., HttpResponse]


def _slug(request: HttpRequest) -> str:
    return request.siyu_storefront_merchant.slug  # type: ignore[attr-defined]


def _customer(request: HttpRequest) -> Customer:
    customer = session.customer_of(request)
    assert isinstance(customer, Customer)
    return customer


def _approved(request: HttpRequest) -> Distributor | HttpResponse:
    """My approved distributor row, or the redirect to the application page."""
    found = centre.active_distributor(_customer(request))
    if found is None:
        return redirect("shop_distribution:apply", merchant_slug=_slug(request))
    return found


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    context.setdefault("tab", "account")
    context.setdefault("currency", request.siyu_storefront_merchant.currency)  # type: ignore[attr-defined]
    return render(request, f"distribution/storefront/{template}", context)


@require_safe
@customer_required
def home(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    distributor = _approved(request)
    if isinstance(distributor, HttpResponse):
        return distributor
    invite = request.build_absolute_uri(
        reverse("shop_distribution:apply", kwargs={"merchant_slug": merchant_slug})
    )
    return _page(
        request,
        "home.html",
        view=centre.centre(distributor),
        invite_link=f"{invite}?invite={distributor.share_code}",
    )


def _listing(
    request: HttpRequest,
    template: str,
    rows_of: Callable[[Distributor, list[Any]], list[Any]],
    query: Callable[[Distributor], Any],
) -> HttpResponse:
    distributor = _approved(request)
    if isinstance(distributor, HttpResponse):
        return distributor
    page = Paginator(query(distributor), PAGE).get_page(request.GET.get("page"))
    return _page(
        request,
        template,
        distributor=distributor,
        page=page,
        rows=rows_of(distributor, list(page.object_list)),
    )


@require_safe
@customer_required
def orders(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    return _listing(request, "orders.html", centre.order_rows, centre.attributed_orders)


@require_safe
@customer_required
def customers(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    return _listing(
        request,
        "customers.html",
        lambda _d, rows: centre.customer_rows(rows),
        centre.bound_customers,
    )


@require_safe
@customer_required
def team(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    return _listing(request, "team.html", lambda _d, rows: centre.team_rows(rows), centre.team)


@require_safe
@customer_required
def share(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    distributor = _approved(request)
    if isinstance(distributor, HttpResponse):
        return distributor
    q = request.GET.get("q", "").strip()[:100]
    chosen = None
    if request.GET.get("product"):
        item = sharing.product(request.GET["product"])
        if item is None:
            raise Http404
        chosen = sharing.share_of(request, distributor, item)
    currency = request.siyu_storefront_merchant.currency  # type: ignore[attr-defined]
    picks = [
        {
            "product": p,
            "price": sharing.price_text(p, currency),
            "thumbnail": _thumbnail(p),
        }
        for p in sharing.products(q)[: sharing.PICKER_LIMIT]
    ]
    return _page(request, "share.html", distributor=distributor, q=q, picks=picks, chosen=chosen)


def _thumbnail(item: Any) -> str | None:
    cover = item.cover
    if cover is None:
        return None
    chosen = cover.thumbnail or cover.file
    return chosen.url if chosen else None


@require_safe
@customer_required
def poster(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    distributor = centre.active_distributor(_customer(request))
    item = sharing.product(pk)
    if distributor is None or item is None:
        raise Http404
    svg = sharing.poster_of(request, sharing.share_of(request, distributor, item))
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="poster-{item.pk}-{distributor.share_code}.svg"'
        )
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def withdraw(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    distributor = _approved(request)
    if isinstance(distributor, HttpResponse):
        return distributor
    currency = request.siyu_storefront_merchant.currency  # type: ignore[attr-defined]
    error = ""
    amount_text = ""
    if request.method == "POST":
        amount_text = request.POST.get("amount", "").strip()[:20]
        try:
            amount = parse_amount(amount_text, currency)
        except AmountError:
            error = _("Enter an amount in yuan, like 12.30.")
        else:
            try:
                made = centre_services.request_withdrawal_once(
                    distributor.pk, amount, request.POST.get("client_key", "")[:64]
                )
            except DomainError as exc:
                error = exc.fields.get("amount") or " ".join(exc.fields.values()) or exc.message
            else:
                messages.success(
                    request,
                    _("Withdrawal of %(amount)s requested: the shop will review and pay it.")
                    % {"amount": format_amount(made.amount, currency)},
                )
                return redirect("shop_distribution:withdraw", merchant_slug=merchant_slug)
    history = centre.withdrawals(distributor)[:50]
    return _page(
        request,
        "withdraw.html",
        distributor=distributor,
        balances=selectors.balances(distributor),
        minimum=selectors.settings_of().minimum_withdrawal,
        history=history,
        error=error,
        amount=amount_text,
        client_key=secrets.token_urlsafe(16),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def apply(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    existing = centre.distributor_of(customer)
    settings_row = selectors.settings_of()
    error = ""
    code = request.POST.get("invited_by_code", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            made = services.apply(customer, invited_by_code=code.strip()[:16])
        except DomainError as exc:
            error = " ".join(exc.fields.values()) or exc.message
        else:
            if made.status == Distributor.Status.APPROVED:
                messages.success(request, _("Welcome: you are a distributor now."))
                return redirect("shop_distribution:home", merchant_slug=merchant_slug)
            messages.success(request, _("Application sent: the shop will review it."))
            return redirect("shop_distribution:apply", merchant_slug=merchant_slug)
    elif existing is not None and existing.status == Distributor.Status.APPROVED:
        return redirect("shop_distribution:home", merchant_slug=merchant_slug)
    if not code:
        code = _suggested_inviter(request, customer)
    return _page(
        request,
        "apply.html",
        existing=existing,
        settings=settings_row,
        open_enrolment=settings_row.enrolment == DistributionSettings.Enrolment.OPEN,
        code=code,
        error=error,
    )


def _suggested_inviter(request: HttpRequest, customer: Customer) -> str:
    """The code of an invite link (``?invite=``), else the distributor the customer is bound to."""
    invited = request.GET.get("invite", "").strip().upper()[:16]
    if invited:
        return invited
    binding = getattr(customer, "distribution_binding", None)
    if binding is not None and binding.distributor.status == Distributor.Status.APPROVED:
        return str(binding.distributor.share_code)
    return ""
