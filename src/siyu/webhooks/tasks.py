"""Background tasks of webhooks (django.tasks, queue "webhooks")."""

from __future__ import annotations

from django.tasks import task

from siyu.webhooks import delivery


@task(queue_name="webhooks")
def deliver(delivery_id: int) -> str | None:
    """Claim and send one attempt of a delivery (the first one, a replay, a test event)."""
    outcome = delivery.attempt(delivery_id)
    return outcome.status if outcome else None


@task(queue_name="webhooks")
def deliver_claimed(delivery_id: int, token: str) -> str | None:
    """Send an attempt the sweep has already claimed (a no-op if the claim was recovered)."""
    outcome = delivery.send_claimed(delivery.Claim(delivery_id, token))
    return outcome.status if outcome else None


@task(queue_name="webhooks")
def sweep() -> dict[str, int]:
    """Every 10 s: recover expired leases, then claim the due retries and hand them to workers."""
    recovered = delivery.recover_expired_leases()
    claims = delivery.claim_due()
    for claimed in claims:
        deliver_claimed.enqueue(claimed.delivery_id, claimed.token)
    return {"recovered": recovered, "claimed": len(claims)}


@task()
def prune_delivery_log() -> int:
    """Hourly: forget finished deliveries older than 30 days (the log would grow forever)."""
    return delivery.prune_delivery_log()
