"""A tiny write endpoint under /api/ for testing the idempotency middleware in isolation."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from siyu.core.models import AuditEntry


@csrf_exempt
def record_note(request: HttpRequest) -> JsonResponse:
    """Writes one audit entry; answers 422 (after writing!) when the note is "bad"."""
    if request.siyu_actor is None:  # type: ignore[attr-defined]
        return JsonResponse({"error": "unauthorized"}, status=401)
    note = json.loads(request.body or b"{}").get("note", "")
    entry = AuditEntry.objects.create(actor_label="test", action="test.note", object_repr=note)
    if note == "bad":
        return JsonResponse({"error": "invalid", "fields": {"note": "bad"}}, status=422)
    if note == "boom":
        raise RuntimeError("server error after a write")
    response = JsonResponse({"id": entry.pk, "note": note}, status=201)
    response["Location"] = f"/api/test/notes/{entry.pk}"
    return response


urlpatterns = [path("api/test/notes", record_note)]
