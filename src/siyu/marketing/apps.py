from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "siyu.marketing"
    label = "marketing"
    verbose_name = _("Marketing")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.marketing import consumers, events  # noqa: F401  (registers them)
        from siyu.marketing.tasks import send_due

        every("marketing.send_due", send_due, timedelta(minutes=1))
