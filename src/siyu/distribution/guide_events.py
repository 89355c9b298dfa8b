"""Domain event types of shopping guides' commission (registered when the module is imported)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

GUIDE_RULE_CHANGED = "distribution.guide_rule.changed"
GUIDE_COMMISSION_RECORDED = "distribution.guide_commission.recorded"
GUIDE_COMMISSION_SETTLED = "distribution.guide_commission.settled"

EVENT_TYPES = {
    GUIDE_RULE_CHANGED: (
        _("Guide commission rule changed"),
        _("A default, category or product rule of shopping guides' commission was set or removed."),
    ),
    GUIDE_COMMISSION_RECORDED: (
        _("Guide commission recorded"),
        _("A guide's pending commission on a paid order, or its reversal after a refund."),
    ),
    GUIDE_COMMISSION_SETTLED: (
        _("Guide commission settled"),
        _("Guides' commission of orders past their return window was settled (`count`)."),
    ),
}

for _name, (_label, _description) in EVENT_TYPES.items():
    register_event_type(_name, _label, _description)
