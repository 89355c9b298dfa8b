"""Storefront pages of the community (``/s/<slug>/community/``), for a logged-in customer.

* ``group_list``: my groups (last message, unread badge), "Messages from the brand" (the inbox)
  and "My guide" (the 1:1 chat with ``Customer.owner_guide``);
* ``group_chat``: the announcement and the group's chat (only while I am a member: else 404);
* ``inbox``: messages from the brand, read-only;
* ``guide_chat`` / ``direct_chat``: the 1:1 chat with my guide (or a former guide).

The chat itself is ``community/chat_panel.html`` + ``chat.js`` talking to the customer API;
the pages also take a plain form POST of ``text`` so a chat works without JavaScript.
``StorefrontMiddleware`` has bound the merchant and the customer; the views call the community
services and selectors and render.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from siyu.community import access, chat_panel, services, shop_selectors
from siyu.community.models import CommunityGroup, Conversation
from siyu.core.errors import DomainError
from siyu.customers import session
from siyu.customers.models import Customer
from siyu.storefront.views_account import customer_required


def _customer(request: HttpRequest) -> Customer:
    customer = session.customer_of(request)
    assert customer is not None  # @customer_required
    return customer


def _post_form(request: HttpRequest, conversation: Conversation, customer: Customer) -> None:
    """The composer without JavaScript: post ``text``, or show why it was refused."""
    try:
        services.post_message(
            conversation, text=request.POST.get("text", ""), sender_customer=customer
        )
    except DomainError as exc:
        messages.error(request, exc.fields.get("text") or exc.message)


def _chat_page(
    request: HttpRequest,
    template: str,
    conversation: Conversation,
    customer: Customer,
    merchant_slug: str,
    *,
    read_only: bool = False,
    **context: object,
) -> HttpResponse:
    panel = chat_panel.for_customer(
        conversation,
        customer,
        merchant_slug=merchant_slug,
        read_only=read_only,
        form_action="" if read_only else request.path,
    )
    if panel.last_id:
        services.mark_read(conversation, customer=customer, up_to=panel.last_id)
    return render(
        request,
        template,
        {"tab": "account", "chat": panel, "conversation": conversation, **context},
    )


@require_safe
@customer_required
def group_list(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    mine = shop_selectors.my_chats(_customer(request))
    return render(request, "community/shop/group_list.html", {"tab": "account", "mine": mine})


@customer_required
def group_chat(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    group = CommunityGroup.objects.select_related("store").filter(pk=pk).first()
    if group is None or not access.is_active_member(customer, group):
        raise Http404
    conversation = services.group_conversation(group)
    if request.method == "POST":
        _post_form(request, conversation, customer)
        return redirect(request.path)
    return _chat_page(
        request,
        "community/shop/group_chat.html",
        conversation,
        customer,
        merchant_slug,
        group=group,
    )


@require_safe
@customer_required
def inbox(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    customer = _customer(request)
    conversation = services.inbox_conversation(customer)
    return _chat_page(
        request,
        "community/shop/inbox.html",
        conversation,
        customer,
        merchant_slug,
        read_only=True,
    )


def _direct_page(
    request: HttpRequest, conversation: Conversation, customer: Customer, merchant_slug: str
) -> HttpResponse:
    if request.method == "POST":
        _post_form(request, conversation, customer)
        return redirect(request.path)
    return _chat_page(
        request,
        "community/shop/direct_chat.html",
        conversation,
        customer,
        merchant_slug,
        guide=conversation.staff,
    )


@customer_required
def guide_chat(request: HttpRequest, merchant_slug: str) -> HttpResponse:
    """The chat with my guide; a short explanation when no guide looks after me yet."""
    customer = _customer(request)
    guide = customer.owner_guide
    if guide is None:
        return render(request, "community/shop/no_guide.html", {"tab": "account"})
    conversation = services.direct_conversation(customer, guide)
    return _direct_page(request, conversation, customer, merchant_slug)


@customer_required
def direct_chat(request: HttpRequest, merchant_slug: str, pk: int) -> HttpResponse:
    customer = _customer(request)
    conversation = (
        Conversation.objects.select_related("staff__user")
        .filter(pk=pk, kind=Conversation.Kind.DIRECT, customer_id=customer.pk)
        .first()
    )
    if conversation is None:
        raise Http404
    return _direct_page(request, conversation, customer, merchant_slug)
