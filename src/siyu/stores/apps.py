from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "siyu.stores"
    label = "stores"
    verbose_name = _("Stores")

    def ready(self) -> None:
        from siyu.stores import events  # noqa: F401  (registers the event types)
