"""The bargain console pages, mounted at ``/console/bargain/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.bargain import views

app_name = "bargain"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.activity_list, name="activity_list"),
    path("new/", views.activity_new, name="activity_new"),
    path("<int:pk>/", views.activity_detail, name="activity_detail"),
    path("<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("<int:pk>/status/", views.activity_status, name="activity_status"),
]
