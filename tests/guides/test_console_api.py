"""Console pages (operators only), the API (4xx naming fields), performance numbers."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.testing import api_client, login, make_staff, staff_client
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.guides import selectors, services
from siyu.guides.models import GuideTask, Material, MaterialShare, Transfer
from siyu.orders.testing import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def li(bound):
    return make_staff(bound, Role.SHOPPING_GUIDE, display_name="Li")


@pytest.fixture
def wang(bound):
    return make_staff(bound, Role.SHOPPING_GUIDE, display_name="Wang")


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 80, 20)).save(out, "PNG")
    return out.getvalue()


def test_console_pages_render_for_operators_and_not_for_guides(bound, li, wang):
    customer = make_customer(bound, name="Amy")
    services.bind_to_guide(customer, li, kind="bound")
    material = Material.objects.create(title="Spring", text="Hello")
    MaterialShare.objects.create(
        material=material, guide=li, shared_on=clock.now().date(), shared_at=clock.now()
    )
    operator = staff_client(bound, Role.OPERATOR)
    transfer = services.transfer_customers(
        services_actor(bound), from_guide=li, to_guide=wang, kind="in_service", reason="rota"
    )
    urls = [
        "/console/guides/",
        f"/console/guides/{li.pk}/",
        "/console/guides/materials/",
        "/console/guides/materials/new/",
        f"/console/guides/materials/{material.pk}/",
        "/console/guides/transfers/",
        "/console/guides/transfers/new/",
        f"/console/guides/transfers/{transfer.pk}/",
        "/console/guides/settings/",
    ]
    for url in urls:
        assert operator.get(url).status_code == 200, url
    listing = operator.get("/console/guides/").content.decode()
    assert "Li" in listing
    assert "Wang" in listing
    assert "Li" in operator.get(f"/console/guides/materials/{material.pk}/").content.decode()
    guide = login(li)
    for url in urls:
        assert guide.get(url).status_code == 403, url


def services_actor(merchant):
    from siyu.core.testing import actor_for

    return actor_for(merchant, Role.OPERATOR)


def test_material_created_with_images_and_bad_image_refused(bound):
    operator = staff_client(bound, Role.OPERATOR)
    upload = io.BytesIO(png())
    upload.name = "a.png"
    response = operator.post(
        "/console/guides/materials/new/",
        {"title": "Spring menu", "text": "Try it", "is_active": "on", "images": [upload]},
    )
    assert response.status_code == 302
    material = Material.objects.get(title="Spring menu")
    assert material.images.count() == 1
    fake = io.BytesIO(b"not an image at all")
    fake.name = "b.png"
    refused = operator.post(
        "/console/guides/materials/new/", {"title": "Bad", "text": "x", "images": [fake]}
    )
    assert refused.status_code == 200
    assert not Material.objects.filter(title="Bad").exists()


def test_transfer_form_shows_refusals(bound, li, wang):
    customer = make_customer(bound, name="Amy")
    services.bind_to_guide(customer, li, kind="bound")
    operator = staff_client(bound, Role.OPERATOR)
    response = operator.post(
        "/console/guides/transfers/new/",
        {
            "from_guide": li.pk,
            "to_guide": wang.pk,
            "kind": "in_service",
            "reason": "",
            "include_groups": "on",
        },
    )
    assert response.status_code == 200
    assert not Transfer.objects.exists()
    response = operator.post(
        "/console/guides/transfers/new/",
        {"from_guide": li.pk, "to_guide": wang.pk, "kind": "in_service", "reason": "rota"},
    )
    transfer = Transfer.objects.get()
    assert response["Location"] == f"/console/guides/transfers/{transfer.pk}/"
    assert Customer.objects.get(pk=customer.pk).owner_guide_id == wang.pk


def test_settings_page_saves_and_refuses_out_of_range(bound):
    operator = staff_client(bound, Role.OPERATOR)
    values = {
        "attribution_window_days": 3,
        "transfer_limit": 0,
        "transfer_window_days": 90,
        "dormant_days": 30,
    }
    assert operator.post("/console/guides/settings/", values).status_code == 200
    assert services.guide_settings(bound).transfer_limit == 2
    values["transfer_limit"] = 4
    assert operator.post("/console/guides/settings/", values).status_code == 302
    assert services.guide_settings(bound).transfer_limit == 4
    assert services.attribution_window(bound).days == 3


def test_api_transfer_4xx_names_fields(bound, li, wang):
    client = api_client(bound, Role.OPERATOR)

    def post(body):
        return client.post(
            "/api/v1/guides/transfers", json.dumps(body), content_type="application/json"
        )

    bad = post({"from_guide": li.pk, "to_guide": wang.pk, "kind": "holiday", "reason": "x"})
    assert bad.status_code == 422
    assert "kind" in bad.json()["fields"]
    empty = post({"from_guide": li.pk, "to_guide": wang.pk, "kind": "in_service", "reason": "x"})
    assert empty.status_code == 422
    assert "from_guide" in empty.json()["fields"]
    missing = post({"from_guide": li.pk, "to_guide": 999999, "kind": "in_service", "reason": "x"})
    assert missing.status_code == 404
    customer = make_customer(bound)
    services.bind_to_guide(customer, li, kind="bound")
    ok = post({"from_guide": li.pk, "to_guide": wang.pk, "kind": "departure", "reason": "left"})
    assert ok.status_code == 201
    assert ok.json()["customers_moved"] == 1
    assert client.get(f"/api/v1/guides/transfers/{ok.json()['id']}").status_code == 200
    assert client.get("/api/v1/guides/transfers").json()["count"] == 1
    settings = client.put(
        "/api/v1/guides/settings",
        json.dumps(
            {
                "attribution_window_days": 0,
                "transfer_limit": 2,
                "transfer_window_days": 90,
                "dormant_days": 30,
            }
        ),
        content_type="application/json",
    )
    assert settings.status_code == 422
    assert "attribution_window_days" in settings.json()["fields"]


def test_api_workbench_needs_a_staff_member(bound, li):
    assert api_client(bound, Role.OWNER).get("/api/v1/guides/me/customers").status_code == 403


def test_performance_counts_attributed_orders_and_tasks(bound, li, wang):
    amy = make_customer(bound, name="Amy")
    services.bind_to_guide(amy, li, kind="bound")
    paid = make_order(bound, customer=amy, status="paid")
    Order = type(paid)
    Order.objects.filter(pk=paid.pk).update(guide_id=li.pk, total=10000, refunded_total=2500)
    other = make_order(bound, customer=amy, status="paid")
    Order.objects.filter(pk=other.pk).update(guide_id=wang.pk)
    unpaid = make_order(bound, customer=amy)
    Order.objects.filter(pk=unpaid.pk).update(guide_id=li.pk)
    today = selectors.today_for(bound)
    GuideTask.objects.create(
        guide=li, customer=amy, kind="dormant", due_on=today, status="done", created_at=clock.now()
    )
    GuideTask.objects.create(
        guide=li,
        customer=amy,
        kind="birthday",
        due_on=today,
        status="skipped",
        created_at=clock.now(),
    )
    numbers = selectors.performance(li, "7d")
    assert numbers.customers_added == 1
    assert numbers.customers_owned == 1
    assert numbers.active_customers == 1
    assert numbers.attributed_orders == 1
    assert numbers.attributed_sales == 7500
    assert numbers.completion_rate == 0.5
    row = next(r for r in selectors.guides(bound) if r.guide.pk == li.pk)
    assert row.customers == 1
    assert row.sales_30d == 7500
    body = login(li).get("/api/v1/guides/me/performance?period=30d")
    assert body.status_code == 200
    assert body.json()["attributed_sales"] == 7500
    assert login(li).get("/api/v1/guides/me/performance?period=year").status_code == 422
