"""Delivery addresses: validation, exactly one default, the limit, and ownership."""

from __future__ import annotations

from decimal import Decimal

import pytest

from siyu.core.errors import InvalidInput, NotFound
from siyu.core.models import AuditEntry, DomainEvent
from siyu.core.tenancy import merchant_context
from siyu.customers import selectors, services
from siyu.customers.models import CustomerAddress
from siyu.customers.testing import address_fields, make_address, make_customer


def defaults(customer) -> list[int]:
    return list(
        CustomerAddress.unscoped.filter(customer=customer, is_default=True).values_list(
            "pk", flat=True
        )
    )


def test_the_first_address_is_the_default_and_is_stored_cleanly(customer):
    address = services.add_address(
        customer,
        **address_fields(
            recipient="  王小明 ", phone="+86 139-0000-0001", latitude="31.2288", longitude=121.45
        ),
    )
    assert address.is_default
    assert address.recipient == "王小明"
    assert address.phone == "+8613900000001"
    assert address.latitude == Decimal("31.228800")
    assert address.longitude == Decimal("121.450000")
    assert address.one_line.startswith("上海市静安区南京西路")
    assert AuditEntry.unscoped.filter(action="address.create", object_id=str(address.pk)).exists()
    assert DomainEvent.unscoped.filter(event_type="customers.address.saved").count() == 1


def test_a_landline_is_fine_for_a_recipient(customer):
    assert make_address(customer, phone="021 6288 1234").phone == "+862162881234"


def test_adding_a_default_moves_the_default(customer):
    first = make_address(customer)
    second = make_address(customer)
    assert defaults(customer) == [first.pk]
    third = make_address(customer, is_default=True)
    assert defaults(customer) == [third.pk]
    assert second.pk not in defaults(customer)


def test_set_default_and_delete_keep_exactly_one_default(customer):
    a, b, c = (make_address(customer) for _ in range(3))
    services.set_default_address(customer, b.pk)
    assert defaults(customer) == [b.pk]
    services.set_default_address(customer, b)  # already the default: nothing changes
    assert defaults(customer) == [b.pk]
    services.delete_address(customer, b.pk)
    assert len(defaults(customer)) == 1
    assert defaults(customer)[0] in {a.pk, c.pk}
    services.delete_address(customer, defaults(customer)[0])
    services.delete_address(customer, defaults(customer)[0])
    assert not CustomerAddress.unscoped.filter(customer=customer).exists()
    assert AuditEntry.unscoped.filter(action="address.delete").count() == 3


def test_the_default_is_chosen_not_unticked(customer):
    only = make_address(customer)
    with pytest.raises(InvalidInput) as caught:
        services.update_address(customer, only, is_default=False)
    assert set(caught.value.fields) == {"is_default"}
    other = make_address(customer)
    services.update_address(customer, other, is_default=True)
    assert defaults(customer) == [other.pk]


def test_update_changes_only_the_given_fields(customer):
    address = make_address(customer, district="静安区")
    updated = services.update_address(customer, address.pk, district="黄浦区", postal_code="")
    assert (updated.district, updated.postal_code, updated.recipient) == ("黄浦区", "", "王小明")
    entry = AuditEntry.unscoped.get(action="address.update")
    assert entry.before["district"] == "静安区"
    assert entry.after["district"] == "黄浦区"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recipient": ""}, "recipient"),
        ({"recipient": "名" * 41}, "recipient"),
        ({"phone": "12"}, "phone"),
        ({"phone": ""}, "phone"),
        ({"province": " "}, "province"),
        ({"city": ""}, "city"),
        ({"street": ""}, "street"),
        ({"street": "路" * 201}, "street"),
        ({"postal_code": "2000"}, "postal_code"),
        ({"postal_code": "２０００４０"}, "postal_code"),
        ({"latitude": "91", "longitude": "121"}, "latitude"),
        ({"latitude": "31", "longitude": "east"}, "longitude"),
        ({"latitude": "31"}, "longitude"),
        ({"is_default": "yes"}, "is_default"),
        ({"colour": "red"}, "colour"),
        ({"recipient": 5}, "recipient"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(customer, changes, field):
    with pytest.raises(InvalidInput) as caught:
        services.add_address(customer, **address_fields(**changes))
    assert field in caught.value.fields
    assert not CustomerAddress.unscoped.exists()
    assert not AuditEntry.unscoped.filter(action__startswith="address.").exists()


def test_missing_fields_are_named(customer):
    with pytest.raises(InvalidInput) as caught:
        services.add_address(customer, recipient="王小明")
    assert {"phone", "province", "city", "street"} <= set(caught.value.fields)


def test_bad_input_on_update_changes_nothing(customer):
    address = make_address(customer)
    with pytest.raises(InvalidInput) as caught:
        services.update_address(customer, address, city="", phone="1")
    assert set(caught.value.fields) == {"city", "phone"}
    address.refresh_from_db()
    assert address.city == "上海市"


def test_at_most_twenty_addresses(customer):
    for _ in range(services.MAX_ADDRESSES):
        make_address(customer)
    with pytest.raises(InvalidInput) as caught:
        make_address(customer)
    assert "at most 20" in caught.value.fields["address"]
    assert CustomerAddress.unscoped.filter(customer=customer).count() == 20


def test_another_customers_address_is_not_found(customer, merchant, other_merchant):
    neighbour = make_customer(merchant)
    theirs = make_address(neighbour)
    stranger = make_customer(other_merchant, "+8613812345678")
    foreign = make_address(stranger)
    for address in (theirs.pk, foreign.pk, 999_999):
        with pytest.raises(NotFound):
            services.update_address(customer, address, city="北京市")
        with pytest.raises(NotFound):
            services.set_default_address(customer, address)
        with pytest.raises(NotFound):
            services.delete_address(customer, address)
        with merchant_context(customer.merchant), pytest.raises(NotFound):
            selectors.address_of(customer, address)
    theirs.refresh_from_db()
    assert theirs.city == "上海市"


def test_selectors_list_the_default_first(customer):
    a = make_address(customer)
    b = make_address(customer)
    services.set_default_address(customer, b)
    with merchant_context(customer.merchant):
        assert [x.pk for x in selectors.addresses(customer)] == [b.pk, a.pk]
        assert selectors.default_address(customer).pk == b.pk
