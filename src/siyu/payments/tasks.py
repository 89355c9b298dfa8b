"""Background tasks of payments (django.tasks): the sandbox provider's sending, refund retries."""

from __future__ import annotations

from django.tasks import task

from siyu.payments import services
from siyu.payments.sandbox import provider


@task()
def send_sandbox_notification(notification_pk: int) -> str | None:
    """One attempt of a sandbox notification (the provider POSTing to the notify URL)."""
    return provider.send(notification_pk)


@task()
def sweep_sandbox_notifications() -> int:
    """Every 10 s: send the sandbox notifications whose retry is due."""
    due = provider.due()
    for notification_pk in due:
        send_sandbox_notification.enqueue(notification_pk)
    return len(due)


@task()
def process_refund(refund_pk: int) -> str | None:
    """Ask the provider for one refund (automatic refunds, retries)."""
    return services.execute_refund(refund_pk)


@task()
def retry_due_refunds() -> int:
    """Every minute: refunds whose provider call is due again (retries, a worker that died)."""
    due = services.due_refunds()
    for refund_pk in due:
        process_refund.enqueue(refund_pk)
    return len(due)
