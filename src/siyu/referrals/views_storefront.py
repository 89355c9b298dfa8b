"""Storefront pages of referrals (mobile first).

* ``invite`` (``/s/<slug>/invite/``): my code, my link, my QR code and poster, what my friends
  and I get, the friends I invited (masked numbers) and the rewards I earned; a new customer
  may type a friend's code here.
* ``landing`` (``/s/<slug>/invite/<code>/``): who invites you and what you get, then log in by
  phone. Opened before login, the code waits in the session and the first request after the
  login registers it (:mod:`siyu.referrals.middleware`); a logged-in newcomer accepts with a
  button.
* ``poster`` (``/s/<slug>/invite/poster.png``): my poster to save and share.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.core.models import Merchant
from siyu.customers import pending_links, session
from siyu.customers.models import Customer
from siyu.referrals import posters, rules, selectors, services
from siyu.referrals.middleware import PENDING_KEY, device_of
from siyu.referrals.models import Referral
from siyu.storefront.views_account import customer_required


def _merchant(request: HttpRequest) -> Merchant:
    merchant: Merchant = request.siyu_storefront_merchant  # type: ignore[attr-defined]
    return merchant


def _register_typed(request: HttpRequest, customer: Customer, code: str) -> Referral | None:
    device = device_of(request)
    try:
        referral = services.register(
            customer,
            code,
            source=Referral.Source.CODE,
            device=device if isinstance(device, services.Device) else None,
        )
    except DomainError as exc:
        messages.error(request, exc.fields.get("code") or exc.message)
        return None
    messages.success(request, selectors.arrival_message(referral))
    return referral


@require_http_methods(["GET", "HEAD", "POST"])
@customer_required
def invite(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = session.customer_of(request)
    assert isinstance(customer, Customer)
    if request.method == "POST":
        _register_typed(request, customer, request.POST.get("code", "")[:40])
        return redirect(request.path)
    code = services.code_of(customer)
    mine = selectors.my_invites(customer, code=code)
    return render(
        request,
        "referrals/shop/invite.html",
        {
            "tab": "account",
            "mine": mine,
            # segno's own SVG of the invite link: no user input reaches it unescaped
            "qr_svg": mark_safe(posters.qr_svg(mine.link)),  # noqa: S308
            "rewards": [{"reward": r, "label": selectors.reward_label(r)} for r in mine.rewards],
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def landing(request: HttpRequest, merchant_slug: str, code: str) -> HttpResponse:
    merchant = _merchant(request)
    invite_code = services.find_code(code)
    if invite_code is None:
        raise Http404
    if rules.clean_code(code) != code:  # typed in lower case or with spaces: the real address
        return redirect(
            "shop_referrals:landing", merchant_slug=merchant.slug, code=invite_code.code
        )
    customer = session.customer_of(request)
    if request.method == "POST":
        if customer is None:
            return customer_required(landing)(request, merchant_slug, code)
        _register_typed(request, customer, invite_code.code)
        return redirect(request.path)
    current = services.programme()
    is_running = services.running(current, clock.now())
    mine = None
    if customer is not None:
        mine = Referral.objects.filter(invitee=customer).select_related("inviter").first()
    elif is_running:
        pending_links.remember(request, PENDING_KEY, merchant.pk, invite_code.code)
    login = reverse("storefront:login", kwargs={"merchant_slug": merchant.slug})
    return render(
        request,
        "referrals/shop/landing.html",
        {
            "tab": "home",
            "code": invite_code,
            "inviter_name": selectors.display_name(invite_code.customer),
            "is_self": customer is not None and customer.pk == invite_code.customer_id,
            "invitee_reward": selectors.reward_text(current, "invitee"),
            "message": current.message,
            "running": is_running,
            "customer": customer,
            "mine": mine,
            "login_url": f"{login}?{urlencode({'next': request.path})}",
        },
    )


@require_safe
@customer_required
def poster(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = session.customer_of(request)
    assert isinstance(customer, Customer)
    merchant = _merchant(request)
    code = services.code_of(customer)
    current = services.programme()
    offer = selectors.reward_text(current, "invitee")
    body = posters.poster_png(
        shop=merchant.name,
        headline=_("%(name)s invites you") % {"name": selectors.display_name(customer)},
        offer=_("You get: %(what)s") % {"what": offer} if offer else "",
        code=code.code,
        link=selectors.invite_link(code, merchant.slug),
    )
    response = HttpResponse(body, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="invite-{code.code}.png"'
    response["Cache-Control"] = "private, max-age=300"
    return response
