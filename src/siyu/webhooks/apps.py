from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "siyu.webhooks"
    label = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.webhooks import consumers, events  # noqa: F401  (registers types and consumer)
        from siyu.webhooks.tasks import prune_delivery_log, sweep

        every("webhooks.sweep", sweep, timedelta(seconds=10))
        every("webhooks.prune_delivery_log", prune_delivery_log, timedelta(hours=1))
