"""Staff API of the CRM: a customer's identities, consents, notes and timeline
(``/api/v1/customers/{id}/…``) and CSV imports (``/api/v1/customer-imports``).

(No ``from __future__ import annotations``: django-ninja resolves annotations at run time.)

A shopping guide's key reaches only the customers that guide owns (404 for others).
"""

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from siyu.core.apikit import ERROR_RESPONSES, Page, actor_of
from siyu.core.errors import InvalidInput
from siyu.core.permissions import Perm
from siyu.customers import consent, crm_selectors, imports, profile, timeline
from siyu.customers.models import Consent, CustomerIdentity, CustomerImport, CustomerNote

router = Router(tags=["customers"])
imports_router = Router(tags=["customers"])

NO_CONTENT = {204: None, **ERROR_RESPONSES}


class IdentityOut(Schema):
    id: int
    kind: str = Field(description="`wechat_openid`, `wechat_unionid` or `external`.")
    value: str = Field(examples=["oWx1a2b3c4d5e6f7g8h9"])
    created_at: datetime


class IdentityIn(Schema):
    kind: Literal["wechat_openid", "wechat_unionid", "external"]
    value: str = Field(min_length=1, max_length=128, examples=["M-000123"])


class ConsentOut(Schema):
    channel: str = Field(description="`inbox` (shop messages), `group`, `sms` or `wechat`.")
    status: str = Field(description="`granted` or `refused`; `granted` until refused.")
    source: str = Field(description="Where the answer came from: storefront, console, import…")
    updated_at: datetime | None


class ConsentIn(Schema):
    status: Literal["granted", "refused"]


class NoteOut(Schema):
    id: int
    text: str
    author: str = Field(alias="author_label")
    created_at: datetime


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=1000, examples=["Prefers oat milk"])


class TimelineOut(Schema):
    id: int
    kind: str = Field(description="created, scanned, joined, left, ordered, paid, refunded, …")
    text: str = Field(description="The entry as one sentence in the request's language.")
    data: dict[str, Any] = Field(description="Ids and names of what the entry is about.")
    actor: str
    occurred_at: datetime

    @staticmethod
    def resolve_text(obj: Any) -> str:
        return timeline.describe(obj.kind, obj.data)


class ImportOut(Schema):
    id: int
    file_name: str
    status: str = Field(description="`queued`, `running`, `done` or `failed`.")
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    unchanged_count: int
    error_count: int
    errors: list[dict[str, Any]] = Field(
        description='The validation report: `[{"row": 3, "field": "birthday", "reason": "…"}]` '
        "(rows counted as a spreadsheet shows them, the header is row 1; at most 1000)."
    )
    created_at: datetime
    finished_at: datetime | None


def _customer(request: HttpRequest, customer_id: int, permission: str) -> Any:
    actor = actor_of(request, permission)
    return actor, crm_selectors.customer_for(actor, customer_id)


@router.get(
    "/{customer_id}/identities",
    response={200: list[IdentityOut], **ERROR_RESPONSES},
    summary="List a customer's identities (WeChat ids, external ids)",
)
def list_identities(request: HttpRequest, customer_id: int) -> Any:
    _actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_VIEW)
    return list(crm_selectors.identities(customer))


@router.post(
    "/{customer_id}/identities",
    response={201: IdentityOut, **ERROR_RESPONSES},
    summary="Add an identity (409 `identity_taken` when another customer holds it)",
)
def add_identity(
    request: HttpRequest, customer_id: int, payload: IdentityIn
) -> Status[CustomerIdentity]:
    actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_MANAGE)
    return Status(201, profile.add_identity(actor, customer, payload.kind, payload.value))


@router.delete(
    "/{customer_id}/identities/{identity_id}",
    response=NO_CONTENT,
    summary="Remove an identity",
)
def remove_identity(request: HttpRequest, customer_id: int, identity_id: int) -> Status[None]:
    actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_MANAGE)
    profile.remove_identity(actor, customer, identity_id)
    return Status(204, None)


def _consents(customer: Any) -> list[dict[str, Any]]:
    return [
        {
            "channel": row["channel"],
            "status": Consent.Status.REFUSED if row["refused"] else Consent.Status.GRANTED,
            "source": row["source"],
            "updated_at": row["updated_at"],
        }
        for row in crm_selectors.consent_rows(customer)
    ]


@router.get(
    "/{customer_id}/consents",
    response={200: list[ConsentOut], **ERROR_RESPONSES},
    summary="A customer's answer per marketing channel",
)
def list_consents(request: HttpRequest, customer_id: int) -> Any:
    _actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_VIEW)
    return _consents(customer)


@router.put(
    "/{customer_id}/consents/{channel}",
    response={200: list[ConsentOut], **ERROR_RESPONSES},
    summary="Record a refusal (or that marketing is allowed again) on one channel",
)
def set_consent(request: HttpRequest, customer_id: int, channel: str, payload: ConsentIn) -> Any:
    actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_MANAGE)
    consent.set_consent(customer, channel, payload.status, source="api", actor=actor)
    return _consents(customer)


@router.get(
    "/{customer_id}/notes",
    response={200: list[NoteOut], **ERROR_RESPONSES},
    summary="Staff notes about a customer, newest first",
)
def list_notes(request: HttpRequest, customer_id: int) -> Any:
    _actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_VIEW)
    return list(crm_selectors.notes(customer))


@router.post(
    "/{customer_id}/notes",
    response={201: NoteOut, **ERROR_RESPONSES},
    summary="Add a note",
)
def add_note(request: HttpRequest, customer_id: int, payload: NoteIn) -> Status[CustomerNote]:
    actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_TAG)
    return Status(201, profile.add_note(actor, customer, payload.text))


@router.delete(
    "/{customer_id}/notes/{note_id}",
    response=NO_CONTENT,
    summary="Delete a note (its author, or a role with customers.manage)",
)
def delete_note(request: HttpRequest, customer_id: int, note_id: int) -> Status[None]:
    actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_TAG)
    profile.delete_note(actor, customer, note_id)
    return Status(204, None)


@router.get(
    "/{customer_id}/timeline",
    response={200: list[TimelineOut], **ERROR_RESPONSES},
    summary="What happened to a customer, newest first",
)
@paginate(Page)
def list_timeline(request: HttpRequest, customer_id: int) -> Any:
    _actor, customer = _customer(request, customer_id, Perm.CUSTOMERS_VIEW)
    return crm_selectors.timeline_entries(customer)


# --- imports --------------------------------------------------------------------------------


@imports_router.post(
    "",
    response={201: ImportOut, **ERROR_RESPONSES},
    summary="Upload a CSV of customers; processed in the background (see docs/import-customers.md)",
)
def upload_import(request: HttpRequest, file: File[UploadedFile]) -> Status[CustomerImport]:
    actor = actor_of(request, Perm.SEGMENTS_MANAGE)
    if file.size is not None and file.size > imports.MAX_BYTES:
        reason = _("The file is larger than 20 MB: split it.")
        raise InvalidInput(reason, fields={"file": reason})
    return Status(
        201,
        imports.start_import(actor, file_name=file.name or "customers.csv", content=file.read()),
    )


@imports_router.get(
    "", response={200: list[ImportOut], **ERROR_RESPONSES}, summary="List imports, newest first"
)
@paginate(Page)
def list_imports(request: HttpRequest) -> Any:
    actor_of(request, Perm.SEGMENTS_MANAGE)
    return crm_selectors.imports()


@imports_router.get(
    "/{import_id}",
    response={200: ImportOut, **ERROR_RESPONSES},
    summary="An import's progress and validation report",
)
def get_import(request: HttpRequest, import_id: int) -> CustomerImport:
    actor_of(request, Perm.SEGMENTS_MANAGE)
    return imports.import_of(import_id)
