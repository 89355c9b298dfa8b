"""Outbox consumers of inventory: a new store gets its stock location."""

from __future__ import annotations

from siyu.core.events import consumer
from siyu.core.models import DomainEvent
from siyu.inventory import services
from siyu.stores.events import STORE_CREATED
from siyu.stores.models import Store


@consumer("inventory.store_locations", event_types=[STORE_CREATED])
def create_store_location(event: DomainEvent) -> None:
    """Idempotent: ``location_for_store`` answers the existing location on a repeat."""
    store = Store.unscoped.filter(merchant_id=event.merchant_id, pk=event.aggregate_id).first()
    if store is not None:
        services.location_for_store(store)
