"""Staff API of tags, segments and auto-tag rules (``/api/v1/tags``, ``/segments``,
``/auto-tag-rules``). Rules are the segment language (docs/segments.md); an invalid rule
answers 422 with ``fields = {"rule": reason, "path": "all[2].value"}``.

(No ``from __future__ import annotations``: django-ninja resolves annotations at run time.)
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import InvalidInput
from siyu.core.permissions import Perm
from siyu.customers import autotag, segment_selectors, segment_services, segments, selectors, tags
from siyu.customers.api import CustomerOut
from siyu.customers.models import AutoTagRule, Segment, Tag, TagGroup
from siyu.customers.rules import catalogue

tags_router = Router(tags=["tags"])
segments_router = Router(tags=["segments"])
rules_router = Router(tags=["auto-tag rules"])

RULE_DESCRIPTION = (
    'A rule of the segment language: `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` '
    'and leaves `{"field", "op", "value", ...}` (see docs/segments.md).'
)
RULE_EXAMPLE = {
    "all": [
        {"field": "spent_in_days", "days": 90, "op": "gte", "value": 50000},
        {"field": "days_since_last_order", "op": "gte", "value": 30},
    ]
}


# --- tags ------------------------------------------------------------------------------


class TagOut(Schema):
    id: int
    group_id: int
    name: str = Field(examples=["拿铁控"])
    color: str = Field(examples=["#2f6f4f"])
    description: str
    customer_count: int = Field(description="Customers holding the tag.")
    created_at: datetime


class TagGroupOut(Schema):
    id: int
    name: str = Field(examples=["口味偏好"])
    exclusive: bool = Field(description="A customer holds at most one tag of the group.")
    position: int
    tags: list[TagOut]

    @staticmethod
    def resolve_tags(obj: Any) -> list[Any]:
        return list(obj.tags.all())


class TagGroupIn(Schema):
    name: str = Field(max_length=40, examples=["口味偏好"])
    exclusive: bool = False
    position: int | None = Field(None, ge=0)


class TagGroupPatch(Schema):
    name: str | None = Field(None, max_length=40)
    exclusive: bool | None = None
    position: int | None = Field(None, ge=0)


class TagIn(Schema):
    group_id: int
    name: str = Field(max_length=40, examples=["拿铁控"])
    color: str = Field("#2f6f4f", examples=["#2f6f4f"])
    description: str = Field("", max_length=200)


class TagPatch(Schema):
    name: str | None = Field(None, max_length=40)
    color: str | None = None
    description: str | None = Field(None, max_length=200)


class TaggedOut(Schema):
    changed: bool = Field(description="False when nothing changed (already tagged / untagged).")


class AudienceIn(Schema):
    segment_id: int | None = Field(None, description="A saved segment, or…")
    rule: dict[str, Any] | None = Field(None, description=RULE_DESCRIPTION)


class BulkOut(Schema):
    count: int = Field(description="Customers tagged (or untagged) by this call.")


def _audience(payload: AudienceIn) -> Any:
    if (payload.segment_id is None) == (payload.rule is None):
        raise InvalidInput(
            "Give a segment_id or a rule.",
            fields={"segment_id": "Give exactly one of segment_id and rule."},
        )
    if payload.segment_id is not None:
        return segments.segment_customers(segment_selectors.segment(payload.segment_id))
    return segments.matching_customers(payload.rule or {})


@tags_router.get(
    "/groups", response={200: list[TagGroupOut], **ERROR_RESPONSES}, summary="Tag groups and tags"
)
def list_tag_groups(request: HttpRequest) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return list(segment_selectors.tag_groups())


@tags_router.post(
    "/groups", response={201: TagGroupOut, **ERROR_RESPONSES}, summary="Create a tag group"
)
def create_tag_group(request: HttpRequest, payload: TagGroupIn) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    return Status(201, tags.create_tag_group(actor, **payload.model_dump()))


@tags_router.patch(
    "/groups/{group_id}",
    response={200: TagGroupOut, **ERROR_RESPONSES},
    summary="Change a tag group",
)
def update_tag_group(request: HttpRequest, group_id: int, payload: TagGroupPatch) -> TagGroup:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    group = segment_selectors.tag_group(group_id)
    return tags.update_tag_group(actor, group, **payload.model_dump(exclude_unset=True))


@tags_router.delete(
    "/groups/{group_id}",
    response={204: None, **ERROR_RESPONSES},
    summary="Delete a tag group with its tags",
)
def delete_tag_group(request: HttpRequest, group_id: int) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    tags.delete_tag_group(actor, segment_selectors.tag_group(group_id))
    return Status(204, None)


@tags_router.get("", response={200: list[TagOut], **ERROR_RESPONSES}, summary="List tags")
@paginate(Page)
def list_tags(request: HttpRequest) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return segment_selectors.tags()


@tags_router.post("", response={201: TagOut, **ERROR_RESPONSES}, summary="Create a tag")
def create_tag(request: HttpRequest, payload: TagIn) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    group = segment_selectors.tag_group(payload.group_id)
    values = payload.model_dump(exclude={"group_id"})
    return Status(201, tags.create_tag(actor, group=group, **values))


@tags_router.patch("/{tag_id}", response={200: TagOut, **ERROR_RESPONSES}, summary="Change a tag")
def update_tag(request: HttpRequest, tag_id: int, payload: TagPatch) -> Tag:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    return tags.update_tag(
        actor, segment_selectors.tag(tag_id), **payload.model_dump(exclude_unset=True)
    )


@tags_router.delete("/{tag_id}", response={204: None, **ERROR_RESPONSES}, summary="Delete a tag")
def delete_tag(request: HttpRequest, tag_id: int) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    tags.delete_tag(actor, segment_selectors.tag(tag_id))
    return Status(204, None)


@tags_router.put(
    "/{tag_id}/customers/{customer_id}",
    response={200: TaggedOut, **ERROR_RESPONSES},
    summary="Tag a customer (idempotent)",
    description="Shopping guides may tag only the customers they own (403 otherwise).",
)
def tag_customer(request: HttpRequest, tag_id: int, customer_id: int) -> dict[str, bool]:
    actor = actor_of(request, Perm.CUSTOMERS_TAG)
    changed = tags.tag_customer(
        actor, selectors.customer(customer_id), segment_selectors.tag(tag_id)
    )
    return {"changed": changed}


@tags_router.delete(
    "/{tag_id}/customers/{customer_id}",
    response={200: TaggedOut, **ERROR_RESPONSES},
    summary="Take a tag off a customer (idempotent)",
)
def untag_customer(request: HttpRequest, tag_id: int, customer_id: int) -> dict[str, bool]:
    actor = actor_of(request, Perm.CUSTOMERS_TAG)
    changed = tags.untag_customer(
        actor, selectors.customer(customer_id), segment_selectors.tag(tag_id)
    )
    return {"changed": changed}


@tags_router.post(
    "/{tag_id}/bulk",
    response={200: BulkOut, **ERROR_RESPONSES},
    summary="Tag every customer of a segment or rule",
)
def bulk_tag(request: HttpRequest, tag_id: int, payload: AudienceIn) -> dict[str, int]:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    tag = segment_selectors.tag(tag_id)
    return {"count": tags.bulk_tag(actor, tag, _audience(payload))}


@tags_router.post(
    "/{tag_id}/bulk-remove",
    response={200: BulkOut, **ERROR_RESPONSES},
    summary="Take a tag off every customer of a segment or rule",
)
def bulk_untag(request: HttpRequest, tag_id: int, payload: AudienceIn) -> dict[str, int]:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    tag = segment_selectors.tag(tag_id)
    return {"count": tags.bulk_untag(actor, tag, _audience(payload))}


# --- segments ---------------------------------------------------------------------------


class SegmentOut(Schema):
    id: int
    name: str = Field(examples=["沉睡高价值"])
    description: str
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE])
    customer_count: int | None = Field(description="Customers matching when last counted.")
    counted_at: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime


class SegmentIn(Schema):
    name: str = Field(max_length=80, examples=["沉睡高价值"])
    description: str = Field("", max_length=200)
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE])


class SegmentPatch(Schema):
    name: str | None = Field(None, max_length=80)
    description: str | None = Field(None, max_length=200)
    rule: dict[str, Any] | None = Field(None, description=RULE_DESCRIPTION)


class PreviewIn(Schema):
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE])


class PreviewOut(Schema):
    count: int = Field(description="Customers matching the rule now.")


class FieldOut(Schema):
    name: str
    kind: str
    label: str
    ops: list[str]
    params: list[str]
    choices: list[str]
    money: bool
    maximum: int


@segments_router.get(
    "/fields", response={200: list[FieldOut], **ERROR_RESPONSES}, summary="The rule fields"
)
def rule_fields(request: HttpRequest) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return catalogue()


@segments_router.post(
    "/preview",
    response={200: PreviewOut, **ERROR_RESPONSES},
    summary="Count the customers a rule matches (422 names the clause at fault)",
)
def preview(request: HttpRequest, payload: PreviewIn) -> dict[str, int]:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return {"count": segments.count_matching(payload.rule)}


@segments_router.get("", response={200: list[SegmentOut], **ERROR_RESPONSES}, summary="Segments")
@paginate(Page)
def list_segments(request: HttpRequest) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return segment_selectors.segments()


@segments_router.post("", response={201: SegmentOut, **ERROR_RESPONSES}, summary="Save a segment")
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    return Status(201, segment_services.create_segment(actor, **payload.model_dump()))


@segments_router.get(
    "/{segment_id}", response={200: SegmentOut, **ERROR_RESPONSES}, summary="Get a segment"
)
def get_segment(request: HttpRequest, segment_id: int) -> Segment:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return segment_selectors.segment(segment_id)


@segments_router.patch(
    "/{segment_id}", response={200: SegmentOut, **ERROR_RESPONSES}, summary="Change a segment"
)
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Segment:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    return segment_services.update_segment(
        actor, segment_selectors.segment(segment_id), **payload.model_dump(exclude_unset=True)
    )


@segments_router.delete(
    "/{segment_id}", response={204: None, **ERROR_RESPONSES}, summary="Delete a segment"
)
def delete_segment(request: HttpRequest, segment_id: int) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    segment_services.delete_segment(actor, segment_selectors.segment(segment_id))
    return Status(204, None)


@segments_router.get(
    "/{segment_id}/customers",
    response={200: list[CustomerOut], **ERROR_RESPONSES},
    summary="The customers of a segment, now",
)
@paginate(Page)
def segment_customers(request: HttpRequest, segment_id: int) -> Any:
    actor_of(request, Perm.CUSTOMERS_EXPORT)
    segment = segment_selectors.segment(segment_id)
    return segments.segment_customers(segment).order_by("-id")


# --- auto-tag rules ----------------------------------------------------------------------


class AutoTagRuleOut(Schema):
    id: int
    name: str = Field(examples=["高消费"])
    tag_id: int
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION)
    remove_unmatched: bool
    is_active: bool
    last_run_at: datetime | None
    last_run_added: int
    last_run_removed: int
    created_at: datetime


class AutoTagRuleIn(Schema):
    name: str = Field(max_length=80, examples=["高消费"])
    tag_id: int
    rule: dict[str, Any] = Field(description=RULE_DESCRIPTION, examples=[RULE_EXAMPLE])
    remove_unmatched: bool = True
    is_active: bool = True


class AutoTagRulePatch(Schema):
    name: str | None = Field(None, max_length=80)
    tag_id: int | None = None
    rule: dict[str, Any] | None = None
    remove_unmatched: bool | None = None
    is_active: bool | None = None


class RunOut(Schema):
    added: int
    removed: int


@rules_router.get(
    "", response={200: list[AutoTagRuleOut], **ERROR_RESPONSES}, summary="Auto-tag rules"
)
@paginate(Page)
def list_rules(request: HttpRequest) -> Any:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return segment_selectors.auto_tag_rules()


@rules_router.post(
    "", response={201: AutoTagRuleOut, **ERROR_RESPONSES}, summary="Create an auto-tag rule"
)
def create_rule(request: HttpRequest, payload: AutoTagRuleIn) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    values = payload.model_dump(exclude={"tag_id"})
    return Status(
        201, autotag.create_rule(actor, tag=segment_selectors.tag(payload.tag_id), **values)
    )


@rules_router.get(
    "/{rule_id}", response={200: AutoTagRuleOut, **ERROR_RESPONSES}, summary="Get an auto-tag rule"
)
def get_rule(request: HttpRequest, rule_id: int) -> AutoTagRule:
    actor_of(request, Perm.CUSTOMERS_VIEW)
    return segment_selectors.auto_tag_rule(rule_id)


@rules_router.patch(
    "/{rule_id}",
    response={200: AutoTagRuleOut, **ERROR_RESPONSES},
    summary="Change an auto-tag rule",
)
def update_rule(request: HttpRequest, rule_id: int, payload: AutoTagRulePatch) -> AutoTagRule:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    values = payload.model_dump(exclude_unset=True, exclude={"tag_id"})
    if payload.tag_id is not None:
        values["tag"] = segment_selectors.tag(payload.tag_id)
    return autotag.update_rule(actor, segment_selectors.auto_tag_rule(rule_id), **values)


@rules_router.delete(
    "/{rule_id}", response={204: None, **ERROR_RESPONSES}, summary="Delete an auto-tag rule"
)
def delete_rule(request: HttpRequest, rule_id: int) -> Status:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    autotag.delete_rule(actor, segment_selectors.auto_tag_rule(rule_id))
    return Status(204, None)


@rules_router.post(
    "/{rule_id}/run",
    response={200: RunOut, **ERROR_RESPONSES},
    summary="Run an auto-tag rule now",
)
def run_rule(request: HttpRequest, rule_id: int) -> dict[str, int]:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    result = autotag.run_rule(segment_selectors.auto_tag_rule(rule_id), actor=actor)
    return {"added": result.added, "removed": result.removed}
