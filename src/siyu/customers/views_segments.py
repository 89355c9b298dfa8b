"""Console pages of tags, segments and auto-tag rules: parse, call a selector or service, render."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from siyu.core.actors import Actor
from siyu.core.errors import DomainError, NotFound
from siyu.core.permissions import Perm
from siyu.customers import autotag, segment_selectors, segment_services, segments, tags, windows
from siyu.customers.rules import catalogue, rfm_and_value_labels
from siyu.web.console import console_view, paginate

PER_PAGE = 25


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _or_404(getter: Any, pk: int) -> Any:
    try:
        return getter(pk)
    except NotFound as exc:
        raise Http404 from exc


def _error_text(exc: DomainError) -> str:
    return " ".join(exc.fields.get(k, "") for k in ("rule", "name") if exc.fields.get(k)) or (
        exc.message or " ".join(exc.fields.values())
    )


def _builder_context(rule: Any) -> dict[str, Any]:
    return {
        "builder": {
            "rule": rule if rule is not None else {"all": []},
            "fields": catalogue(),
            "choices": segment_selectors.rule_choices(),
        },
        "builder_text": _builder_text(),
        "window_days": windows.KEPT_DAYS,
    }


def _builder_text() -> dict[str, Any]:
    """The words of the rule builder's menus, in the staff member's language."""
    return {
        "ops": {
            "eq": _("equals"),
            "ne": _("is not"),
            "gt": _("more than"),
            "gte": _("at least"),
            "lt": _("less than"),
            "lte": _("at most"),
            "between": _("between"),
            "is": _("is"),
            "has_any": _("has any of"),
            "has_all": _("has all of"),
            "has_none": _("has none of"),
            "member_of_any": _("in any of"),
            "member_of_all": _("in all of"),
            "member_of_none": _("in none of"),
            "in_any_group": _("in some group"),
            "in": _("is one of"),
            "not_in": _("is none of"),
            "is_empty": _("is empty"),
            "this_month": _("this month"),
            "refused": _("refused"),
        },
        "channels": {
            "inbox": _("Shop messages"),
            "group": _("Group posts"),
            "sms": _("SMS"),
            "wechat": _("WeChat"),
        },
        "choices": {
            "female": _("Female"),
            "male": _("Male"),
            "active": _("Active"),
            "blocked": _("Blocked"),
            **rfm_and_value_labels(),
        },
        "invalid": _("The rule is not valid."),
        "offline": _("Could not count: check the connection."),
    }


def _posted_rule(request: HttpRequest) -> Any:
    try:
        return json.loads(request.POST.get("rule") or "{}")
    except ValueError:
        return None


# --- segments ----------------------------------------------------------------------------


@console_view(Perm.CUSTOMERS_VIEW)
def segment_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, segment_selectors.segments(), PER_PAGE)
    return render(
        request,
        "customers/segments/segment_list.html",
        {"page": page, "can_manage": _actor(request).can(Perm.SEGMENTS_MANAGE)},
    )


def _segment_form(request: HttpRequest, segment: Any = None) -> HttpResponse:
    actor = _actor(request)
    values = {
        "name": segment.name if segment else "",
        "description": segment.description if segment else "",
    }
    rule = segment.rule if segment else None
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("name", "description")}
        rule = _posted_rule(request)
        try:
            if segment is None:
                segment = segment_services.create_segment(actor, rule=rule, **values)
            else:
                segment = segment_services.update_segment(actor, segment, rule=rule, **values)
        except DomainError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, _("Segment saved."))
            return redirect("customers:segment_detail", pk=segment.pk)
    return render(
        request,
        "customers/segments/segment_form.html",
        {"segment": segment, "values": values, "error": error, **_builder_context(rule)},
        status=422 if error else 200,
    )


@console_view(Perm.SEGMENTS_MANAGE)
def segment_new(request: HttpRequest) -> HttpResponse:
    return _segment_form(request)


@console_view(Perm.SEGMENTS_MANAGE)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _segment_form(request, _or_404(segment_selectors.segment, pk))


@require_POST
@console_view(Perm.CUSTOMERS_VIEW)
def segment_preview(request: HttpRequest) -> HttpResponse:
    """The live count of the rule builder: ``{"count"}`` or 422 ``{"message", "path"}``."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"message": _("The rule is not valid JSON."), "path": ""}, status=422)
    try:
        rule: Any = body.get("rule") if isinstance(body, dict) else None
        count = segments.count_matching(rule)
    except segments.RuleError as exc:
        return JsonResponse(
            {"message": exc.message, "reason": exc.reason, "path": exc.path}, status=422
        )
    return JsonResponse({"count": count})


@console_view(Perm.CUSTOMERS_VIEW)
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    segment = _or_404(segment_selectors.segment, pk)
    error = ""
    page = None
    try:
        page = paginate(request, segments.segment_customers(segment).order_by("-id"), PER_PAGE)
    except segments.RuleError as exc:
        error = exc.message
    return render(
        request,
        "customers/segments/segment_detail.html",
        {
            "segment": segment,
            "page": page,
            "error": error,
            "rule_json": json.dumps(segment.rule, ensure_ascii=False, indent=2),
            "tags": segment_selectors.tags(),
            "can_manage": actor.can(Perm.SEGMENTS_MANAGE),
            "can_export": actor.can(Perm.CUSTOMERS_EXPORT),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@console_view(Perm.CUSTOMERS_EXPORT)
def segment_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment's customers as CSV, streamed (UTF-8 with a BOM, so Excel reads Chinese)."""
    segment = _or_404(segment_selectors.segment, pk)
    try:
        rows = segments.segment_customers(segment).order_by("pk")
    except segments.RuleError as exc:
        messages.error(request, exc.message)
        return redirect("customers:segment_detail", pk=segment.pk)
    writer = csv.writer(_Echo())
    header = [
        _("id"),
        _("phone"),
        pgettext("a person's name", "name"),
        _("status"),
        _("city"),
        _("join channel"),
        _("orders"),
        _("total spent (yuan)"),
        _("last order"),
        _("joined"),
    ]

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(header)
        for c in rows.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    c.pk,
                    c.phone,
                    c.name,
                    c.status,
                    c.city,
                    c.join_channel,
                    c.order_count,
                    f"{c.total_spent / 100:.2f}",
                    c.last_order_at.isoformat() if c.last_order_at else "",
                    c.created_at.isoformat(),
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.csv"'
    return response  # type: ignore[return-value]  # a streamed answer is still a response


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def segment_bulk_tag(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _or_404(segment_selectors.segment, pk)
    try:
        tag = segment_selectors.tag(int(request.POST.get("tag") or 0))
        count = tags.bulk_tag(_actor(request), tag, segments.segment_customers(segment))
    except (DomainError, ValueError) as exc:
        messages.error(request, _error_text(exc) if isinstance(exc, DomainError) else str(exc))
    else:
        messages.success(
            request,
            _("Tagged %(count)d customers with “%(tag)s”.") % {"count": count, "tag": tag.name},
        )
    return redirect("customers:segment_detail", pk=segment.pk)


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    segment = _or_404(segment_selectors.segment, pk)
    segment_services.delete_segment(_actor(request), segment)
    messages.success(request, _("Segment deleted."))
    return redirect("customers:segment_list")


# --- tags --------------------------------------------------------------------------------


@console_view(Perm.CUSTOMERS_VIEW)
def tag_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "customers/tags/tag_list.html",
        {
            "groups": segment_selectors.tag_groups(),
            "can_manage": _actor(request).can(Perm.SEGMENTS_MANAGE),
        },
    )


def _tag_action(request: HttpRequest, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, done)
    return redirect("customers:tag_list")


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def tag_group_save(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    name = request.POST.get("name", "")
    exclusive = request.POST.get("exclusive") == "on"
    if pk is None:
        return _tag_action(
            request,
            lambda: tags.create_tag_group(actor, name=name, exclusive=exclusive),
            _("Tag group added."),
        )
    group = _or_404(segment_selectors.tag_group, pk)
    return _tag_action(
        request,
        lambda: tags.update_tag_group(actor, group, name=name, exclusive=exclusive),
        _("Tag group saved."),
    )


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def tag_group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = _or_404(segment_selectors.tag_group, pk)
    return _tag_action(
        request, lambda: tags.delete_tag_group(_actor(request), group), _("Tag group deleted.")
    )


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def tag_save(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor = _actor(request)
    values = {k: request.POST.get(k, "") for k in ("name", "color", "description")}
    if pk is None:
        group = _or_404(segment_selectors.tag_group, int(request.POST.get("group") or 0))
        return _tag_action(
            request, lambda: tags.create_tag(actor, group=group, **values), _("Tag added.")
        )
    tag = _or_404(segment_selectors.tag, pk)
    return _tag_action(request, lambda: tags.update_tag(actor, tag, **values), _("Tag saved."))


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = _or_404(segment_selectors.tag, pk)
    return _tag_action(request, lambda: tags.delete_tag(_actor(request), tag), _("Tag deleted."))


# --- auto-tag rules -----------------------------------------------------------------------


@console_view(Perm.CUSTOMERS_VIEW)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "customers/segments/rule_list.html",
        {
            "rules": segment_selectors.auto_tag_rules(),
            "can_manage": _actor(request).can(Perm.SEGMENTS_MANAGE),
        },
    )


def _rule_form(request: HttpRequest, row: Any = None) -> HttpResponse:
    actor = _actor(request)
    values: dict[str, Any] = {
        "name": row.name if row else "",
        "tag": row.tag_id if row else None,
        "remove_unmatched": row.remove_unmatched if row else True,
        "is_active": row.is_active if row else True,
    }
    rule = row.rule if row else None
    error = ""
    if request.method == "POST":
        rule = _posted_rule(request)
        values = {
            "name": request.POST.get("name", ""),
            "tag": int(request.POST.get("tag") or 0) or None,
            "remove_unmatched": request.POST.get("remove_unmatched") == "on",
            "is_active": request.POST.get("is_active") == "on",
        }
        try:
            tag = segment_selectors.tag(values["tag"] or 0)
            fields = {**values, "tag": tag}
            if row is None:
                row = autotag.create_rule(actor, rule=rule, **fields)
            else:
                row = autotag.update_rule(actor, row, rule=rule, **fields)
        except DomainError as exc:
            error = _error_text(exc)
        else:
            messages.success(request, _("Auto-tag rule saved."))
            return redirect("customers:rule_list")
    return render(
        request,
        "customers/segments/rule_form.html",
        {
            "row": row,
            "values": values,
            "error": error,
            "tags": segment_selectors.tags(),
            **_builder_context(rule),
        },
        status=422 if error else 200,
    )


@console_view(Perm.SEGMENTS_MANAGE)
def rule_new(request: HttpRequest) -> HttpResponse:
    return _rule_form(request)


@console_view(Perm.SEGMENTS_MANAGE)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_form(request, _or_404(segment_selectors.auto_tag_rule, pk))


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def rule_run(request: HttpRequest, pk: int) -> HttpResponse:
    row = _or_404(segment_selectors.auto_tag_rule, pk)
    try:
        result = autotag.run_rule(row, actor=_actor(request))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Run done: %(added)d tagged, %(removed)d untagged.")
            % {"added": result.added, "removed": result.removed},
        )
    return redirect("customers:rule_list")


@require_POST
@console_view(Perm.SEGMENTS_MANAGE)
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = _or_404(segment_selectors.auto_tag_rule, pk)
    autotag.delete_rule(_actor(request), row)
    messages.success(request, _("Auto-tag rule deleted."))
    return redirect("customers:rule_list")
