"""Event types the webhooks app emits (registered from ``WebhooksConfig.ready``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from siyu.core.events import register_event_type

PING = "webhooks.ping"
ENDPOINT_DISABLED = "webhooks.endpoint.disabled"

register_event_type(
    PING,
    _("Test event"),
    _("Sent to one endpoint from “Send test event”; never to the other endpoints."),
)
register_event_type(
    ENDPOINT_DISABLED,
    _("Webhook endpoint disabled"),
    _("An endpoint was switched off after too many failed deliveries."),
)
