"""Console pages of targeted messages, mounted at /console/marketing/."""

from django.urls import path

from siyu.marketing import views, views_detail

app_name = "marketing"

urlpatterns = [
    path("", views.broadcast_list, name="broadcast_list"),
    path("new/", views.broadcast_new, name="broadcast_new"),
    path("audience-count/", views.audience_count, name="audience_count"),
    path("policy/", views.policy_page, name="policy"),
    path("<int:pk>/", views_detail.broadcast_detail, name="broadcast_detail"),
    path("<int:pk>/edit/", views.broadcast_edit, name="broadcast_edit"),
    path("<int:pk>/progress/", views_detail.broadcast_progress, name="broadcast_progress"),
    path("<int:pk>/deliveries.csv", views_detail.delivery_export, name="delivery_export"),
    path("<int:pk>/cancel/", views_detail.broadcast_cancel, name="broadcast_cancel"),
    path("<int:pk>/send/", views_detail.broadcast_send, name="broadcast_send"),
]
