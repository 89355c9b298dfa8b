from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "siyu.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.orders import events
        from siyu.orders.tasks import cancel_overdue_orders

        events.register()
        every("orders.cancel_overdue", cancel_overdue_orders, timedelta(seconds=30))
