"""Console pages of targeted messages: list, form (field errors write nothing, schedule, the
live audience count), detail (funnel, log, CSV), actions, the policy page and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from siyu.catalog.testing import make_product
from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.tenancy import merchant_context
from siyu.core.testing import login, make_staff
from siyu.customers.testing import make_tag
from siyu.marketing import engine
from siyu.marketing.models import Broadcast, Delivery, MessagingPolicy
from siyu.marketing.testing import make_broadcast, make_customers, make_group_with, refuse

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 3, 11, 12, 0, tzinfo=SHANGHAI)


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def at_noon(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("siyu.core.clock.now", lambda: NOON.astimezone(ZoneInfo("UTC")))
    return NOON


@pytest.fixture
def operator(merchant):
    return make_staff(merchant, Role.OPERATOR)


@pytest.fixture
def client(operator):
    c = login(operator)
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


@pytest.fixture
def members(merchant) -> list[int]:
    return make_customers(merchant, 6)


@pytest.fixture
def group(merchant, members):
    return make_group_with(merchant, members, name="Jing'an fans")


@pytest.fixture
def sent(merchant, group, members, at_noon) -> Broadcast:
    """A 1:1 message to the group's members, sent: one refused marketing (skipped)."""
    refuse(merchant, members[:1])
    row = make_broadcast(merchant, name="Autumn latte", audience="groups", group_ids=[group.pk])
    return engine.send_broadcast(row)


def form_data(**changes) -> dict:
    data = {
        "name": "Spring menu",
        "text": "Cherry blossom latte is back",
        "audience": "tag",
        "group_scope": "pick",
        "delivery": "inbox",
        "is_marketing": "on",
        "when": "draft",
    }
    data.update(changes)
    return data


def test_pages_render_for_an_operator(client, sent, merchant):
    for url in (
        reverse("marketing:broadcast_list"),
        reverse("marketing:broadcast_new"),
        reverse("marketing:broadcast_detail", args=[sent.pk]),
        reverse("marketing:policy"),
    ):
        assert client.get(url).status_code == 200, url
    listing = html(client.get(reverse("marketing:broadcast_list")))
    assert "Autumn latte" in listing
    assert "1 group" in listing
    detail = html(client.get(reverse("marketing:broadcast_detail", args=[sent.pk])))
    assert "Cherry" not in detail
    assert "New autumn latte, 20% off today" in detail  # the content preview
    assert "Refused marketing messages" in detail  # skipped by reason and in the log
    assert "Funnel" in detail


def test_the_list_filters_by_status(client, merchant, sent):
    make_broadcast(merchant, name="Winter draft", audience="tag", tag_id=make_tag(merchant).pk)
    page = html(client.get(reverse("marketing:broadcast_list"), {"status": "draft"}))
    assert "Winter draft" in page
    assert "Autumn latte" not in page


def test_a_guide_cannot_open_the_pages(merchant, sent):
    guide = login(make_staff(merchant, Role.SHOPPING_GUIDE))
    for url in (
        reverse("marketing:broadcast_list"),
        reverse("marketing:broadcast_new"),
        reverse("marketing:broadcast_detail", args=[sent.pk]),
        reverse("marketing:delivery_export", args=[sent.pk]),
        reverse("marketing:policy"),
        reverse("marketing:audience_count"),
    ):
        assert guide.get(url).status_code == 403, url


def test_another_merchants_message_is_a_404(client, other_merchant):
    row = make_broadcast(
        other_merchant, audience="tag", tag_id=make_tag(other_merchant).pk, name="Theirs"
    )
    assert client.get(reverse("marketing:broadcast_detail", args=[row.pk])).status_code == 404


def test_invalid_input_shows_field_errors_and_writes_nothing(client, merchant):
    response = client.post(reverse("marketing:broadcast_new"), form_data(name="", text=""))
    assert response.status_code == 422
    page = html(response)
    assert "This field is required." in page  # the name
    assert "Choose a tag." in page
    # the service's own checks: a tag audience cannot be posted in groups
    tag = make_tag(merchant)
    response = client.post(
        reverse("marketing:broadcast_new"),
        form_data(tag=tag.pk, delivery="group_post", text=""),
    )
    assert response.status_code == 422
    page = html(response)
    assert "Only messages to groups can be posted in the groups." in page
    assert "Write a text or add a card." in page
    with merchant_context(merchant):
        assert not Broadcast.objects.exists()


def test_a_time_in_the_past_is_refused(client, merchant):
    tag = make_tag(merchant)
    past = (clock.now() - timedelta(hours=1)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("marketing:broadcast_new"), form_data(tag=tag.pk, when="later", scheduled_at=past)
    )
    assert response.status_code == 422
    assert "Choose a time in the future." in html(response)
    response = client.post(reverse("marketing:broadcast_new"), form_data(tag=tag.pk, when="later"))
    assert "Give a date and time." in html(response)
    with merchant_context(merchant):
        assert not Broadcast.objects.exists()


def test_schedule_through_the_form_in_the_merchant_time_zone(client, merchant, operator):
    tag = make_tag(merchant)
    product = make_product(merchant, name="Oat latte", status="on_sale")
    at = (clock.now() + timedelta(days=1)).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    response = client.post(
        reverse("marketing:broadcast_new"),
        form_data(
            tag=tag.pk, product=product.pk, when="later", scheduled_at=at.strftime("%Y-%m-%dT%H:%M")
        ),
    )
    assert response.status_code == 302
    with merchant_context(merchant):
        row = Broadcast.objects.get()
    assert response["Location"] == reverse("marketing:broadcast_detail", args=[row.pk])
    assert row.status == Broadcast.Status.SCHEDULED
    assert row.scheduled_at == at
    assert row.tag_id == tag.pk
    assert row.cards == [{"type": "product", "id": product.pk}]
    assert row.created_by
    detail = html(client.get(response["Location"]))
    assert "Oat latte" in detail  # the card as the customer sees it
    # edit: back to a draft
    edit = reverse("marketing:broadcast_edit", args=[row.pk])
    assert "Oat latte" in html(client.get(edit))
    client.post(edit, form_data(tag=tag.pk, name="Spring menu 2", when="draft"))
    row.refresh_from_db()
    assert (row.name, row.status, row.scheduled_at) == ("Spring menu 2", "draft", None)


def test_all_groups_of_a_store(client, merchant, members):
    from siyu.stores.testing import make_store

    store = make_store(merchant)
    first = make_group_with(merchant, members[:3], store=store)
    second = make_group_with(merchant, members[2:5], store=store)
    make_group_with(merchant, members[5:], name="elsewhere")
    data = form_data(
        audience="groups", group_scope="store", group_store=store.pk, delivery="group_post"
    )
    count = client.get(reverse("marketing:audience_count"), data)
    assert 'data-count="5"' in html(count)
    assert client.post(reverse("marketing:broadcast_new"), data).status_code == 302
    with merchant_context(merchant):
        row = Broadcast.objects.get()
    assert sorted(row.group_ids) == sorted([first.pk, second.pk])
    assert row.delivery == "group_post"


def test_the_audience_count(client, merchant, group, members):
    url = reverse("marketing:audience_count")
    page = html(client.get(url, {"audience": "groups", "groups": [group.pk]}))
    assert 'data-count="6"' in page
    assert "6 active members reached" in page
    tag = make_tag(merchant)
    assert 'data-count="0"' in html(client.get(url, {"audience": "tag", "tag": tag.pk}))
    page = html(client.get(url, {"audience": "tag"}))
    assert "data-count" not in page
    assert "Choose the audience" in page


def test_send_now_through_the_form(client, merchant, group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("marketing:broadcast_new"),
            form_data(audience="groups", groups=[group.pk], when="now", is_marketing=""),
        )
    assert response.status_code == 302
    with merchant_context(merchant):
        row = Broadcast.objects.get()
    assert row.is_marketing is False
    assert row.status in (Broadcast.Status.SCHEDULED, Broadcast.Status.SENT)
    progress = client.get(
        reverse("marketing:broadcast_progress", args=[row.pk]), HTTP_HX_REQUEST="true"
    )
    assert progress.status_code == 200


def test_progress_polls_while_sending_and_refreshes_after(client, merchant, sent):
    url = reverse("marketing:broadcast_progress", args=[sent.pk])
    Broadcast.unscoped.filter(pk=sent.pk).update(status="sending", progress=3)
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in html(page)
    assert "3 of 6 customers (50%)" in html(page)
    assert "HX-Refresh" not in page
    Broadcast.unscoped.filter(pk=sent.pk).update(status="sent")
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert page["HX-Refresh"] == "true"
    assert "every 1s" not in html(page)


def test_delivery_log_filters_and_csv(client, merchant, sent, members):
    detail = reverse("marketing:broadcast_detail", args=[sent.pk])
    page = html(client.get(detail, {"status": "skipped"}))
    assert page.count('class="badge">Refused marketing messages') == 1
    response = client.get(reverse("marketing:delivery_export", args=[sent.pk]))
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0][:5] == ["customer id", "phone", "name", "status", "skip reason"]
    assert len(rows) == 1 + len(members)
    by_id = {int(r[0]): r for r in rows[1:]}
    assert by_id[members[0]][3:5] == ["Skipped", "Refused marketing messages"]
    assert by_id[members[1]][3] == "Sent"
    assert by_id[members[1]][1].startswith("+86")  # an operator manages customers: in full
    skipped = client.get(reverse("marketing:delivery_export", args=[sent.pk]), {"status": "sent"})
    assert len(b"".join(skipped.streaming_content).decode().splitlines()) == 1 + 5


def test_cancel_and_send_buttons(client, merchant):
    tag = make_tag(merchant)
    row = make_broadcast(
        merchant, audience="tag", tag_id=tag.pk, scheduled_at=clock.now() + timedelta(days=1)
    )
    detail = html(client.get(reverse("marketing:broadcast_detail", args=[row.pk])))
    assert reverse("marketing:broadcast_cancel", args=[row.pk]) in detail
    assert reverse("marketing:broadcast_send", args=[row.pk]) in detail
    client.post(reverse("marketing:broadcast_cancel", args=[row.pk]))
    row.refresh_from_db()
    assert row.status == Broadcast.Status.CANCELLED
    response = client.post(reverse("marketing:broadcast_send", args=[row.pk]), follow=True)
    assert "This message has already been sent." in html(response)
    assert client.get(reverse("marketing:broadcast_cancel", args=[row.pk])).status_code == 405


def test_a_viewer_sees_no_buttons(merchant, sent):
    viewer = login(make_staff(merchant, Role.STORE_MANAGER))
    viewer.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = viewer.get(reverse("marketing:broadcast_list"))
    assert response.status_code == 200  # store managers may read the messages (marketing.view)
    assert reverse("marketing:broadcast_new") not in html(response)
    assert viewer.get(reverse("marketing:broadcast_new")).status_code == 403
    assert viewer.post(reverse("marketing:policy"), {"cap_count": 5}).status_code == 403


def test_policy_update_and_its_errors(client, merchant):
    url = reverse("marketing:policy")
    response = client.post(
        url, {"cap_count": 2, "cap_period": "week", "quiet_start": "21:30", "quiet_end": ""}
    )
    assert response.status_code == 422
    assert "Give both the start and the end of the quiet hours, or neither." in html(response)
    response = client.post(url, {"cap_count": 0, "cap_period": "week"})
    assert response.status_code == 422
    assert not MessagingPolicy.unscoped.filter(merchant=merchant, cap_count=0).exists()
    response = client.post(
        url, {"cap_count": 2, "cap_period": "week", "quiet_start": "21:30", "quiet_end": "08:30"}
    )
    assert response.status_code == 302
    row = MessagingPolicy.unscoped.get(merchant=merchant)
    assert (row.cap_count, row.cap_period) == (2, "week")
    assert (row.quiet_start, row.quiet_end) == (time(21, 30), time(8, 30))
    page = html(client.get(url))
    assert 'value="21:30"' in page


def test_the_form_warns_inside_quiet_hours(client, merchant, monkeypatch):
    MessagingPolicy.unscoped.update_or_create(
        merchant=merchant, defaults={"quiet_start": time(21, 0), "quiet_end": time(9, 0)}
    )
    late = datetime(2026, 3, 11, 23, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr("siyu.core.clock.now", lambda: late.astimezone(ZoneInfo("UTC")))
    page = html(client.get(reverse("marketing:broadcast_new")))
    assert "It is now within the quiet hours (21:00–09:00)" in page
    monkeypatch.setattr("siyu.core.clock.now", lambda: NOON.astimezone(ZoneInfo("UTC")))
    assert "within the quiet hours" not in html(client.get(reverse("marketing:broadcast_new")))


def test_deliveries_are_listed_with_pages(client, merchant, sent):
    assert Delivery.unscoped.filter(broadcast=sent).count() == 6
    page = html(client.get(reverse("marketing:broadcast_detail", args=[sent.pk])))
    assert page.count("<tr>") >= 6
