from __future__ import annotations

from django.test import Client

from siyu.core.models import ApiKey
from siyu.core.permissions import Role
from siyu.core.testing import make_merchant, make_staff, make_user, staff_client


def test_console_requires_login(db):
    response = Client().get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/console/login/")


def test_login_and_dashboard(merchant):
    user = make_user("boss", password="pass-word-123")
    make_staff(merchant, Role.OWNER, user=user)
    client = Client()
    response = client.post("/console/login/", {"username": "boss", "password": "pass-word-123"})
    assert response.status_code == 302
    page = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Lucky Coffee" in page.content.decode()


def test_staff_of_two_merchants_can_switch_but_not_into_a_stranger(merchant, other_merchant):
    user = make_user()
    make_staff(merchant, Role.OWNER, user=user)
    make_staff(other_merchant, Role.FINANCE, user=user)
    stranger = make_merchant(slug="stranger", name="Stranger Shop")
    client = Client()
    client.force_login(user)
    home = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="merchant-switch"' in home
    assert "Rival Tea" in home
    assert "Stranger Shop" not in home
    client.post("/console/switch/", {"merchant": other_merchant.pk})
    assert client.get("/api/v1/merchant").json()["slug"] == "rival-tea"
    client.post("/console/switch/", {"merchant": stranger.pk})
    assert client.get("/api/v1/merchant").json()["slug"] == "rival-tea"


def test_a_user_without_membership_sees_an_explanation(db):
    client = Client()
    client.force_login(make_user())
    response = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "not a member of any active merchant" in response.content.decode()


def test_pages_are_gated_by_role(merchant):
    guide = staff_client(merchant, Role.SHOPPING_GUIDE)
    assert guide.get("/console/api-keys/").status_code == 403
    assert guide.get("/console/audit/").status_code == 403
    assert guide.get("/console/merchant/").status_code == 403
    finance = staff_client(merchant, Role.FINANCE)
    assert finance.get("/console/audit/").status_code == 200
    assert finance.get("/console/api-keys/").status_code == 403


def test_navigation_shows_only_what_the_role_may_open(merchant):
    owner = (
        staff_client(merchant, Role.OWNER)
        .get("/console/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    guide = (
        staff_client(merchant, Role.SHOPPING_GUIDE)
        .get("/console/", HTTP_ACCEPT_LANGUAGE="en")
        .content.decode()
    )
    assert 'href="/console/api-keys/"' in owner
    assert 'href="/console/api-keys/"' not in guide
    assert 'href="/console/analytics/"' in owner
    assert 'href="/console/analytics/"' not in guide  # analytics needs analytics.view


def test_language_switch_renders_chinese(merchant):
    client = staff_client(merchant, Role.OWNER)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/console/"})
    page = client.get("/console/api-keys/").content.decode()
    assert "创建密钥" in page or "API 密钥" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/console/"})
    assert "Create a key" in client.get("/console/api-keys/").content.decode()


def test_creating_a_key_in_the_console_shows_the_secret_once(merchant):
    client = staff_client(merchant, Role.OWNER)
    response = client.post("/console/api-keys/", {"name": "ERP", "role": "operator"})
    assert response.status_code == 200
    key = ApiKey.unscoped.get(name="ERP")
    html = response.content.decode()
    assert key.prefix in html
    assert 'id="new-key"' in html
    listing = client.get("/console/api-keys/").content.decode()
    assert 'id="new-key"' not in listing


def test_revoking_another_merchants_key_is_404(merchant, other_merchant):
    theirs = staff_client(other_merchant, Role.OWNER)
    theirs.post("/console/api-keys/", {"name": "Theirs", "role": "operator"})
    key = ApiKey.unscoped.get(name="Theirs")
    mine = staff_client(merchant, Role.OWNER)
    assert mine.post(f"/console/api-keys/{key.pk}/revoke/").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_merchant_settings_validate_and_save(merchant):
    client = staff_client(merchant, Role.OWNER)
    bad = client.post(
        "/console/merchant/", {"name": "", "time_zone": "Asia/Shanghai"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert bad.status_code == 200
    assert "This field is required" in bad.content.decode()
    client.post(
        "/console/merchant/", {"name": "Lucky Bean", "legal_name": "", "time_zone": "Asia/Tokyo"}
    )
    merchant.refresh_from_db()
    assert (merchant.name, merchant.time_zone) == ("Lucky Bean", "Asia/Tokyo")


def test_healthz(db):
    assert Client().get("/healthz").json() == {"status": "ok"}
