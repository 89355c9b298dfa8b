"""Category services: a tree of at most three levels, unique names among siblings."""

from __future__ import annotations

import pytest

from siyu.catalog import services
from siyu.catalog.models import Category
from siyu.catalog.testing import make_category, make_product
from siyu.core.errors import Conflict, Forbidden, InvalidInput
from siyu.core.models import AuditEntry, DomainEvent

pytestmark = pytest.mark.usefixtures("bound")


def test_create_sets_depth_and_appends_at_the_end(owner):
    drinks = services.create_category(owner, name="  Drinks ")
    bakery = services.create_category(owner, name="Bakery")
    coffee = services.create_category(owner, name="Coffee", parent_id=drinks.pk)
    espresso = services.create_category(owner, name="Espresso", parent_id=coffee.pk)
    assert drinks.name == "Drinks"
    assert (drinks.depth, coffee.depth, espresso.depth) == (1, 2, 3)
    assert (drinks.position, bakery.position) == (0, 1)
    entry = AuditEntry.objects.get(action="catalog.category.create", object_id=str(espresso.pk))
    assert entry.after["parent"] == coffee.pk
    event = DomainEvent.objects.filter(event_type="catalog.category.changed").last()
    assert event.payload == {
        "id": espresso.pk,
        "action": "created",
        "name": "Espresso",
        "parent_id": coffee.pk,
        "active": True,
    }


def test_a_fourth_level_is_refused(owner, merchant):
    a = make_category(merchant, "A")
    b = make_category(merchant, "B", parent=a)
    c = make_category(merchant, "C", parent=b)
    with pytest.raises(InvalidInput) as exc:
        services.create_category(owner, name="D", parent_id=c.pk)
    assert "parent_id" in exc.value.fields
    assert not Category.objects.filter(name="D").exists()


def test_names_are_unique_among_siblings_ignoring_case(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    tea = make_category(merchant, "Tea")
    make_category(merchant, "Iced", parent=coffee)
    with pytest.raises(InvalidInput) as exc:
        services.create_category(owner, name="coffee")
    assert exc.value.fields == {"name": "Another category here has this name."}
    with pytest.raises(InvalidInput):
        services.create_category(owner, name="ICED", parent_id=coffee.pk)
    # the same name under another parent is fine
    assert services.create_category(owner, name="Iced", parent_id=tea.pk).depth == 2


def test_names_of_another_merchant_do_not_collide(owner, merchant, other_merchant):
    make_category(other_merchant, "Coffee")
    assert services.create_category(owner, name="Coffee").merchant_id == merchant.pk


def test_bad_input_names_every_field(owner, other_merchant):
    theirs = make_category(other_merchant, "Theirs")
    with pytest.raises(InvalidInput) as exc:
        services.create_category(owner, name=" ", parent_id=theirs.pk, position=-1)
    assert set(exc.value.fields) == {"name", "parent_id", "position"}
    assert exc.value.fields["parent_id"] == "Unknown category."


def test_rename_and_switch_off(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    make_category(merchant, "Tea")
    updated = services.update_category(owner, coffee, name="Coffee & more", active=False)
    assert (updated.name, updated.active) == ("Coffee & more", False)
    entry = AuditEntry.objects.get(action="catalog.category.update")
    assert entry.before["name"] == "Coffee"
    assert entry.after["name"] == "Coffee & more"
    with pytest.raises(InvalidInput):
        services.update_category(owner, coffee, name="tea")
    # renaming to a different case of its own name is fine
    assert services.update_category(owner, coffee, name="COFFEE & MORE").name == "COFFEE & MORE"


def test_move_updates_the_depth_of_the_whole_subtree(owner, merchant):
    drinks = make_category(merchant, "Drinks")
    coffee = make_category(merchant, "Coffee")
    espresso = make_category(merchant, "Espresso", parent=coffee)
    services.update_category(owner, coffee, parent_id=drinks.pk)
    coffee.refresh_from_db()
    espresso.refresh_from_db()
    assert (coffee.parent_id, coffee.depth, espresso.depth) == (drinks.pk, 2, 3)
    event = DomainEvent.objects.filter(event_type="catalog.category.changed").last()
    assert event.payload["action"] == "moved"
    services.update_category(owner, coffee, parent_id=None)
    espresso.refresh_from_db()
    assert espresso.depth == 2


def test_moves_that_would_loop_or_go_too_deep_are_refused(owner, merchant):
    a = make_category(merchant, "A")
    b = make_category(merchant, "B", parent=a)
    c = make_category(merchant, "C", parent=b)
    other = make_category(merchant, "Other")
    deep = make_category(merchant, "Deep", parent=other)
    for target in (a, b, c):
        with pytest.raises(InvalidInput) as exc:
            services.update_category(owner, a, parent_id=target.pk)
        assert "parent_id" in exc.value.fields
    with pytest.raises(InvalidInput) as exc:  # A has two levels under it: 2 + 2 > 3
        services.update_category(owner, a, parent_id=other.pk)
    assert "levels deep" in exc.value.fields["parent_id"]
    with pytest.raises(InvalidInput):
        services.update_category(owner, b, parent_id=deep.pk)
    a.refresh_from_db()
    assert (a.parent_id, a.depth) == (None, 1)


def test_moving_next_to_a_namesake_is_refused(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    tea = make_category(merchant, "Tea")
    make_category(merchant, "Iced", parent=coffee)
    iced_tea = make_category(merchant, "iced", parent=tea)
    with pytest.raises(InvalidInput) as exc:
        services.update_category(owner, iced_tea, parent_id=coffee.pk)
    assert "name" in exc.value.fields


def test_delete_refuses_while_children_or_products_are_inside(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    espresso = make_category(merchant, "Espresso", parent=coffee)
    make_product(merchant, "Latte", category_id=espresso.pk)
    make_product(merchant, "Mocha", category_id=espresso.pk)
    with pytest.raises(Conflict) as exc:
        services.delete_category(owner, coffee)
    assert "1 subcategory" in exc.value.fields["children"]
    with pytest.raises(Conflict) as exc:
        services.delete_category(owner, espresso)
    assert exc.value.fields["products"].startswith("2 products are in it")
    assert Category.objects.count() == 2


def test_delete_an_empty_category(owner, merchant):
    coffee = make_category(merchant, "Coffee")
    pk = coffee.pk
    services.delete_category(owner, coffee)
    assert not Category.objects.filter(pk=pk).exists()
    assert AuditEntry.objects.get(action="catalog.category.delete").before["name"] == "Coffee"
    event = DomainEvent.objects.filter(event_type="catalog.category.changed").last()
    assert event.payload["action"] == "deleted"
    assert event.aggregate_id == str(pk)


def test_a_shopping_guide_may_not_change_categories(guide, merchant):
    coffee = make_category(merchant, "Coffee")
    with pytest.raises(Forbidden):
        services.create_category(guide, name="Tea")
    with pytest.raises(Forbidden):
        services.update_category(guide, coffee, name="Kaffee")
    with pytest.raises(Forbidden):
        services.delete_category(guide, coffee)
    assert list(Category.objects.values_list("name", flat=True)) == ["Coffee"]
