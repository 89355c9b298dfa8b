from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "siyu.loyalty"
    label = "loyalty"
    verbose_name = _("Points and tiers")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.loyalty import consumers, events  # noqa: F401  (registers them)
        from siyu.loyalty.tasks import evaluate_tiers, expire_points

        every("loyalty.expire_points", expire_points, timedelta(hours=1))
        every("loyalty.evaluate_tiers", evaluate_tiers, timedelta(days=1))
