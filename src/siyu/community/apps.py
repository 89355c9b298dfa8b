from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommunityConfig(AppConfig):
    name = "siyu.community"
    label = "community"
    verbose_name = _("Community")

    def ready(self) -> None:
        from siyu.community import events  # noqa: F401  (registers the event types)
