"""The promotions console pages, mounted at ``/console/promotions/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.promotions import views_console as views

app_name = "promotions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.template_list, name="template_list"),
    path("new/", views.template_create, name="template_create"),
    path("<int:pk>/", views.template_detail, name="template_detail"),
    path("<int:pk>/edit/", views.template_edit, name="template_edit"),
    path("<int:pk>/status/", views.template_status, name="template_status"),
    path("<int:pk>/schedule/", views.template_schedule, name="template_schedule"),
    path("<int:pk>/issue/", views.template_issue, name="template_issue"),
    path("<int:pk>/post/", views.template_post, name="template_post"),
    path("<int:pk>/qr.<str:kind>", views.template_qr, name="template_qr"),
]
