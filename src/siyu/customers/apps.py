from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "siyu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.customers import events  # noqa: F401  (registers the event types)
        from siyu.customers.tasks import prune_login_codes

        every("customers.prune_login_codes", prune_login_codes, timedelta(hours=1))
