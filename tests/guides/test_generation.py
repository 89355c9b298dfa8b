"""Daily task generation: idempotent, the rules applied to the database's facts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from siyu.core import clock
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.guides import followups, selectors, services
from siyu.guides.models import GuideTask

pytestmark = pytest.mark.django_db


def test_generation_creates_each_task_once(bound):
    li = make_staff(bound, Role.SHOPPING_GUIDE)
    now = clock.now()
    today = selectors.today_for(bound, now)
    fresh = make_customer(bound, name="New")
    services.bind_to_guide(fresh, li, kind="bound")
    birthday = make_customer(bound, name="Birthday")
    services.bind_to_guide(birthday, li, kind="bound")
    Customer.objects.filter(pk=birthday.pk).update(
        birthday=date(1990, today.month, today.day),
        birth_month=today.month,
        owner_since=now - timedelta(days=3),
    )
    dormant = make_customer(bound, name="Dormant")
    services.bind_to_guide(dormant, li, kind="bound")
    Customer.objects.filter(pk=dormant.pk).update(
        owner_since=now - timedelta(days=60), last_order_at=now - timedelta(days=45)
    )
    recent = make_customer(bound, name="Recent buyer")
    services.bind_to_guide(recent, li, kind="bound")
    Customer.objects.filter(pk=recent.pk).update(
        owner_since=now - timedelta(days=60), last_order_at=now - timedelta(days=3)
    )
    nobody = make_customer(bound, name="No guide")
    Customer.objects.filter(pk=nobody.pk).update(last_order_at=now - timedelta(days=90))

    now += timedelta(minutes=1)  # the generator runs after the bindings
    assert followups.generate_tasks(bound, now=now) == 3
    assert followups.generate_tasks(bound, now=now) == 0  # idempotent
    assert followups.generate_tasks(bound, now=now + timedelta(hours=2)) == 0
    kinds = dict(GuideTask.objects.values_list("customer_id", "kind"))
    assert kinds == {fresh.pk: "new_customer", birthday.pk: "birthday", dormant.pk: "dormant"}
    # the next day the dormant customer is not chased again (one reminder a week)
    assert followups.generate_tasks(bound, now=now + timedelta(days=1)) == 0
    assert followups.generate_tasks(bound, now=now + timedelta(days=7)) == 1


def test_finish_task_rules(bound):
    from siyu.core.errors import Conflict, InvalidInput, NotFound

    li = make_staff(bound, Role.SHOPPING_GUIDE)
    wang = make_staff(bound, Role.SHOPPING_GUIDE)
    customer = make_customer(bound)
    task = GuideTask.objects.create(
        guide=li,
        customer=customer,
        kind="dormant",
        due_on=clock.now().date(),
        created_at=clock.now(),
    )
    with pytest.raises(InvalidInput):
        followups.finish_task(li, task.pk, "maybe")
    with pytest.raises(NotFound):
        followups.finish_task(wang, task.pk, "done")
    assert followups.finish_task(li, task.pk, "done", "called her").status == "done"
    assert followups.finish_task(li, task.pk, "done").note == "called her"  # a double tap
    with pytest.raises(Conflict):
        followups.finish_task(li, task.pk, "skipped")
