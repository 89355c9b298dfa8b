"""The imports API (``/api/v1/analytics/imports``): upload (202), progress and counts, the
report, 4xx naming the field, roles."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from siyu.analytics.importer.testing import csv_bytes
from siyu.analytics.models import ImportRun, Sale
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import api_client

BASE = "/api/v1/analytics/imports"

pytestmark = pytest.mark.django_db

ORDERS = csv_bytes(
    ["order_id", "customer_id", "placed_at", "amount"],
    [
        ["A1", "C1", "2025-03-01 09:30:00", "10.00"],
        ["A2", "C1", "2025-03-02 09:30:00", "bad"],
        ["A3", "C2", "2025-03-03 09:30:00", "7"],
    ],
)


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


def upload(client, content=ORDERS, name="orders.csv", **fields):
    data = {"kind": "orders", **fields, "file": SimpleUploadedFile(name, content)}
    return client.post(BASE, data)


def test_upload_answers_202_and_the_task_imports(merchant, django_capture_on_commit_callbacks):
    client = api_client(merchant, Role.OPERATOR)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["file_name"]) == ("orders", "queued", "orders.csv")
    assert body["bytes_total"] == len(ORDERS)
    run = client.get(f"{BASE}/{body['id']}").json()
    assert run["status"] == "done"
    assert run["progress"] == 1.0
    assert (run["rows_read"], run["rows_written"], run["rows_rejected"]) == (3, 2, 1)
    assert [(r["row"], r["field"]) for r in run["report"]] == [(3, "amount")]
    with merchant_context(merchant):
        assert set(Sale.objects.values_list("external_id", flat=True)) == {"A1", "A3"}
    report = client.get(f"{BASE}/{body['id']}/report.csv")
    assert report.status_code == 200
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "row,field,reason"
    assert lines[1].startswith("3,amount,")
    listed = client.get(BASE).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]


def test_progress_while_queued(merchant):
    client = api_client(merchant)
    body = upload(client).json()  # the on-commit task never runs here
    run = client.get(f"{BASE}/{body['id']}").json()
    assert (run["status"], run["progress"], run["rows_read"]) == ("queued", 0.0, 0)


def test_dry_run_writes_nothing(merchant, django_capture_on_commit_callbacks):
    client = api_client(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(client, dry_run="true").json()
    run = client.get(f"{BASE}/{body['id']}").json()
    assert (run["status"], run["rows_read"], run["rows_written"]) == ("done", 3, 0)
    with merchant_context(merchant):
        assert not Sale.objects.exists()


def test_an_unreadable_file_fails_the_run(merchant, django_capture_on_commit_callbacks):
    client = api_client(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        body = upload(client, content=b"order_id,amount\n1,2\n").json()
    run = client.get(f"{BASE}/{body['id']}").json()
    assert run["status"] == "failed"
    assert "customer_id" in run["error"]
    assert run["report"][0]["field"] == "file"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "sales"}, "kind"),
        ({"format": "xlsx"}, "format"),
        ({"currency": "USD"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
    ],
)
def test_bad_input_names_the_field(merchant, fields, field):
    response = upload(api_client(merchant), **fields)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    with merchant_context(merchant):
        assert not ImportRun.objects.exists()


def test_an_empty_file_and_a_missing_file(merchant):
    client = api_client(merchant)
    response = upload(client, content=b"")
    assert response.status_code == 422
    assert "file" in response.json()["fields"]
    response = client.post(BASE, {"kind": "orders"})
    assert response.status_code == 422
    assert "file" in response.json()["fields"]


def test_roles_and_tenancy(merchant, other_merchant, django_capture_on_commit_callbacks):
    assert upload(api_client(merchant, Role.SHOPPING_GUIDE)).status_code == 403
    assert upload(api_client(merchant, Role.FINANCE)).status_code == 403
    body = upload(api_client(merchant)).json()
    other = api_client(other_merchant)
    assert other.get(f"{BASE}/{body['id']}").status_code == 404
    assert other.get(f"{BASE}/{body['id']}/report.csv").status_code == 404
    assert other.get(BASE).json()["count"] == 0
