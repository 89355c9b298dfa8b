"""The guide workbench (/guide/): a phone-first page set for one guide's own work.

Every page acts as the signed-in staff member's own membership (an owner or
operator opening it sees it as a guide would). Another guide's customer, group
or task is a 404. Views stay thin: reads from :mod:`siyu.guides.selectors`,
changes through services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.models import Membership
from siyu.core.permissions import Perm
from siyu.guides import followups, materials, selectors, taskrules
from siyu.web.console import console_view, query_without_page

CHAT_PAGE = 50


def _me(request: HttpRequest) -> tuple[Actor, Membership]:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if actor.membership is None:
        raise Http404
    return actor, actor.membership


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    context.setdefault("me", getattr(request.actor, "membership", None))  # type: ignore[attr-defined]
    return render(request, template, context)


def _fail(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, " ".join(error.fields.values()) or error.message)


def _customer(me: Membership, pk: Any) -> Any:
    try:
        return selectors.my_customer(me, pk)
    except NotFound as exc:
        raise Http404 from exc


def _unread_chats(me: Membership) -> int:
    from siyu.community import selectors as chat

    conversations = chat.staff_conversations(me)
    return sum(1 for n in chat.staff_unread_counts(me, conversations).values() if n)


@console_view(Perm.WORKBENCH_USE)
def home(request: HttpRequest) -> HttpResponse:
    _actor, me = _me(request)
    today = selectors.today_for(me.merchant)
    tasks = selectors.my_tasks(me, today)
    return _page(
        request,
        "guides/workbench/home.html",
        {
            "tab": "home",
            "tasks_due": len(tasks["today"]) + len(tasks["overdue"]),
            "unread": _unread_chats(me),
            "numbers": selectors.performance(me, "today"),
            "week": selectors.performance(me, "7d"),
            "next_tasks": (tasks["overdue"] + tasks["today"])[:5],
        },
    )


@console_view(Perm.WORKBENCH_USE)
def customer_list(request: HttpRequest) -> HttpResponse:
    _actor, me = _me(request)
    q, tag, segment = (request.GET.get(k, "") for k in ("q", "tag", "segment"))
    try:
        rows = selectors.my_customers(me, q=q, tag_id=tag, segment_id=segment)
    except DomainError as exc:
        _fail(request, exc)
        rows = selectors.my_customers(me)
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return _page(
        request,
        "guides/workbench/customer_list.html",
        {
            "tab": "customers",
            "page": page,
            "q": q,
            "tag": tag,
            "segment": segment,
            "tags": selectors.tag_choices(),
            "segments": selectors.segment_choices(),
            "query": query_without_page(request),
        },
    )


@console_view(Perm.WORKBENCH_USE)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.customers import timeline
    from siyu.customers.models import CustomerNote
    from siyu.orders.models import Order

    _actor, me = _me(request)
    customer = _customer(me, pk)
    entries = list(customer.timeline.all()[:20])
    own_tags = selectors.customer_tags(customer)
    return _page(
        request,
        "guides/workbench/customer_detail.html",
        {
            "tab": "customers",
            "customer": customer,
            "tags": own_tags,
            "other_tags": [t for t in selectors.tag_choices() if t not in own_tags],
            "notes": CustomerNote.objects.filter(customer=customer)[:10],
            "orders": Order.objects.filter(customer=customer).order_by("-placed_at")[:5],
            "timeline": [(e, timeline.describe(e.kind, e.data)) for e in entries],
            "history": selectors.ownership_history(customer=customer, limit=5),
        },
    )


@require_POST
@console_view(Perm.WORKBENCH_USE)
def customer_tag(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.customers import tags
    from siyu.customers.models import Tag

    actor, me = _me(request)
    customer = _customer(me, pk)
    tag = Tag.objects.filter(pk=request.POST.get("tag") or 0).first()
    if tag is None:
        messages.error(request, _("Choose a tag."))
    else:
        try:
            if request.POST.get("action") == "remove":
                tags.untag_customer(actor, customer, tag)
            else:
                tags.tag_customer(actor, customer, tag)
        except DomainError as exc:
            _fail(request, exc)
    return redirect("workbench:customer_detail", pk=customer.pk)


@require_POST
@console_view(Perm.WORKBENCH_USE)
def customer_note(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.customers import profile

    actor, me = _me(request)
    customer = _customer(me, pk)
    try:
        profile.add_note(actor, customer, request.POST.get("text", ""))
        messages.success(request, _("Note saved."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect("workbench:customer_detail", pk=customer.pk)


# --- chat ------------------------------------------------------------------------------


def _chat_page(
    request: HttpRequest, me: Membership, conversation: Any, title: str, back: str, **extra: Any
) -> HttpResponse:
    from siyu.community import chat_panel
    from siyu.community import services as community

    panel = chat_panel.for_staff(
        conversation,
        me,
        form_action=request.path,
        post_with_form=extra.pop("post_with_form", False),
    )
    if panel.messages:
        community.mark_read(conversation, staff=me, up_to=panel.last_id)
    products = []
    query = request.GET.get("product_q", "").strip()
    if "product_q" in request.GET:
        from siyu.catalog.models import Product

        found = Product.objects.filter(status=Product.Status.ON_SALE)
        if query:
            found = found.filter(name__icontains=query)
        products = list(found.order_by("name")[:20])
    return _page(
        request,
        "guides/workbench/chat.html",
        {
            "tab": extra.pop("tab", "customers"),
            "conversation": conversation,
            "chat": panel,
            "title": title,
            "back": back,
            "products": products,
            "product_q": query,
            "picking": "product_q" in request.GET,
            **extra,
        },
    )


def _post(request: HttpRequest, me: Membership, conversation: Any) -> bool:
    from siyu.community import services as community

    card = None
    if request.POST.get("product"):
        card = {"type": "product", "id": request.POST["product"]}
    try:
        community.post_message(
            conversation, text=request.POST.get("text", ""), card=card, sender_staff=me
        )
    except DomainError as exc:
        _fail(request, exc)
        return False
    return True


@console_view(Perm.WORKBENCH_USE)
def customer_chat(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.community import services as community
    from siyu.guides.services import guide_name

    _actor, me = _me(request)
    customer = _customer(me, pk)
    conversation = community.direct_conversation(customer, me)
    if request.method == "POST":
        if _post(request, me, conversation):
            followups.guide_wrote_to(me, customer)
        return redirect("workbench:customer_chat", pk=customer.pk)
    back = f"/guide/customers/{customer.pk}/"
    return _chat_page(
        request,
        me,
        conversation,
        customer.name or customer.phone,
        back,
        customer=customer,
        guide_label=guide_name(me),
        post_with_form=True,  # the page's handler also closes the follow-up task
    )


@console_view(Perm.WORKBENCH_USE)
def group_list(request: HttpRequest) -> HttpResponse:
    from siyu.community import selectors as chat
    from siyu.community import services as community
    from siyu.community.models import CommunityGroup

    _actor, me = _me(request)
    groups = list(CommunityGroup.objects.filter(owner=me, status="active").order_by("name"))
    conversations = {g.pk: community.group_conversation(g) for g in groups}
    unread = chat.staff_unread_counts(me, list(conversations.values()))
    rows = [(g, unread.get(conversations[g.pk].pk, 0)) for g in groups]
    return _page(request, "guides/workbench/group_list.html", {"tab": "groups", "rows": rows})


@console_view(Perm.WORKBENCH_USE)
def group_chat(request: HttpRequest, pk: int) -> HttpResponse:
    from siyu.community import services as community
    from siyu.community.models import CommunityGroup

    _actor, me = _me(request)
    group = CommunityGroup.objects.filter(pk=pk, owner=me).first()
    if group is None:
        raise Http404
    conversation = community.group_conversation(group)
    if request.method == "POST":
        _post(request, me, conversation)
        return redirect("workbench:group_chat", pk=group.pk)
    return _chat_page(
        request, me, conversation, group.name, "/guide/groups/", tab="groups", group=group
    )


# --- materials, tasks, performance -----------------------------------------------------


@console_view(Perm.WORKBENCH_USE)
def material_list(request: HttpRequest) -> HttpResponse:
    _actor, me = _me(request)
    today = selectors.today_for(me.merchant)
    page = Paginator(selectors.materials(published_only=True), 10).get_page(request.GET.get("page"))
    return _page(
        request,
        "guides/workbench/material_list.html",
        {"tab": "materials", "page": page, "shared": selectors.shared_today(me, today)},
    )


@require_POST
@console_view(Perm.WORKBENCH_USE)
def material_shared(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, me = _me(request)
    try:
        first = materials.mark_shared(me, pk)
    except NotFound as exc:
        raise Http404 from exc
    if first:
        messages.success(request, _("Marked as shared. Thank you!"))
    else:
        messages.info(request, _("Already counted today."))
    return redirect("workbench:material_list")


@console_view(Perm.WORKBENCH_USE)
def task_list(request: HttpRequest) -> HttpResponse:
    _actor, me = _me(request)
    today = selectors.today_for(me.merchant)
    counts = selectors.task_counts([me.pk], taskrules.period_start(today, "7d"), today, today)
    return _page(
        request,
        "guides/workbench/task_list.html",
        {"tab": "tasks", "tasks": selectors.my_tasks(me, today), "week": counts[me.pk]},
    )


@require_POST
@console_view(Perm.WORKBENCH_USE)
def task_finish(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, me = _me(request)
    try:
        followups.finish_task(me, pk, request.POST.get("status", ""), request.POST.get("note", ""))
    except NotFound as exc:
        raise Http404 from exc
    except DomainError as exc:
        _fail(request, exc)
    return redirect("workbench:task_list")


@console_view(Perm.WORKBENCH_USE)
def performance(request: HttpRequest) -> HttpResponse:
    _actor, me = _me(request)
    period = request.GET.get("period", "7d")
    if period not in taskrules.PERIODS:
        period = "7d"
    return _page(
        request,
        "guides/workbench/performance.html",
        {
            "tab": "performance",
            "period": period,
            "numbers": selectors.performance(me, period),
            "periods": [
                ("today", _("Today")),
                ("7d", _("7 days")),
                ("30d", _("30 days")),
                ("month", _("This month")),
            ],
        },
    )
