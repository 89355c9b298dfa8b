from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuidesConfig(AppConfig):
    name = "siyu.guides"
    label = "guides"
    verbose_name = _("Shopping guides")

    def ready(self) -> None:
        from siyu.guides import events  # noqa: F401  (registers the event types)
