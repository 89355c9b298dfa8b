"""Django admin of webhooks for platform operators (unscoped; secrets never shown)."""

from __future__ import annotations

from django.contrib import admin

from siyu.core.admin import UnscopedAdmin
from siyu.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(UnscopedAdmin):
    list_display = ("url", "merchant", "is_active", "disabled_reason", "consecutive_failures")
    list_filter = ("is_active", "disabled_reason")
    exclude = ("secret", "previous_secret")
    readonly_fields = ("consecutive_failures", "disabled_at", "secret_rotated_at")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(UnscopedAdmin):
    list_display = ("id", "merchant", "endpoint", "event_type", "status", "attempts", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("endpoint", "event", "replay_of")


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(UnscopedAdmin):
    list_display = ("delivery", "number", "attempted_at", "response_status", "error_code")
    list_filter = ("error_code",)
    raw_id_fields = ("delivery",)
