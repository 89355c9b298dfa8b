"""Console pages of guides (/console/guides/)."""

from django.urls import URLPattern, URLResolver, path

from siyu.guides import views

app_name = "guides"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.guide_list, name="guide_list"),
    path("<int:pk>/", views.guide_detail, name="guide_detail"),
    path("materials/", views.material_list, name="material_list"),
    path("materials/new/", views.material_new, name="material_new"),
    path("materials/<int:pk>/", views.material_edit, name="material_edit"),
    path("materials/<int:pk>/delete/", views.material_delete, name="material_delete"),
    path("transfers/", views.transfer_list, name="transfer_list"),
    path("transfers/new/", views.transfer_new, name="transfer_new"),
    path("transfers/<int:pk>/", views.transfer_detail, name="transfer_detail"),
    path("settings/", views.settings_page, name="settings"),
]
