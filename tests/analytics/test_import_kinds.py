"""Importing customers, group memberships and referrals: columns, matching, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from siyu.analytics.importer.testing import csv_bytes, jsonl_bytes, run_bytes
from siyu.analytics.models import ActiveDay, GroupSpan, ReferralLink
from siyu.core.tenancy import merchant_context
from siyu.customers.models import Customer, CustomerIdentity
from siyu.customers.testing import make_customer
from siyu.stores.testing import make_store

pytestmark = pytest.mark.django_db


def customers_by_external(merchant):
    with merchant_context(merchant):
        return {
            i.value: i.customer
            for i in CustomerIdentity.objects.filter(kind="external").select_related("customer")
        }


def test_customers_with_every_column_in_chinese(merchant):
    store = make_store(merchant, code="BJ02")
    content = csv_bytes(
        ["会员号", "手机号", "姓名", "注册时间", "注册渠道", "归属门店", "性别", "城市"],
        [
            ["V1", "13812345678", "王芳", "2023-05-01 10:00:00", "门店海报", "bj02", "女", "北京"],
            ["V2", "", "李雷", "", "", "", "", ""],
            ["V3", "12345", "", "", "", "", "", ""],  # bad phone
            ["V4", "", "", "", "", "", "妖", ""],  # bad gender
        ],
    )
    out = run_bytes(merchant, "customers", content)
    assert [(r["row"], r["field"]) for r in out.report] == [(4, "phone"), (5, "gender")]
    assert (out.rows_written, out.customers_created) == (2, 2)
    found = customers_by_external(merchant)
    wang = found["V1"]
    assert (wang.phone, wang.name, wang.join_channel, wang.gender, wang.city) == (
        "+8613812345678",
        "王芳",
        "门店海报",
        "female",
        "北京",
    )
    assert wang.home_store_id == store.pk
    assert wang.created_at == datetime(2023, 5, 1, 2, 0, tzinfo=UTC)
    assert (found["V2"].phone, found["V2"].join_channel) == ("", "import")


def test_customers_are_matched_by_phone_then_updated_not_duplicated(merchant):
    existing = make_customer(merchant, "+8613900000001", name="", join_channel="storefront")
    header = ["external_id", "phone", "name", "city"]
    rows = [["E1", "139 0000 0001", "周", "上海"], ["E2", "", "吴", ""]]
    first = run_bytes(merchant, "customers", csv_bytes(header, rows))
    assert first.customers_created == 1
    found = customers_by_external(merchant)
    assert found["E1"].pk == existing.pk
    assert (found["E1"].name, found["E1"].city, found["E1"].join_channel) == (
        "周",
        "上海",
        "storefront",
    )
    again = run_bytes(merchant, "customers", csv_bytes(header, rows))
    assert (again.rows_written, again.customers_created) == (0, 0)
    rows[1] = ["E2", "13900000002", "吴刚", "杭州"]
    corrected = run_bytes(merchant, "customers", csv_bytes(header, rows))
    assert corrected.rows_written == 1
    wu = customers_by_external(merchant)["E2"]
    assert (wu.name, wu.city, wu.phone) == ("吴刚", "杭州", "+8613900000002")
    with merchant_context(merchant):
        assert Customer.objects.count() == 2


def test_two_external_ids_with_one_phone_are_one_customer(merchant):
    content = csv_bytes(["external_id", "phone"], [["A", "13700000001"], ["B", "13700000001"]])
    out = run_bytes(merchant, "customers", content)
    assert out.customers_created == 1
    found = customers_by_external(merchant)
    assert found["A"].pk == found["B"].pk


def test_memberships_of_siyu_and_old_groups(merchant):
    from siyu.community.testing import make_group
    from siyu.core.testing import actor_for

    group = make_group(actor_for(merchant))
    header = ["customer_id", "group", "joined_at", "left_at", "channel"]
    rows = [
        ["C1", str(group.pk), "2025-01-05 20:00:00", "", "poster"],
        ["C1", "old-群-7", "2025-01-06 20:00:00", "2025-02-01 08:00:00", ""],
        ["C2", "old-群-7", "2025-01-07 20:00:00", "2025-01-01 08:00:00", ""],  # leaves first
        ["C2", "", "2025-01-07", "", ""],  # no group
    ]
    out = run_bytes(merchant, "memberships", csv_bytes(header, rows))
    assert [(r["row"], r["field"]) for r in out.report] == [(4, "left_at"), (5, "group")]
    assert out.rows_written == 2
    with merchant_context(merchant):
        spans = {s.group_key: s for s in GroupSpan.objects.all()}
        joined = set(ActiveDay.objects.values_list("kinds", flat=True))
    assert spans[str(group.pk)].group_id == group.pk
    assert spans[str(group.pk)].channel == "poster"
    assert spans["old-群-7"].group_id is None
    assert spans["old-群-7"].left_at == datetime(2025, 2, 1, 0, 0, tzinfo=UTC)
    assert joined == {ActiveDay.JOINED}
    again = run_bytes(merchant, "memberships", csv_bytes(header, rows))
    assert again.rows_written == 0
    rows[1][3] = "2025-03-01 08:00:00"
    corrected = run_bytes(merchant, "memberships", csv_bytes(header, rows))
    assert corrected.rows_written == 1
    with merchant_context(merchant):
        assert GroupSpan.objects.count() == 2
        assert GroupSpan.objects.get(group_key="old-群-7").left_at == datetime(
            2025, 3, 1, 0, 0, tzinfo=UTC
        )


def test_referrals_jsonl_and_a_siyu_link_is_kept(merchant):
    content = jsonl_bytes(
        [
            {
                "inviter_id": "P1",
                "invitee_id": "P2",
                "invited_at": "2025-01-01 10:00:00",
                "kind": "referral",
            },
            {"邀请人": "P1", "被邀请人": "P3", "邀请时间": "2025-01-02 10:00:00"},
            {"inviter_id": "P4", "invitee_id": "P4", "invited_at": "2025-01-02 10:00:00"},
        ]
    )
    out = run_bytes(merchant, "referrals", content, name="r.jsonl")
    assert [(r["row"], r["field"]) for r in out.report] == [(3, "invitee_id")]
    assert (out.rows_written, out.customers_created) == (2, 3)
    found = customers_by_external(merchant)
    with merchant_context(merchant):
        links = {link.invitee_id: link for link in ReferralLink.objects.all()}
    assert links[found["P2"].pk].inviter_id == found["P1"].pk
    assert links[found["P3"].pk].kind == "import"
    assert run_bytes(merchant, "referrals", content, name="r.jsonl").rows_written == 0
    # a link Siyu recorded itself is not overwritten by an import
    with merchant_context(merchant):
        ReferralLink.objects.filter(invitee_id=found["P2"].pk).update(source="siyu", kind="bargain")
    changed = jsonl_bytes(
        [{"inviter_id": "P3", "invitee_id": "P2", "invited_at": "2025-01-05 10:00:00"}]
    )
    assert run_bytes(merchant, "referrals", changed, name="r.jsonl").rows_written == 0
    with merchant_context(merchant):
        assert ReferralLink.objects.get(invitee_id=found["P2"].pk).kind == "bargain"
