from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "siyu.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.inventory import consumers, events  # noqa: F401  (consumers register)
        from siyu.inventory.tasks import expire_stock_reservations

        events.register()
        every("inventory.expire_reservations", expire_stock_reservations, timedelta(seconds=30))
