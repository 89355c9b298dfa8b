from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.core.models import AuditEntry, IdempotencyRecord
from siyu.core.testing import api_client

pytestmark = pytest.mark.urls("tests.core.idempotency_urls")


def post(client, note, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/api/test/notes",
        data=json.dumps({"note": note}),
        content_type="application/json",
        headers=headers,
    )


def notes():
    return AuditEntry.unscoped.filter(action="test.note").count()


def test_same_key_and_body_takes_effect_once_and_replays_the_answer(merchant):
    client = api_client(merchant)
    first = post(client, "hello", key="k-1")
    second = post(client, "hello", key="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert notes() == 1


def test_without_a_key_every_post_takes_effect(merchant):
    client = api_client(merchant)
    post(client, "a")
    post(client, "a")
    assert notes() == 2


def test_same_key_with_another_body_is_refused(merchant):
    client = api_client(merchant)
    post(client, "hello", key="k-1")
    response = post(client, "other", key="k-1")
    assert response.status_code == 422
    assert response.json()["error"] == "idempotency_key_reused"
    assert "Idempotency-Key" in response.json()["fields"]
    assert notes() == 1


def test_keys_are_scoped_per_caller(merchant, other_merchant):
    post(api_client(merchant), "hello", key="shared")
    post(api_client(merchant), "hello", key="shared")  # another key of the same merchant
    post(api_client(other_merchant), "hello", key="shared")
    assert notes() == 3


def test_an_error_answer_rolls_back_and_frees_the_key(merchant):
    client = api_client(merchant)
    bad = post(client, "bad", key="k-2")
    assert bad.status_code == 422
    assert notes() == 0  # the write before the 422 was rolled back
    assert not IdempotencyRecord.unscoped.exists()
    good = post(client, "fixed", key="k-2")  # the corrected request may reuse the key
    assert good.status_code == 201
    assert notes() == 1


def test_a_server_error_rolls_back_and_frees_the_key(merchant):
    client = api_client(merchant)
    client.raise_request_exception = False
    assert post(client, "boom", key="k-3").status_code == 500
    assert notes() == 0
    assert not IdempotencyRecord.unscoped.exists()


def test_an_error_without_a_key_also_rolls_back(merchant):
    assert post(api_client(merchant), "bad").status_code == 422
    assert notes() == 0


def test_a_request_still_running_answers_409(merchant):
    client = api_client(merchant)
    first = post(client, "hello", key="k-4")
    IdempotencyRecord.unscoped.update(state=IdempotencyRecord.State.PROCESSING)
    response = post(client, "hello", key="k-4")
    assert first.status_code == 201
    assert response.status_code == 409
    assert response.json()["error"] == "idempotency_request_in_progress"


def test_a_claim_abandoned_by_a_dead_process_can_be_taken_over(merchant):
    client = api_client(merchant)
    principal = f"key:{client.api_key.pk}"
    body = json.dumps({"note": "hello"}).encode()
    from siyu.core.ids import sha256_hex

    record = IdempotencyRecord.unscoped.create(
        merchant=merchant,
        principal=principal,
        key="k-5",
        method="POST",
        path="/api/test/notes",
        request_hash=sha256_hex(b"POST /api/test/notes\n" + body),
    )
    IdempotencyRecord.unscoped.filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )
    response = post(client, "hello", key="k-5")
    assert response.status_code == 201
    assert notes() == 1


def test_invalid_keys_are_rejected(merchant):
    response = post(api_client(merchant), "hello", key="x" * 300)
    assert response.status_code == 400
    assert notes() == 0
