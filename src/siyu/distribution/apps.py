from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DistributionConfig(AppConfig):
    name = "siyu.distribution"
    label = "distribution"
    verbose_name = _("Distribution")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.distribution import consumers, events  # noqa: F401  (registers them)
        from siyu.distribution.tasks import settle_commissions

        every("distribution.settle_commissions", settle_commissions, timedelta(hours=1))
