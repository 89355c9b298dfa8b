"""Console pages of join codes: create with ordered groups, edit, detail, downloads, visibility."""

from __future__ import annotations

import pytest
from django.urls import reverse

from siyu.community import selectors, services
from siyu.community.models import JoinCode, JoinCodeGroup
from siyu.community.testing import bound, make_code, make_group
from siyu.core.actors import Actor
from siyu.core.permissions import Role
from siyu.core.testing import login, make_staff
from siyu.customers.testing import make_customer

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def client(merchant):
    c = login(make_staff(merchant, Role.OPERATOR))
    c.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return c


def test_create_a_code_with_groups_in_the_chosen_order(client, owner, store):
    first, second, third = (make_group(owner, name=n, store=store) for n in ("A", "B", "C"))
    response = client.post(
        reverse("community:code_create"),
        {
            "kind": "groups",
            "name": "Door poster",
            "state": "store_door",
            "store": store.pk,
            # ticked: C (position 1) then A (position 2); B not ticked despite a position
            "groups": [first.pk, third.pk],
            f"position-{first.pk}": "2",
            f"position-{second.pk}": "1",
            f"position-{third.pk}": "1",
            "auto_create": "on",
            "base_name": "Door",
            "new_group_capacity": "300",
            "welcome_text": "Welcome to the door group",
            "poster_message": "Scan for coupons",
            "is_active": "on",
        },
    )
    code = JoinCode.unscoped.get(name="Door poster")
    assert response.status_code == 302
    assert response["Location"] == reverse("community:code_detail", args=[code.pk])
    with bound(code.merchant):
        assert [g.pk for g in selectors.code_groups(code)] == [third.pk, first.pk]
    assert code.auto_create
    assert code.new_group_capacity == 300
    assert code.welcome == {"text": "Welcome to the door group"}


def test_edit_reorders_groups_and_keeps_the_kind(client, owner):
    a, b = make_group(owner, name="A"), make_group(owner, name="B")
    code = make_code(owner, [a, b], name="Table card", state="table_card")
    form = html(client.get(reverse("community:code_edit", args=[code.pk])))
    assert f'name="position-{a.pk}" value="1"' in form
    response = client.post(
        reverse("community:code_edit", args=[code.pk]),
        {
            "kind": "guide",  # disabled field: ignored
            "name": "Table card 2",
            "state": "table_card",
            "groups": [a.pk, b.pk],
            f"position-{a.pk}": "2",
            f"position-{b.pk}": "1",
            "new_group_capacity": "200",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    code.refresh_from_db()
    assert (code.kind, code.name) == ("groups", "Table card 2")
    assert list(
        JoinCodeGroup.unscoped.filter(code=code)
        .order_by("position")
        .values_list("group_id", flat=True)
    ) == [b.pk, a.pk]


def test_invalid_code_shows_field_errors_and_writes_nothing(client):
    response = client.post(
        reverse("community:code_create"),
        {"kind": "guide", "name": "Mine", "state": "Not A Slug", "new_group_capacity": "200"},
    )
    assert response.status_code == 422
    assert "state" in response.context["form"].errors
    assert not JoinCode.unscoped.exists()
    response = client.post(
        reverse("community:code_create"),
        {"kind": "guide", "name": "Mine", "state": "guide_card", "new_group_capacity": "200"},
    )
    assert response.status_code == 422
    assert "guide" in response.context["form"].errors
    assert not JoinCode.unscoped.exists()


def test_detail_shows_qr_link_counts_scans_and_groups(client, owner, merchant):
    group = make_group(owner, name="Fans", capacity=10)
    code = make_code(owner, [group], name="Door")
    customer = make_customer(merchant, name="Lin")
    with bound(merchant):
        services.scan(code, customer)
        services.record_visit(code)
    page = html(client.get(reverse("community:code_detail", args=[code.pk])))
    assert "<svg" in page
    assert f"http://127.0.0.1:9/j/{code.token}" in page
    assert "Joined" in page
    assert "Opened, not logged in" in page
    assert "50%" in page  # 1 join of 2 scans
    assert "1/10" in page
    listing = html(client.get(reverse("community:code_list")))
    assert "Door" in listing
    assert "50%" in listing


@pytest.mark.parametrize(
    ("name", "content_type", "magic"),
    [
        ("code_qr_svg", "image/svg+xml", b"<svg"),
        ("code_qr_png", "image/png", b"\x89PNG"),
        ("code_poster_png", "image/png", b"\x89PNG"),
        ("code_poster_pdf", "application/pdf", b"%PDF"),
    ],
)
def test_downloads_have_the_right_content_type(client, owner, name, content_type, magic):
    code = make_code(owner, [make_group(owner)], poster_message="扫码入群")
    response = client.get(reverse(f"community:{name}", args=[code.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "attachment" in response["Content-Disposition"]
    assert magic in response.content[:200]


def test_another_merchants_code_is_a_404(client, other_merchant):
    rival = Actor.system(other_merchant)
    code = make_code(rival, [make_group(rival)])
    assert client.get(reverse("community:code_detail", args=[code.pk])).status_code == 404
    assert client.get(reverse("community:code_poster_pdf", args=[code.pk])).status_code == 404
    assert client.get(reverse("community:code_edit", args=[code.pk])).status_code == 404


def test_a_guide_sees_own_codes_only_and_cannot_create(merchant, owner):
    guide = make_staff(merchant, Role.SHOPPING_GUIDE)
    mine = make_code(owner, [], kind="guide", guide=guide, name="My card", state="guide_card")
    other = make_code(owner, [make_group(owner)], name="Brand door")
    client = login(guide)
    listing = html(client.get(reverse("community:code_list")))
    assert "My card" in listing
    assert "Brand door" not in listing
    assert client.get(reverse("community:code_detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("community:code_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("community:code_create")).status_code == 403
