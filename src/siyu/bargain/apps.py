from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BargainConfig(AppConfig):
    name = "siyu.bargain"
    label = "bargain"
    verbose_name = _("Bargains")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.bargain import consumers, events  # noqa: F401  (registers them)
        from siyu.bargain.tasks import expire_bargains
        from siyu.core.scheduler import every

        every("bargain.expire_bargains", expire_bargains, timedelta(minutes=1))
