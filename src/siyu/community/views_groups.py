"""Console pages of community groups: list, create/edit, detail (members, mute/remove,
auto-replies, the group chat, archive) and posting to many groups."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from siyu.community import chat_panel, selectors, services
from siyu.community.forms import (
    FOREVER_AFTER,
    MUTE_SPANS,
    AutoReplyForm,
    GroupFilterForm,
    GroupForm,
    MuteForm,
    PostManyForm,
    parse_card,
)
from siyu.community.models import AutoReply, CommunityGroup, GroupMember
from siyu.community.views_common import (
    actor_of,
    card_choices,
    fill_percent,
    group_choices,
    show_errors,
    staff_choices,
    store_choices,
    visible_group,
    visible_groups,
)
from siyu.core import clock
from siyu.core.errors import DomainError
from siyu.core.permissions import Perm
from siyu.web.console import console_view, paginate, query_without_page


def _group_form(request: HttpRequest, **kwargs: Any) -> GroupForm:
    actor = actor_of(request)
    return GroupForm(
        request.POST if request.method == "POST" else None,
        stores=store_choices(),
        staff=staff_choices(actor),
        card_choices=card_choices(),
        **kwargs,
    )


# --- list, create, edit ------------------------------------------------------------------


@console_view(Perm.COMMUNITY_VIEW)
def group_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = GroupFilterForm(request.GET or None, stores=store_choices())
    filters = form.cleaned_data if form.is_valid() else {}
    rows = visible_groups(actor).annotate(code_count=Count("routes", distinct=True))
    if filters.get("store"):
        rows = rows.filter(store_id=filters["store"])
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    if filters.get("q"):
        rows = rows.filter(name__icontains=filters["q"])
    page = paginate(request, rows.order_by("store__code", "name", "pk"), 25)
    return render(
        request,
        "community/console/group_list.html",
        {
            "form": form,
            "page": page,
            "rows": [{"group": g, "fill": fill_percent(g)} for g in page],
            "query": query_without_page(request),
            "can_manage": actor.can(Perm.COMMUNITY_MANAGE),
            "can_post": actor.can(Perm.COMMUNITY_CHAT),
        },
    )


@console_view(Perm.COMMUNITY_MANAGE)
def group_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = _group_form(request, initial={"capacity": 200})
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(actor, **form.service_values())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Group %(name)s created.") % {"name": group.name})
            return redirect("community:group_detail", pk=group.pk)
    return render(
        request,
        "community/console/group_form.html",
        {"form": form, "group": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.COMMUNITY_MANAGE)
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = visible_group(actor, pk)
    form = _group_form(request, initial=GroupForm.initial_of(group))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_group(actor, group, **form.service_values())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("community:group_detail", pk=group.pk)
    return render(
        request,
        "community/console/group_form.html",
        {"form": form, "group": group},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.COMMUNITY_MANAGE)
def group_archive(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = services.archive_group(actor, visible_group(actor, pk))
    messages.success(
        request,
        _("%(name)s is archived: no new members or posts.") % {"name": group.name},
    )
    return redirect("community:group_detail", pk=group.pk)


# --- detail ------------------------------------------------------------------------------


def _member_rows(members: Any) -> list[dict[str, Any]]:
    now = clock.now()
    rows = []
    for member in members:
        muted = member.muted_until is not None and member.muted_until > now
        rows.append(
            {
                "member": member,
                "muted": muted,
                "muted_forever": muted and member.muted_until - now > FOREVER_AFTER,
            }
        )
    return rows


@console_view(Perm.COMMUNITY_VIEW)
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = visible_group(actor, pk)
    show = request.GET.get("show", "active")
    members = selectors.members(group, active_only=show != "all")
    page = paginate(request, members, 30)
    conversation = services.group_conversation(group)
    can_manage = actor.can(Perm.COMMUNITY_MANAGE)
    can_post = actor.can(Perm.COMMUNITY_CHAT) and group.status == CommunityGroup.Status.ACTIVE
    panel = None
    if actor.membership is not None:
        panel = chat_panel.for_staff(
            conversation,
            actor.membership,
            read_only=not can_post,
            form_action=reverse("community:group_post", args=[group.pk]),
            placeholder=_("Message to the group"),
        )
    return render(
        request,
        "community/console/group_detail.html",
        {
            "group": group,
            "fill": fill_percent(group),
            "show": show,
            "page": page,
            "rows": _member_rows(page),
            "query": query_without_page(request),
            "counts": GroupMember.objects.filter(group=group).aggregate(
                active=Count("pk", filter=Q(left_at__isnull=True)),
                left=Count("pk", filter=Q(left_at__isnull=False)),
            ),
            "codes": selectors.codes().filter(routes__group=group).distinct(),
            "replies": list(selectors.auto_replies(group)),
            "brand_replies": list(
                selectors.auto_replies().filter(group__isnull=True, is_active=True)
            ),
            "reply_form": AutoReplyForm(card_choices=card_choices()) if can_manage else None,
            "mute_form": MuteForm(),
            "conversation": conversation,
            "chat": panel,
            "can_manage": can_manage,
            "can_post": can_post,
        },
    )


@require_POST
@console_view(Perm.COMMUNITY_CHAT)
def group_post(request: HttpRequest, pk: int) -> HttpResponse:
    """The chat panel's form without JavaScript: post ``text`` as the staff member."""
    actor = actor_of(request)
    group = visible_group(actor, pk)
    if actor.membership is None:
        raise Http404
    try:
        services.post_message(
            services.group_conversation(group),
            text=request.POST.get("text", ""),
            sender_staff=actor.membership,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("community:group_detail", args=[group.pk]) + "#chat")


def _member(request: HttpRequest, pk: int) -> GroupMember:
    actor = actor_of(request)
    member = GroupMember.objects.select_related("customer", "group").filter(pk=pk).first()
    if member is None:
        raise Http404
    visible_group(actor, member.group_id)
    return member


def _back_to_group(request: HttpRequest, member: GroupMember) -> HttpResponse:
    return redirect("community:group_detail", pk=member.group_id)


@require_POST
@console_view(Perm.COMMUNITY_MANAGE)
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    try:
        services.remove_member(actor_of(request), member)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The member was removed from the group."))
    return _back_to_group(request, member)


@require_POST
@console_view(Perm.COMMUNITY_MANAGE)
def member_mute(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = MuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how long to mute."))
        return _back_to_group(request, member)
    until = clock.now() + MUTE_SPANS[form.cleaned_data["duration"]]
    try:
        services.mute_member(actor_of(request), member, until)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The member is muted."))
    return _back_to_group(request, member)


@require_POST
@console_view(Perm.COMMUNITY_MANAGE)
def member_unmute(request: HttpRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    try:
        services.unmute_member(actor_of(request), member)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The member may post again."))
    return _back_to_group(request, member)


# --- auto-replies ------------------------------------------------------------------------


def _reply(request: HttpRequest, group: CommunityGroup, pk: int) -> AutoReply:
    reply = AutoReply.objects.filter(pk=pk, group=group).first()
    if reply is None:
        raise Http404
    return reply


@console_view(Perm.COMMUNITY_MANAGE)
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = visible_group(actor, pk)
    form = AutoReplyForm(
        request.POST if request.method == "POST" else None, card_choices=card_choices()
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.create_auto_reply(actor, group=group, **form.service_values())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Auto-reply added."))
            return redirect("community:group_detail", pk=group.pk)
    return render(
        request,
        "community/console/reply_form.html",
        {"form": form, "group": group, "reply": None},
        status=422 if request.method == "POST" else 200,
    )


@console_view(Perm.COMMUNITY_MANAGE)
def reply_edit(request: HttpRequest, pk: int, reply_pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = visible_group(actor, pk)
    reply = _reply(request, group, reply_pk)
    form = AutoReplyForm(
        request.POST if request.method == "POST" else None,
        card_choices=card_choices(),
        initial=AutoReplyForm.initial_of(reply),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_auto_reply(actor, reply, **form.service_values())
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("community:group_detail", pk=group.pk)
    return render(
        request,
        "community/console/reply_form.html",
        {"form": form, "group": group, "reply": reply},
        status=422 if request.method == "POST" else 200,
    )


@require_POST
@console_view(Perm.COMMUNITY_MANAGE)
def reply_delete(request: HttpRequest, pk: int, reply_pk: int) -> HttpResponse:
    actor = actor_of(request)
    group = visible_group(actor, pk)
    services.delete_auto_reply(actor, _reply(request, group, reply_pk))
    messages.success(request, _("Auto-reply deleted."))
    return redirect("community:group_detail", pk=group.pk)


# --- post to many groups -----------------------------------------------------------------


@console_view(Perm.COMMUNITY_CHAT)
def post_many(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    active = visible_groups(actor).filter(status=CommunityGroup.Status.ACTIVE)
    initial: dict[str, Any] = {"scope": "pick"}
    preselected = [int(v) for v in request.GET.getlist("group") if v.isdigit()]
    if preselected:
        initial["groups"] = preselected
    form = PostManyForm(
        request.POST if request.method == "POST" else None,
        stores=store_choices(),
        groups=group_choices(actor),
        card_choices=card_choices(),
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["scope"] == "all":
            chosen = list(active)
        elif data["scope"] == "store":
            chosen = list(active.filter(store_id=data["store"]))
        else:
            chosen = list(active.filter(pk__in=data["groups"]))
        try:
            sent = services.post_to_groups(
                actor, chosen, text=data["text"], card=parse_card(data["card"])
            )
        except DomainError as exc:
            show_errors(form, exc)
        else:
            messages.success(
                request,
                ngettext("Posted in %(n)d group.", "Posted in %(n)d groups.", len(sent))
                % {"n": len(sent)},
            )
            return redirect("community:post_many")
    return render(
        request,
        "community/console/post_many.html",
        {"form": form, "group_count": active.count()},
        status=422 if request.method == "POST" else 200,
    )
