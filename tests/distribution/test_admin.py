"""The Django admin lists distribution of every merchant and never changes it."""

from __future__ import annotations

import pytest
from django.test import Client

from siyu.core.testing import make_user
from siyu.distribution.testing import distributed_order, make_distributor, set_default_rate

pytestmark = pytest.mark.django_db


def test_a_superuser_reads_the_ledger_and_cannot_add_to_it(merchant):
    set_default_rate(merchant, 1000)
    distributor = make_distributor(merchant)
    distributed_order(merchant, distributor)
    client = Client()
    client.force_login(make_user(is_superuser=True, is_staff=True))
    for name in ("distributor", "commissionentry", "withdrawal", "binding", "commissionrule"):
        assert client.get(f"/admin/distribution/{name}/").status_code == 200, name
    assert distributor.share_code.encode() in client.get("/admin/distribution/distributor/").content
    assert client.get("/admin/distribution/commissionentry/add/").status_code == 403
