from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "siyu.promotions"
    label = "promotions"
    verbose_name = _("Promotions")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.promotions import consumers, events  # noqa: F401  (registers them)
        from siyu.promotions.tasks import expire_coupons, start_scheduled_templates

        every("promotions.expire_coupons", expire_coupons, timedelta(minutes=10))
        every(
            "promotions.start_scheduled_templates",
            start_scheduled_templates,
            timedelta(minutes=1),
        )
