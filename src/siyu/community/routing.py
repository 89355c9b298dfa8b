"""Websocket routes of the community (mounted by ``siyu.config.asgi``)."""

from django.urls import path

from siyu.community.consumers import ChatConsumer

websocket_urlpatterns = [
    path("ws/chat/<int:conversation_id>/", ChatConsumer.as_asgi()),
]
