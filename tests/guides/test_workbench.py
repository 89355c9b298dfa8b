"""The workbench: a guide sees only their own customers; tags, notes, chat, materials, tasks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from siyu.catalog.testing import make_product
from siyu.community.models import CommunityGroup, Message
from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.testing import actor_for, login, make_staff
from siyu.customers.models import Customer, CustomerNote, CustomerTag, Segment, Tag, TagGroup
from siyu.customers.testing import make_customer
from siyu.guides import followups, services
from siyu.guides.models import GuideTask, Material, MaterialShare

pytestmark = pytest.mark.django_db


@pytest.fixture
def li(bound):
    return make_staff(bound, Role.SHOPPING_GUIDE, display_name="Li")


@pytest.fixture
def wang(bound):
    return make_staff(bound, Role.SHOPPING_GUIDE, display_name="Wang")


def mine(merchant, guide, *, name="", phone=None, **profile):
    customer = make_customer(merchant, phone, name=name)
    if profile:
        Customer.objects.filter(pk=customer.pk).update(**profile)
    services.bind_to_guide(customer, guide, kind="bound")
    return customer


def test_login_required_redirects_to_console_login(client):
    response = client.get("/guide/")
    assert response.status_code == 302
    assert "next=/guide/" in response["Location"]


def test_home_and_every_page_render(bound, li):
    customer = mine(bound, li, name="Amy")
    client = login(li)
    for url in (
        "/guide/",
        "/guide/customers/",
        f"/guide/customers/{customer.pk}/",
        f"/guide/customers/{customer.pk}/chat/",
        f"/guide/customers/{customer.pk}/chat/?product_q=",
        "/guide/groups/",
        "/guide/materials/",
        "/guide/tasks/",
        "/guide/performance/?period=month",
    ):
        assert client.get(url).status_code == 200, url


def test_a_guide_sees_only_own_customers(bound, li, wang):
    amy = mine(bound, li, name="Amy")
    bob = mine(bound, wang, name="Bob")
    client = login(li)
    page = client.get("/guide/customers/").content.decode()
    assert "Amy" in page
    assert "Bob" not in page
    for url in (
        f"/guide/customers/{bob.pk}/",
        f"/guide/customers/{bob.pk}/chat/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/guide/customers/{bob.pk}/notes/", {"text": "hi"}).status_code == 404
    assert not CustomerNote.objects.filter(customer=bob).exists()
    assert client.get(f"/guide/customers/{amy.pk}/").status_code == 200


def test_search_and_filter_by_tag_and_segment(bound, li):
    amy = mine(bound, li, name="Amy", phone="+8613800001111")
    mine(bound, li, name="Bella", phone="+8613900002222")
    mine(bound, li, name="Cathy", city="Hangzhou", phone="+8613700003333")
    client = login(li)
    assert "Bella" not in client.get("/guide/customers/?q=amy").content.decode()
    by_phone = client.get("/guide/customers/?q=0000222").content.decode()
    assert "Bella" in by_phone
    assert "Amy" not in by_phone
    group = TagGroup.objects.create(name="Taste")
    tag = Tag.objects.create(group=group, name="Oat milk")
    CustomerTag.objects.create(customer=amy, tag=tag, source="manual", added_at=clock.now())
    tagged = client.get(f"/guide/customers/?tag={tag.pk}").content.decode()
    assert "Amy" in tagged
    assert "Bella" not in tagged
    segment = Segment.objects.create(
        name="Hangzhou", rule={"all": [{"field": "city", "op": "in", "value": ["Hangzhou"]}]}
    )
    segmented = client.get(f"/guide/customers/?segment={segment.pk}").content.decode()
    assert "Cathy" in segmented
    assert "Amy" not in segmented


def test_tag_edit_and_notes(bound, li):
    amy = mine(bound, li, name="Amy")
    tag = Tag.objects.create(group=TagGroup.objects.create(name="Taste"), name="Oat milk")
    client = login(li)
    client.post(f"/guide/customers/{amy.pk}/tags/", {"tag": tag.pk})
    assert CustomerTag.objects.filter(customer=amy, tag=tag).exists()
    client.post(f"/guide/customers/{amy.pk}/tags/", {"tag": tag.pk, "action": "remove"})
    assert not CustomerTag.objects.filter(customer=amy, tag=tag).exists()
    client.post(f"/guide/customers/{amy.pk}/notes/", {"text": "Prefers oat milk"})
    assert CustomerNote.objects.get(customer=amy).text == "Prefers oat milk"


def test_chat_message_and_product_card_close_the_new_customer_task(bound, li):
    amy = mine(bound, li, name="Amy")
    followups.generate_tasks(bound)
    task = GuideTask.objects.get(customer=amy, kind="new_customer")
    product = make_product(bound, name="Oat latte", status="on_sale")
    client = login(li)
    assert (
        "Oat latte" in client.get(f"/guide/customers/{amy.pk}/chat/?product_q=oat").content.decode()
    )
    client.post(f"/guide/customers/{amy.pk}/chat/", {"text": "Hello Amy"})
    client.post(f"/guide/customers/{amy.pk}/chat/", {"product": product.pk})
    sent = list(Message.objects.filter(conversation__customer=amy).order_by("id"))
    assert sent[0].text == "Hello Amy"
    assert sent[1].card["type"] == "product"
    assert "via=" in sent[1].card["url"]
    task.refresh_from_db()
    assert task.status == "done"


def test_groups_only_own(bound, li, wang):
    own = CommunityGroup.objects.create(name="Li's fans", owner=li)
    other = CommunityGroup.objects.create(name="Wang's fans", owner=wang)
    client = login(li)
    page = client.get("/guide/groups/").content.decode()
    assert "Li&#x27;s fans" in page or "Li's fans" in page
    assert "Wang" not in page
    assert client.get(f"/guide/groups/{own.pk}/").status_code == 200
    assert client.get(f"/guide/groups/{other.pk}/").status_code == 404


def test_mark_material_shared_counts_once_a_day(bound, li):
    material = Material.objects.create(title="Spring", text="New spring menu!")
    client = login(li)
    client.post(f"/guide/materials/{material.pk}/shared/")
    client.post(f"/guide/materials/{material.pk}/shared/")
    material.refresh_from_db()
    assert material.share_count == 1
    assert MaterialShare.objects.filter(material=material, guide=li).count() == 1
    hidden = Material.objects.create(title="Draft", text="x", is_active=False)
    assert client.post(f"/guide/materials/{hidden.pk}/shared/").status_code == 404


def test_task_done_and_skip_only_own(bound, li, wang):
    amy = mine(bound, li, name="Amy")
    bob = mine(bound, wang, name="Bob")
    today = clock.now().date()
    first = GuideTask.objects.create(
        guide=li, customer=amy, kind="dormant", due_on=today, created_at=clock.now()
    )
    second = GuideTask.objects.create(
        guide=li,
        customer=amy,
        kind="birthday",
        due_on=today - timedelta(days=1),
        created_at=clock.now(),
    )
    theirs = GuideTask.objects.create(
        guide=wang, customer=bob, kind="dormant", due_on=today, created_at=clock.now()
    )
    client = login(li)
    client.post(f"/guide/tasks/{first.pk}/finish/", {"status": "done", "note": "called"})
    client.post(f"/guide/tasks/{second.pk}/finish/", {"status": "skipped"})
    assert client.post(f"/guide/tasks/{theirs.pk}/finish/", {"status": "done"}).status_code == 404
    first.refresh_from_db()
    second.refresh_from_db()
    theirs.refresh_from_db()
    assert (first.status, first.note) == ("done", "called")
    assert second.status == "skipped"
    assert theirs.status == "open"


def test_an_operator_sees_the_workbench_as_a_guide(bound, li):
    mine(bound, li, name="Amy")
    operator = make_staff(bound, Role.OPERATOR)
    page = login(operator).get("/guide/customers/").content.decode()
    assert "Amy" not in page
    assert actor_for(bound, Role.OPERATOR).can("workbench.use")
