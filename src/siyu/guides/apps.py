from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "siyu.guides"
    label = "guides"
    verbose_name = _("Shopping guides")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.guides import events  # noqa: F401  (registers the event types)
        from siyu.guides.tasks import generate_daily_tasks

        # Hourly: a new customer's task appears within the hour; the rules are idempotent.
        every("guides.generate_daily_tasks", generate_daily_tasks, timedelta(hours=1))
