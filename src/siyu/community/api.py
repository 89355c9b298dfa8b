"""Staff API of the community (``/api/v1/community``): groups, members, join codes, scans,
auto-replies, posting and chats.

(No ``from __future__ import annotations``: django-ninja reads the annotations at run time.)
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from siyu.community import chat, posters, selectors, services
from siyu.community.models import AutoReply, CommunityGroup, GroupMember, JoinCode
from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import Forbidden, NotFound
from siyu.core.permissions import Perm

router = Router(tags=["community"])


class CardIn(Schema):
    type: str = Field(description="`product`, `store`, `order` or `coupon`.", examples=["product"])
    id: int


class WelcomeIn(Schema):
    text: str = Field("", max_length=2000)
    card: CardIn | None = None


class GroupOut(Schema):
    id: int
    name: str
    store_id: int | None
    owner_id: int | None = Field(description="A staff membership id.")
    capacity: int
    member_count: int
    announcement: str
    welcome: dict[str, Any]
    banned_words: list[str]
    status: str
    opened_by_code_id: int | None
    conversation_id: int | None = None
    created_at: datetime

    @staticmethod
    def resolve_conversation_id(obj: Any) -> int | None:
        conversation = getattr(obj, "conversation", None)
        return conversation.pk if conversation is not None else None


class GroupIn(Schema):
    name: str = Field(examples=["静安店福利群"])
    store_id: int | None = None
    owner_id: int | None = None
    capacity: int = Field(200, description="1 to 500.")
    announcement: str = ""
    welcome: WelcomeIn | None = None
    banned_words: list[str] = Field(default_factory=list)


class GroupPatch(Schema):
    name: str | None = None
    store_id: int | None = None
    owner_id: int | None = None
    capacity: int | None = None
    announcement: str | None = None
    welcome: WelcomeIn | None = None
    banned_words: list[str] | None = None


class MemberOut(Schema):
    id: int
    group_id: int
    customer_id: int
    source_code_id: int | None
    state: str
    joined_at: datetime
    left_at: datetime | None
    leave_reason: str
    muted_until: datetime | None


class MuteIn(Schema):
    until: datetime | None = Field(description="A future moment; null unmutes.")


class CodeOut(Schema):
    id: int
    kind: str
    name: str
    token: str
    link: str
    state: str
    store_id: int | None
    guide_id: int | None
    group_ids: list[int]
    auto_create: bool
    base_name: str
    new_group_capacity: int
    welcome: dict[str, Any]
    poster_message: str
    is_active: bool
    scan_count: int
    join_count: int
    created_at: datetime

    @staticmethod
    def resolve_link(obj: Any) -> str:
        return posters.short_link(obj)

    @staticmethod
    def resolve_group_ids(obj: Any) -> list[int]:
        return [r.group_id for r in obj.routes.all()]


class CodeIn(Schema):
    kind: str = Field(description="`groups`, `store_finder` or `guide`.")
    name: str
    state: str = Field(description="The channel, slug-like: `store_door`, `table_card`…")
    store_id: int | None = None
    guide_id: int | None = None
    group_ids: list[int] = Field(default_factory=list, description="In routing order.")
    auto_create: bool = False
    base_name: str = ""
    new_group_capacity: int = 200
    welcome: WelcomeIn | None = None
    poster_message: str = ""
    is_active: bool = True


class CodePatch(Schema):
    name: str | None = None
    state: str | None = None
    store_id: int | None = None
    guide_id: int | None = None
    group_ids: list[int] | None = None
    auto_create: bool | None = None
    base_name: str | None = None
    new_group_capacity: int | None = None
    welcome: WelcomeIn | None = None
    poster_message: str | None = None
    is_active: bool | None = None


class ScanOut(Schema):
    id: int
    customer_id: int | None
    group_id: int | None
    outcome: str
    scanned_at: datetime


class AutoReplyOut(Schema):
    id: int
    group_id: int | None
    keyword: str
    match: str
    reply: dict[str, Any]
    is_active: bool


class AutoReplyIn(Schema):
    group_id: int | None = None
    keyword: str
    match: str = "contains"
    reply: WelcomeIn
    is_active: bool = True


class PostIn(Schema):
    text: str = Field("", max_length=2000)
    card: CardIn | None = None


class PostManyIn(PostIn):
    group_ids: list[int]


class MessageOut(Schema):
    id: int
    conversation_id: int
    sender_kind: str
    sender: dict[str, Any] | None
    text: str
    card: dict[str, Any] | None
    broadcast_id: int | None
    created_at: str


def _dump(schema: Schema | None) -> dict[str, Any] | None:
    return schema.model_dump(exclude_none=True) if schema is not None else None


def _group(pk: int) -> CommunityGroup:
    return selectors.group(pk)


def _visible_group(request: HttpRequest, pk: int) -> CommunityGroup:
    actor = actor_of(request, Perm.COMMUNITY_VIEW)
    group = _group(pk)
    if actor.membership is not None:
        from siyu.community import access

        if not access.staff_may_see_group(actor.membership, group):
            raise NotFound()
    return group


@router.get("/groups", response={200: list[GroupOut], **ERROR_RESPONSES}, summary="List groups")
@paginate(Page)
def list_groups(request: HttpRequest, store_id: int | None = None, status: str = "") -> Any:
    actor = actor_of(request, Perm.COMMUNITY_VIEW)
    return selectors.groups(
        store_id=store_id, status=status, staff=actor.membership
    ).select_related("conversation")


@router.post("/groups", response={201: GroupOut, **ERROR_RESPONSES}, summary="Create a group")
def create_group(request: HttpRequest, payload: GroupIn) -> Status:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    group = services.create_group(
        actor,
        name=payload.name,
        store=payload.store_id,
        owner=payload.owner_id,
        capacity=payload.capacity,
        announcement=payload.announcement,
        welcome=_dump(payload.welcome),
        banned_words=payload.banned_words,
    )
    return Status(201, group)


@router.get("/groups/{pk}", response={200: GroupOut, **ERROR_RESPONSES}, summary="A group")
def get_group(request: HttpRequest, pk: int) -> Any:
    return _visible_group(request, pk)


@router.patch("/groups/{pk}", response={200: GroupOut, **ERROR_RESPONSES}, summary="Change a group")
def update_group(request: HttpRequest, pk: int, payload: GroupPatch) -> Any:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    changes = payload.model_dump(exclude_unset=True)
    renamed = {"store_id": "store", "owner_id": "owner"}
    changes = {renamed.get(k, k): v for k, v in changes.items()}
    if "welcome" in changes:
        changes["welcome"] = _dump(payload.welcome) or {}
    return services.update_group(actor, _group(pk), **changes)


@router.post(
    "/groups/{pk}/archive", response={200: GroupOut, **ERROR_RESPONSES}, summary="Archive a group"
)
def archive_group(request: HttpRequest, pk: int) -> Any:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    return services.archive_group(actor, _group(pk))


@router.get(
    "/groups/{pk}/members",
    response={200: list[MemberOut], **ERROR_RESPONSES},
    summary="Members of a group",
)
@paginate(Page)
def list_members(request: HttpRequest, pk: int, active: bool = False) -> Any:
    return selectors.members(_visible_group(request, pk), active_only=active)


@router.post(
    "/members/{pk}/remove", response={200: MemberOut, **ERROR_RESPONSES}, summary="Remove a member"
)
def remove_member(request: HttpRequest, pk: int) -> Any:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    return services.remove_member(actor, selectors.member(pk))


@router.post(
    "/members/{pk}/mute",
    response={200: MemberOut, **ERROR_RESPONSES},
    summary="Mute or unmute a member",
)
def mute_member(request: HttpRequest, pk: int, payload: MuteIn) -> Any:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    return services.mute_member(actor, selectors.member(pk), payload.until)


@router.get("/codes", response={200: list[CodeOut], **ERROR_RESPONSES}, summary="List join codes")
@paginate(Page)
def list_codes(request: HttpRequest, kind: str = "") -> Any:
    actor_of(request, Perm.COMMUNITY_VIEW)
    return selectors.codes(kind=kind).prefetch_related("routes")


def _code_values(payload: Schema, *, partial: bool) -> dict[str, Any]:
    values = payload.model_dump(exclude_unset=partial)
    renamed = {"store_id": "store", "guide_id": "guide", "group_ids": "groups"}
    values = {renamed.get(k, k): v for k, v in values.items()}
    if "welcome" in values:
        values["welcome"] = _dump(payload.welcome) or {}  # type: ignore[attr-defined]
    return values


@router.post("/codes", response={201: CodeOut, **ERROR_RESPONSES}, summary="Create a join code")
def create_code(request: HttpRequest, payload: CodeIn) -> Status:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    return Status(201, services.create_code(actor, **_code_values(payload, partial=False)))


@router.get("/codes/{pk}", response={200: CodeOut, **ERROR_RESPONSES}, summary="A join code")
def get_code(request: HttpRequest, pk: int) -> Any:
    actor_of(request, Perm.COMMUNITY_VIEW)
    return selectors.code(pk)


@router.patch(
    "/codes/{pk}", response={200: CodeOut, **ERROR_RESPONSES}, summary="Change a join code"
)
def update_code(request: HttpRequest, pk: int, payload: CodePatch) -> Any:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    return services.update_code(actor, selectors.code(pk), **_code_values(payload, partial=True))


@router.get(
    "/codes/{pk}/scans", response={200: list[ScanOut], **ERROR_RESPONSES}, summary="Scans of a code"
)
@paginate(Page)
def list_scans(request: HttpRequest, pk: int) -> Any:
    actor_of(request, Perm.COMMUNITY_VIEW)
    code = selectors.code(pk)
    return code.scans.all()


@router.get(
    "/codes/{pk}/qr.svg", response={200: None, **ERROR_RESPONSES}, summary="The QR code (SVG)"
)
def code_qr(request: HttpRequest, pk: int) -> HttpResponse:
    actor_of(request, Perm.COMMUNITY_VIEW)
    return HttpResponse(posters.qr_svg(selectors.code(pk)), content_type="image/svg+xml")


@router.get(
    "/codes/{pk}/poster.pdf", response={200: None, **ERROR_RESPONSES}, summary="The poster (PDF)"
)
def code_poster(request: HttpRequest, pk: int) -> HttpResponse:
    actor_of(request, Perm.COMMUNITY_VIEW)
    code = selectors.code(pk)
    response = HttpResponse(posters.poster_pdf(code), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="poster-{code.token}.pdf"'
    return response


@router.get(
    "/auto-replies",
    response={200: list[AutoReplyOut], **ERROR_RESPONSES},
    summary="List auto-replies",
)
def list_auto_replies(request: HttpRequest) -> Any:
    actor_of(request, Perm.COMMUNITY_VIEW)
    return list(selectors.auto_replies())


@router.post(
    "/auto-replies", response={201: AutoReplyOut, **ERROR_RESPONSES}, summary="Create an auto-reply"
)
def create_auto_reply(request: HttpRequest, payload: AutoReplyIn) -> Status:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    reply = services.create_auto_reply(
        actor,
        group=payload.group_id,
        keyword=payload.keyword,
        match=payload.match,
        reply=_dump(payload.reply),
        is_active=payload.is_active,
    )
    return Status(201, reply)


@router.delete(
    "/auto-replies/{pk}", response={204: None, **ERROR_RESPONSES}, summary="Delete an auto-reply"
)
def delete_auto_reply(request: HttpRequest, pk: int) -> Status:
    actor = actor_of(request, Perm.COMMUNITY_MANAGE)
    reply = AutoReply.objects.filter(pk=pk).first()
    if reply is None:
        raise NotFound()
    services.delete_auto_reply(actor, reply)
    return Status(204, None)


@router.post(
    "/post", response={201: list[MessageOut], **ERROR_RESPONSES}, summary="Post to many groups"
)
def post_many(request: HttpRequest, payload: PostManyIn) -> Status:
    actor = actor_of(request, Perm.COMMUNITY_CHAT)
    groups = [_group(pk) for pk in dict.fromkeys(payload.group_ids)]
    messages = services.post_to_groups(actor, groups, text=payload.text, card=_dump(payload.card))
    return Status(201, [chat.serialize(m) for m in messages])


def _conversation_for_staff(request: HttpRequest, pk: int) -> Any:
    from siyu.community import access

    actor = actor_of(request, Perm.COMMUNITY_VIEW)
    conversation = selectors.conversation(pk)
    if actor.membership is not None and not access.staff_may_see(conversation, actor.membership):
        raise NotFound()
    return actor, conversation


@router.get(
    "/conversations/{pk}/messages",
    response={200: list[MessageOut], **ERROR_RESPONSES},
    summary="Chat history",
)
def history(
    request: HttpRequest, pk: int, before_id: int | None = None, after_id: int | None = None
) -> Any:
    _actor, conversation = _conversation_for_staff(request, pk)
    return [
        chat.serialize(m)
        for m in selectors.history(conversation, before_id=before_id, after_id=after_id)
    ]


@router.post(
    "/conversations/{pk}/messages",
    response={201: MessageOut, **ERROR_RESPONSES},
    summary="Post in a chat",
)
def post(request: HttpRequest, pk: int, payload: PostIn) -> Status:
    actor, conversation = _conversation_for_staff(request, pk)
    actor.require(Perm.COMMUNITY_CHAT)
    if actor.membership is None:
        raise Forbidden("API keys post to groups through POST /community/post.")
    message = services.post_message(
        conversation, text=payload.text, card=_dump(payload.card), sender_staff=actor.membership
    )
    return Status(201, chat.serialize(message))


@router.post(
    "/conversations/{pk}/read", response={204: None, **ERROR_RESPONSES}, summary="Mark read"
)
def read(request: HttpRequest, pk: int, up_to: int | None = None) -> Status:
    actor, conversation = _conversation_for_staff(request, pk)
    if actor.membership is not None:
        services.mark_read(conversation, staff=actor.membership, up_to=up_to)
    return Status(204, None)


_ = (GroupMember, JoinCode, Query)  # schemas document these models
