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

        from siyu.customers import crm_consumers  # noqa: F401  (registers the consumers)
        from siyu.customers.crm_tasks import (
            prune_timeline,
            refresh_statistics,
            roll_order_windows,
        )

        every("customers.prune_timeline", prune_timeline, timedelta(days=1))
        every("customers.refresh_statistics", refresh_statistics, timedelta(days=1))
        every("customers.roll_order_windows", roll_order_windows, timedelta(minutes=10))

        # Tags and segments: auto-tag rules on events (after the statistics consumer) and nightly.
        from siyu.customers import autotag  # noqa: F401  (registers the consumer)
        from siyu.customers.segment_tasks import run_auto_tag_rules

        every("customers.run_auto_tag_rules", run_auto_tag_rules, timedelta(days=1))
