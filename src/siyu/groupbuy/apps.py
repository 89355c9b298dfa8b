from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupBuyConfig(AppConfig):
    name = "siyu.groupbuy"
    label = "groupbuy"
    verbose_name = _("Group-buys")

    def ready(self) -> None:
        from datetime import timedelta

        from siyu.core.scheduler import every
        from siyu.groupbuy import consumers, events  # noqa: F401  (registers them)
        from siyu.groupbuy.services import HOLD, hold_page
        from siyu.groupbuy.tasks import advance_activities, close_due_teams
        from siyu.orders.services import register_hold

        register_hold(HOLD, _("the group-buy team is still filling"), hold_page)
        every("groupbuy.close_due_teams", close_due_teams, timedelta(minutes=1))
        every("groupbuy.advance_activities", advance_activities, timedelta(minutes=1))
