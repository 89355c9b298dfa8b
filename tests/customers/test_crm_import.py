"""CSV import of customers: validation report, idempotent re-import, progress, the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from siyu.core.actors import Actor
from siyu.core.errors import Forbidden, InvalidInput
from siyu.core.models import Merchant
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import actor_for, make_staff, staff_client
from siyu.customers import consent, imports
from siyu.customers.models import (
    Customer,
    CustomerIdentity,
    CustomerImport,
    CustomerTag,
    Tag,
    TimelineEntry,
)
from siyu.stores.testing import make_store

GOOD = """Phone,Name,Gender,Birthday,City,Store,Guide,Tags,External_ID,WeChat_OpenID,Consent_Marketing,Shoe size
138 0013 8000,王小明,男,1990-05-17,上海,SH01,ann,Taste:Oat milk;VIP,M-001,oA1,yes,42
13900139000,李娜,female,,杭州,,,VIP|新客,,,no,
"""

BAD = """phone,name,gender,birthday,store,guide,tags,consent_marketing
12345,Bad phone,,,,,,
13700137000,Bad date,,17/05/1990,,,,
13700137001,Bad store,,,XX99,,,
13700137002,Bad guide,,,,nobody,,
13700137003,Bad gender,robot,,,,,maybe
13700137004,Fine,,,,,,
"""


def _run(actor: Actor, text: str, name: str = "members.csv", **kw: Any) -> CustomerImport:
    job = imports.start_import(actor, file_name=name, content=text.encode("utf-8"))
    imports.process(job.pk)
    return CustomerImport.unscoped.get(pk=job.pk)


@pytest.fixture(autouse=True)
def _english_installation(settings: Any) -> None:
    """The worker reports in the installation's language: English for these assertions."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def setup(merchant: Merchant, owner: Actor) -> dict[str, Any]:
    store = make_store(merchant, code="SH01")
    ann = make_staff(merchant, Role.SHOPPING_GUIDE, username="ann")
    return {"store": store, "ann": ann}


def _counts(job: CustomerImport) -> tuple[int, int, int, int]:
    return job.created_count, job.updated_count, job.unchanged_count, job.error_count


def test_import_creates_customers_with_everything(
    merchant: Merchant, owner: Actor, setup: dict[str, Any]
) -> None:
    job = _run(owner, GOOD)
    assert job.status == "done"
    assert (job.total_rows, job.processed_rows) == (2, 2)
    assert _counts(job) == (2, 0, 0, 0)
    assert job.errors == [{"row": 1, "field": "Shoe size", "reason": "Unknown column: ignored."}]
    with merchant_context(merchant):
        wang = Customer.objects.get(phone="+8613800138000")
        li = Customer.objects.get(phone="+8613900139000")
        assert (wang.name, wang.gender, wang.birth_month, wang.city) == (
            "王小明",
            "male",
            5,
            "上海",
        )
        assert wang.home_store_id == setup["store"].pk
        assert wang.owner_guide_id == setup["ann"].pk
        assert wang.join_channel == "import"
        assert sorted(
            CustomerIdentity.objects.filter(customer=wang).values_list("kind", "value")
        ) == [
            ("external", "M-001"),
            ("wechat_openid", "oA1"),
        ]
        tags = {
            (link.tag.group.name, link.tag.name)
            for link in CustomerTag.objects.filter(customer=li).select_related("tag__group")
        }
        with translation.override(settings.LANGUAGE_CODE):  # the installation's language
            imported = translation.gettext("Imported")
        assert tags == {(imported, "VIP"), (imported, "新客")}
        assert Tag.objects.get(name="VIP").customer_count == 2
        assert Tag.objects.get(name="Oat milk").group.name == "Taste"
        assert consent.refuses(li, "inbox")
        assert consent.refuses(li, "sms")
        assert not consent.refuses(wang, "inbox")
    assert TimelineEntry.unscoped.filter(customer=wang, kind="imported").count() == 1


def test_reimport_is_idempotent_and_only_differences_count(
    merchant: Merchant, owner: Actor, setup: dict[str, Any]
) -> None:
    _run(owner, GOOD)
    counts = (
        Customer.unscoped.count(),
        CustomerIdentity.unscoped.count(),
        CustomerTag.unscoped.count(),
        TimelineEntry.unscoped.count(),
    )
    again = _run(owner, GOOD)
    assert _counts(again) == (0, 0, 2, 0)
    assert (
        Customer.unscoped.count(),
        CustomerIdentity.unscoped.count(),
        CustomerTag.unscoped.count(),
        TimelineEntry.unscoped.count(),
    ) == counts
    # an overlapping file: one changed city, one new customer, one matched by external id only
    overlap = _run(
        owner,
        "phone,city,external_id\n13800138000,北京,\n13600136000,,\n13800138000,,M-001\n",
    )
    assert _counts(overlap) == (1, 1, 1, 0)
    with merchant_context(merchant):
        assert Customer.objects.get(phone="+8613800138000").city == "北京"


def test_bad_rows_are_reported_and_skipped(merchant: Merchant, owner: Actor, setup: Any) -> None:
    job = _run(owner, BAD)
    assert _counts(job) == (1, 0, 0, 5)
    report = {(e["row"], e["field"]) for e in job.errors}
    assert report == {
        (2, "phone"),
        (3, "birthday"),
        (4, "store"),
        (5, "guide"),
        (6, "gender"),
        (6, "consent_marketing"),
    }
    reasons = {(e["row"], e["field"]): e["reason"] for e in job.errors}
    assert "not a valid phone number" in reasons[(2, "phone")]
    assert "YYYY-MM-DD" in reasons[(3, "birthday")]
    assert "XX99" in reasons[(4, "store")]
    assert "nobody" in reasons[(5, "guide")]
    with merchant_context(merchant):
        assert list(Customer.objects.values_list("name", flat=True)) == ["Fine"]


def test_identity_of_another_customer_is_reported_not_moved(
    merchant: Merchant, owner: Actor, setup: Any
) -> None:
    _run(owner, GOOD)
    job = _run(owner, "phone,wechat_openid\n13500135000,oA1\n")
    assert _counts(job) == (0, 0, 0, 1)
    assert job.errors[0]["field"] == "wechat_openid"
    with merchant_context(merchant):
        assert not Customer.objects.filter(phone="+8613500135000").exists()


def test_progress_is_saved_per_batch(
    merchant: Merchant, owner: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)
    seen: list[int] = []
    real = imports._run_batch

    def spy(job: CustomerImport, *args: Any) -> None:
        real(job, *args)
        seen.append(CustomerImport.unscoped.get(pk=job.pk).processed_rows)

    monkeypatch.setattr(imports, "_run_batch", spy)
    rows = "".join(f"1390000{n:04d}\n" for n in range(5))
    job = _run(owner, "phone\n" + rows)
    assert seen == [2, 4, 5]
    assert job.processed_rows == 5
    assert imports.percent_done(job) == 100


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"name,city\nAnn,Shanghai\n", "phone column"),
        (b"phone\n", "no customers"),
    ],
)
def test_unusable_files_are_refused(owner: Actor, content: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        imports.start_import(owner, file_name="x.csv", content=content)
    assert reason in caught.value.fields["file"]
    assert not CustomerImport.unscoped.exists()


def test_gbk_file_from_excel_is_read(merchant: Merchant, owner: Actor) -> None:
    raw = "手机号,姓名\n13900139000,李娜\n".encode("gb18030")
    job = imports.start_import(owner, file_name="gbk.csv", content=raw)
    imports.process(job.pk)
    with merchant_context(merchant):
        assert Customer.objects.get(phone="+8613900139000").name == "李娜"


def test_upload_page_and_progress_partial(
    merchant: Merchant, django_capture_on_commit_callbacks: Any
) -> None:
    client = staff_client(merchant)
    upload = SimpleUploadedFile("members.csv", b"phone,name\n13800138000,Ann\n", "text/csv")
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued after commit
        response = client.post("/console/customers/imports/", {"file": upload})
    assert response.status_code == 302
    job = CustomerImport.unscoped.get()
    assert response["Location"] == f"/console/customers/imports/{job.pk}/"
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert "Every row was imported." in body
    assert 'hx-trigger="every 1s"' not in body  # finished: no more polling
    CustomerImport.unscoped.filter(pk=job.pk).update(status="running", processed_rows=0)
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in partial
    assert "<html" not in partial
    bad = client.post(
        "/console/customers/imports/",
        {"file": SimpleUploadedFile("x.csv", b"name\nAnn\n", "text/csv")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 422
    assert "phone column" in bad.content.decode()


def test_import_needs_segments_manage(merchant: Merchant) -> None:
    client = staff_client(merchant, Role.STORE_MANAGER)
    assert client.get("/console/customers/imports/").status_code == 403
    with pytest.raises(Forbidden):
        imports.start_import(
            actor_for(merchant, Role.SHOPPING_GUIDE), file_name="x.csv", content=b"phone\n1\n"
        )
