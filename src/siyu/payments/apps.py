from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "siyu.payments"
    label = "payments"
    verbose_name = _("Payments")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.payments import checks, events  # noqa: F401  (registers checks and event types)
        from siyu.payments.tasks import retry_due_refunds, sweep_sandbox_notifications

        every("payments.sandbox_notifications", sweep_sandbox_notifications, timedelta(seconds=10))
        every("payments.refund_retries", retry_due_refunds, timedelta(minutes=1))
