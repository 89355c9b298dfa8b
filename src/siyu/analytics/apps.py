from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "siyu.analytics"
    label = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from siyu.analytics import consumers  # noqa: F401  (registers them)
        from siyu.analytics.tasks import (
            LIFETIME_EVERY,
            SWEEP_EVERY,
            refresh_lifetime,
            sweep_group_messages,
        )
        from siyu.core.scheduler import every

        every("analytics.sweep_group_messages", sweep_group_messages, SWEEP_EVERY)
        every("analytics.refresh_lifetime", refresh_lifetime, LIFETIME_EVERY)
