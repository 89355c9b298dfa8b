"""The groupbuy console pages, mounted at ``/console/groupbuy/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.groupbuy import views_console as views

app_name = "groupbuy"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.activity_list, name="activity_list"),
    path("new/", views.activity_create, name="activity_create"),
    path("<int:pk>/", views.activity_detail, name="activity_detail"),
    path("<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("<int:pk>/status/", views.activity_status, name="activity_status"),
]
