"""Tenancy: every business row belongs to one merchant, and every read is scoped.

A request, task or command binds exactly one merchant with
:func:`merchant_context`. Models that inherit :class:`MerchantOwned` get an
``objects`` manager that filters by the bound merchant and *refuses to run*
when none is bound, so a cross-merchant read cannot happen by accident. Code
that really works across merchants (the outbox dispatcher, the admin, data
migrations) says so by using ``Model.unscoped``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from siyu.core.models import Merchant


class MerchantNotBound(RuntimeError):
    """A merchant-scoped query ran with no merchant bound to the context."""


class CrossMerchantWrite(RuntimeError):
    """A row of one merchant was saved while another merchant was bound."""


_current: ContextVar[Merchant | None] = ContextVar("siyu_current_merchant", default=None)


def current_merchant() -> Merchant:
    merchant = _current.get()
    if merchant is None:
        raise MerchantNotBound(
            "No merchant is bound: wrap the code in merchant_context(merchant) "
            "or use Model.unscoped for deliberate cross-merchant work."
        )
    return merchant


def bound_merchant() -> Merchant | None:
    return _current.get()


@contextmanager
def merchant_context(merchant: Merchant | None) -> Iterator[Merchant | None]:
    """Bind ``merchant`` for the duration of the block (nesting restores the outer one)."""
    token = _current.set(merchant)
    try:
        yield merchant
    finally:
        _current.reset(token)


class MerchantScopedQuerySet(models.QuerySet):
    def for_merchant(self, merchant: Merchant | int) -> Self:
        merchant_id = merchant if isinstance(merchant, int) else merchant.pk
        return self.filter(merchant_id=merchant_id)


class MerchantScopedManager(models.Manager):
    """Default manager of merchant-owned models: filters by the bound merchant."""

    _queryset_class = MerchantScopedQuerySet

    def get_queryset(self) -> MerchantScopedQuerySet:
        merchant = current_merchant()
        return MerchantScopedQuerySet(self.model, using=self._db).filter(merchant_id=merchant.pk)

    def create(self, **kwargs: Any) -> Any:
        if "merchant" not in kwargs and "merchant_id" not in kwargs:
            kwargs["merchant"] = current_merchant()
        return super().create(**kwargs)


class UnscopedManager(models.Manager):
    """Explicit cross-merchant access (dispatchers, admin, migrations)."""

    _queryset_class = MerchantScopedQuerySet


class MerchantOwned(models.Model):
    """Abstract base of every business table: carries the merchant and scopes reads."""

    merchant = models.ForeignKey("core.Merchant", on_delete=models.CASCADE, related_name="+")

    objects = MerchantScopedManager()
    unscoped = UnscopedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        bound = _current.get()
        if self.merchant_id is None and bound is not None:
            self.merchant = bound
        if bound is not None and self.merchant_id != bound.pk:
            raise CrossMerchantWrite(
                f"{type(self).__name__} of merchant {self.merchant_id} saved while merchant "
                f"{bound.pk} is bound"
            )
        super().save(*args, **kwargs)
