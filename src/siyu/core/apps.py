from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "siyu.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core import checks  # noqa: F401  (registers system checks)
        from siyu.core.scheduler import every
        from siyu.core.tasks import dispatch_events, prune_idempotency_records

        every("core.dispatch_events", dispatch_events, timedelta(seconds=5))
        every("core.prune_idempotency_records", prune_idempotency_records, timedelta(hours=1))

        from django.db.models.signals import post_delete, post_save

        from siyu.core.models import Merchant
        from siyu.core.selectors import forget_storefront_merchant

        def forget(sender: type, instance: Merchant, **kwargs: object) -> None:
            forget_storefront_merchant(instance)

        post_save.connect(forget, sender=Merchant, weak=False, dispatch_uid="core.forget_merchant")
        post_delete.connect(
            forget, sender=Merchant, weak=False, dispatch_uid="core.forget_merchant_deleted"
        )
