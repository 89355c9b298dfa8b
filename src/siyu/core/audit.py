"""The audit log: every service that changes merchant data writes one entry.

``snapshot(obj, fields)`` turns a model into a JSON-safe dict for the
before/after columns; ``record(actor, action, ...)`` writes the entry in the
caller's transaction, so a rolled-back change leaves no log line behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile

from siyu.core.actors import Actor
from siyu.core.models import AuditEntry


def json_safe(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, FieldFile):
        return value.name or None
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_safe(v) for v in value]
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of ``obj`` (foreign keys as ids) as a JSON-safe dict."""
    result: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if isinstance(field, models.ForeignKey):
            result[name] = getattr(obj, field.attname)
        else:
            result[name] = json_safe(getattr(obj, name))
    return result


def changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    return dict(before or {}) != dict(after or {})


def record(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    object_repr: str | None = None,
) -> AuditEntry:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    return AuditEntry.unscoped.create(
        merchant=actor.merchant,
        actor_user=actor.user,
        actor_api_key=actor.api_key,
        actor_label=actor.label[:150],
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        before=json_safe(dict(before)) if before is not None else None,
        after=json_safe(dict(after)) if after is not None else None,
        ip_address=actor.ip_address,
    )
