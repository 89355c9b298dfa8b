"""Storefront pages of the customer's account: login by phone + code, logout, account, addresses.

``StorefrontMiddleware`` has bound the merchant of ``/s/<slug>/`` and put the
logged-in customer (or None) on the request. Views parse, call a customers
service or selector, and render; the login works without JavaScript (the
small ``storefront.js`` only counts the resend wait down).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.errors import DomainError, NotFound
from siyu.core.middleware import client_ip
from siyu.core.models import Merchant
from siyu.customers import consent, phones, selectors, services, session
from siyu.customers.forms import AddressForm, CodeForm, PhoneForm, ProfileForm
from siyu.customers.models import Consent, Customer, CustomerAddress
from siyu.web.console import show_errors

CODE_IN_TEXT = re.compile(r"(?<!\d)\d{6}(?!\d)")

View = Callable[..., HttpResponse]


def _merchant(request: HttpRequest) -> Merchant:
    merchant: Merchant | None = getattr(request, "siyu_storefront_merchant", None)
    if merchant is None:  # only reachable if the middleware is not installed
        raise Http404
    return merchant


def _customer(request: HttpRequest) -> Customer:
    customer = session.customer_of(request)
    assert customer is not None  # guaranteed by @customer_required
    return customer


def _url(name: str, merchant: Merchant, **kwargs: Any) -> str:
    return reverse(f"storefront:{name}", kwargs={"merchant_slug": merchant.slug, **kwargs})


def home_url(merchant: Merchant) -> str:
    """The shop's home page, or the account page while the shop pages do not exist."""
    try:
        return _url("home", merchant)
    except NoReverseMatch:
        return _url("account", merchant)


def safe_next(request: HttpRequest, merchant: Merchant, candidate: str | None) -> str:
    """``candidate`` when it is a page of this storefront (never another site or shop)."""
    prefix = f"/s/{merchant.slug}/"
    if (
        candidate
        and candidate.startswith(prefix)
        and "\\" not in candidate
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and not candidate.startswith(_url("login", merchant))
    ):
        return candidate
    return home_url(merchant)


def customer_required(view: View) -> View:
    """Send visitors who are not logged in to the login page, and back here afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if session.customer_of(request) is None:
            login = _url("login", _merchant(request))
            return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


# --- login -------------------------------------------------------------------------------


def _login_page(
    request: HttpRequest,
    merchant: Merchant,
    *,
    step: str,
    phone: str,
    next_url: str,
    phone_form: PhoneForm,
    code_form: CodeForm,
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    resend_in = (
        services.seconds_until_next_code(merchant, phone, ip=client_ip(request))
        if step == "code"
        else 0
    )
    return render(
        request,
        "storefront/account/login.html",
        {
            "tab": "account",
            "step": step,
            "phone_display": phones.display(phone),
            "next": next_url,
            "phone_form": phone_form,
            "code_form": code_form,
            "notice": notice,
            "resend_in": resend_in,
            "show_outbox": settings.DEBUG and settings.SMS_BACKEND == "outbox",
        },
        status=status,
    )


def login(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    next_url = safe_next(request, merchant, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and session.customer_of(request) is not None:
        return redirect(next_url)
    phone = session.login_phone(request, merchant)
    step = "code" if phone and request.GET.get("step") == "code" else "phone"
    phone_form = PhoneForm(initial={"phone": phones.display(phone)})
    code_form = CodeForm()
    notice = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "send":
            phone_form = PhoneForm(request.POST)
            status = 422
            if phone_form.is_valid():
                raw = phone_form.cleaned_data["phone"]
                try:
                    services.request_login_code(merchant, raw, ip=client_ip(request))
                except services.Throttled as exc:
                    status = exc.status
                    if services.normalise_phone(raw, mobile=True) == phone:
                        step = "code"  # a resend too early: stay on the code step
                        notice = exc.message
                    else:
                        show_errors(phone_form, exc)
                except DomainError as exc:
                    status = exc.status
                    show_errors(phone_form, exc)
                else:
                    e164 = services.normalise_phone(raw, mobile=True)
                    session.remember_login_phone(request, merchant, e164)
                    query = urlencode({"step": "code", "next": next_url})
                    return redirect(f"{_url('login', merchant)}?{query}")
        elif action == "verify" and phone:
            step = "code"
            code_form = CodeForm(request.POST)
            status = 422
            if code_form.is_valid():
                try:
                    customer = services.verify_login_code(
                        merchant, phone, code_form.cleaned_data["code"], ip=client_ip(request)
                    )
                except DomainError as exc:
                    status = exc.status
                    show_errors(code_form, exc)
                else:
                    session.login_customer(request, customer)
                    session.forget_login_phone(request, merchant)
                    return redirect(next_url)
        else:
            status = 400
            step = "phone"
            notice = _("Enter your mobile number to get a code.")
    return _login_page(
        request,
        merchant,
        step=step,
        phone=phone,
        next_url=next_url,
        phone_form=phone_form,
        code_form=code_form,
        notice=notice,
        status=status,
    )


def login_sms(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    """Development and demo only: the latest code sent to the number entered in this browser."""
    if not settings.DEBUG:
        raise Http404
    merchant = _merchant(request)
    phone = session.login_phone(request, merchant)
    message = selectors.latest_login_sms(phone)
    found = CODE_IN_TEXT.search(message.text) if message else None
    return render(
        request,
        "storefront/account/login_sms.html",
        {
            "tab": "account",
            "phone_display": phones.display(phone),
            "message": message,
            "code": found.group(0) if found else "",
            "back": f"{_url('login', merchant)}?step=code" if phone else _url("login", merchant),
        },
    )


@require_POST
def logout(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    merchant = _merchant(request)
    session.logout_customer(request)
    messages.success(request, _("You are logged out."))
    return redirect(_url("login", merchant))


# --- account -----------------------------------------------------------------------------


@customer_required
def account(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    if request.method == "POST" and request.POST.get("form") == "marketing":
        return _save_marketing(request, customer)
    form = ProfileForm(request.POST or None, initial={"name": customer.name})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.update_profile(
                    customer, name=form.cleaned_data["name"], ip=client_ip(request)
                )
            except DomainError as exc:
                status = exc.status
                show_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(_url("account", _merchant(request)))
    return render(
        request,
        "storefront/account/account.html",
        {
            "tab": "account",
            "customer": customer,
            "phone_display": phones.display(customer.phone),
            "form": form,
            "address_count": selectors.addresses(customer).count(),
            "marketing": _marketing_choices(customer),
        },
        status=status,
    )


def _marketing_choices(customer: Customer) -> list[dict[str, Any]]:
    """The shop's marketing channels with whether the customer allows each."""
    answers = consent.consents_of(customer)
    labels = dict(Consent.Channel.choices)
    return [
        {
            "channel": channel,
            "label": labels[channel],
            "allowed": answers[channel] != Consent.Status.REFUSED,
        }
        for channel in consent.STOREFRONT_CHANNELS
    ]


def _save_marketing(request: HttpRequest, customer: Customer) -> HttpResponse:
    """The customer refuses (unticks) or allows again (ticks) marketing per channel."""
    wanted = set(request.POST.getlist("allow"))
    label = services.customer_actor(customer, ip=client_ip(request)).label
    for choice in _marketing_choices(customer):
        allow = choice["channel"] in wanted
        if allow != choice["allowed"]:
            consent.set_consent(
                customer,
                choice["channel"],
                Consent.Status.GRANTED if allow else Consent.Status.REFUSED,
                source="storefront",
                actor=label,
            )
    messages.success(request, _("Your choice of messages is saved."))
    return redirect(_url("account", _merchant(request)))


@customer_required
def addresses(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    rows = list(selectors.addresses(customer))
    return render(
        request,
        "storefront/account/addresses.html",
        {
            "tab": "account",
            "rows": [{"address": a, "phone": phones.display(a.phone)} for a in rows],
            "can_add": len(rows) < services.MAX_ADDRESSES,
            "max_addresses": services.MAX_ADDRESSES,
            "next": request.GET.get("next", ""),
        },
    )


def _address_or_404(customer: Customer, pk: int) -> CustomerAddress:
    try:
        return selectors.address_of(customer, pk)
    except NotFound as exc:
        raise Http404 from exc


def _address_values(form: AddressForm, *, editing_default: bool) -> dict[str, Any]:
    values = dict(form.cleaned_data)
    if not values.get("is_default") or editing_default:
        values.pop("is_default", None)  # unticking never takes the default away
    return values


def _address_form_page(
    request: HttpRequest, form: AddressForm, address: CustomerAddress | None, status: int
) -> HttpResponse:
    return render(
        request,
        "storefront/account/address_form.html",
        {
            "tab": "account",
            "form": form,
            "address": address,
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


def _after_address(request: HttpRequest, merchant: Merchant) -> HttpResponse:
    wanted = request.POST.get("next")
    if wanted:
        return redirect(safe_next(request, merchant, wanted))
    return redirect(_url("addresses", merchant))


@customer_required
def address_add(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    form = AddressForm(request.POST or None, initial={"phone": phones.display(customer.phone)})
    if request.method == "POST" and form.is_valid():
        try:
            services.add_address(
                customer, ip=client_ip(request), **_address_values(form, editing_default=False)
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return _after_address(request, _merchant(request))
    return _address_form_page(request, form, None, 422 if request.method == "POST" else 200)


@customer_required
def address_edit(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    address = _address_or_404(customer, pk)
    initial = {name: getattr(address, name) for name in AddressForm.base_fields}
    initial["phone"] = phones.display(address.phone)
    form = AddressForm(request.POST or None, initial=initial)
    if address.is_default:
        form.fields["is_default"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_address(
                customer,
                address,
                ip=client_ip(request),
                **_address_values(form, editing_default=address.is_default),
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return _after_address(request, _merchant(request))
    return _address_form_page(request, form, address, 422 if request.method == "POST" else 200)


@require_POST
@customer_required
def address_delete(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    address = _address_or_404(customer, pk)
    services.delete_address(customer, address, ip=client_ip(request))
    messages.success(request, _("Address deleted."))
    return redirect(_url("addresses", _merchant(request)))


@require_POST
@customer_required
def address_default(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    address = _address_or_404(customer, pk)
    services.set_default_address(customer, address, ip=client_ip(request))
    messages.success(request, _("This is now your default address."))
    return _after_address(request, _merchant(request))
