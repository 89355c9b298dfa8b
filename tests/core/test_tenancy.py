from __future__ import annotations

import pytest

from siyu.core.actors import Actor
from siyu.core.models import ApiKey, AuditEntry
from siyu.core.services import create_api_key
from siyu.core.tenancy import CrossMerchantWrite, MerchantNotBound, merchant_context


def test_scoped_manager_refuses_to_read_without_a_bound_merchant(merchant):
    with pytest.raises(MerchantNotBound):
        list(AuditEntry.objects.all())


def test_scoped_manager_reads_only_the_bound_merchant(merchant, other_merchant):
    create_api_key(Actor.system(merchant), name="mine")
    create_api_key(Actor.system(other_merchant), name="theirs")
    with merchant_context(merchant):
        assert [k.name for k in ApiKey.objects.all()] == ["mine"]
        theirs = ApiKey.unscoped.get(name="theirs")
        assert not ApiKey.objects.filter(pk=theirs.pk).exists()
    with merchant_context(other_merchant):
        assert [k.name for k in ApiKey.objects.all()] == ["theirs"]
    assert ApiKey.unscoped.count() == 2


def test_saving_a_row_of_another_merchant_while_bound_is_refused(merchant, other_merchant):
    issued = create_api_key(Actor.system(other_merchant), name="theirs")
    with merchant_context(merchant), pytest.raises(CrossMerchantWrite):
        issued.api_key.name = "hijacked"
        issued.api_key.save()
    issued.api_key.refresh_from_db()
    assert issued.api_key.name == "theirs"


def test_create_fills_the_bound_merchant(merchant):
    with merchant_context(merchant):
        entry = AuditEntry.objects.create(actor_label="t", action="x.y")
    assert entry.merchant_id == merchant.pk


def test_contexts_nest_and_restore(merchant, other_merchant):
    from siyu.core.tenancy import bound_merchant

    with merchant_context(merchant):
        with merchant_context(other_merchant):
            assert bound_merchant() == other_merchant
        assert bound_merchant() == merchant
    assert bound_merchant() is None
