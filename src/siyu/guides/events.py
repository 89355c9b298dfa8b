"""Domain event types of shopping guides (registered from ``GuidesConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

CUSTOMER_BOUND = "guides.customer.bound"
CUSTOMER_TRANSFERRED = "guides.customer.transferred"


def register() -> None:
    register_event_type(
        CUSTOMER_BOUND,
        _("Customer bound to a guide"),
        _(
            "A customer got an owner guide: scanned a guide's code, assigned by staff or "
            "imported (`kind`, `guide_id`, `from_guide_id`, `state`)."
        ),
    )
    register_event_type(
        CUSTOMER_TRANSFERRED,
        _("Customer transferred to another guide"),
        _(
            "An operator's transfer moved a customer from one guide to another, or released "
            "them when over the transfer limit (`transfer_id`, `from_guide_id`, `to_guide_id`)."
        ),
    )


register()
