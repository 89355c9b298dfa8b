from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "siyu.distribution"
    label = "distribution"
    verbose_name = _("Distribution")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.distribution import (  # noqa: F401  (registers them)
            consumers,
            events,
            guide_consumers,
            guide_events,
        )
        from siyu.distribution.guide_tasks import settle_guide_commissions
        from siyu.distribution.tasks import settle_commissions

        every("distribution.settle_commissions", settle_commissions, timedelta(hours=1))
        every("distribution.settle_guide_commissions", settle_guide_commissions, timedelta(hours=1))
