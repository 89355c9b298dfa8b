from django.urls import path

from siyu.inventory import views

app_name = "inventory"

urlpatterns = [
    path("", views.stock_list, name="stock_list"),
    path("receive/", views.receive, name="receive"),
    path("adjust/", views.adjust, name="adjust"),
    path("movements/", views.movement_list, name="movement_list"),
    path("locations/", views.location_list, name="location_list"),
    path("locations/new/", views.location_create, name="location_create"),
    path("locations/stores/", views.location_stores, name="location_stores"),
    path("locations/<int:pk>/", views.location_edit, name="location_edit"),
    path("locations/<int:pk>/ship/", views.location_ship, name="location_ship"),
]
