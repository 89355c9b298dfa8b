"""The guides' demo generator: owners, history, materials with pictures, tasks."""

from __future__ import annotations

import random

import pytest

from siyu.core.actors import Actor
from siyu.core.demo import DemoContext
from siyu.core.permissions import Role
from siyu.core.testing import make_staff
from siyu.customers.models import Customer
from siyu.customers.testing import make_customer
from siyu.guides import demo
from siyu.guides.models import Material, OwnershipChange, Transfer

pytestmark = pytest.mark.django_db


def test_demo_seeds_guides_data(bound):
    make_staff(bound, Role.SHOPPING_GUIDE)
    make_staff(bound, Role.SHOPPING_GUIDE)
    for _ in range(60):
        make_customer(bound)
    steps = []
    ctx = DemoContext(bound, Actor.system(bound), random.Random(7), advance=steps.append)
    demo.seed(ctx)
    owned = Customer.objects.filter(owner_guide__isnull=False).count()
    assert 5 < owned < 45
    assert OwnershipChange.objects.filter(kind="bound").count() == owned
    assert Transfer.objects.count() == 1
    assert Material.objects.count() == len(demo.MATERIALS)
    assert all(m.images.exists() for m in Material.objects.all())
    assert sum(steps) == demo.STEPS
