from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "siyu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core import checks  # noqa: F401  (registers system checks)
        from siyu.core.scheduler import every
        from siyu.core.tasks import dispatch_events, prune_idempotency_records

        every("core.dispatch_events", dispatch_events, timedelta(seconds=5))
        every("core.prune_idempotency_records", prune_idempotency_records, timedelta(hours=1))
