from django.urls import path

from siyu.stores import views

app_name = "stores"

urlpatterns = [
    path("", views.store_list, name="store_list"),
    path("new/", views.store_create, name="store_create"),
    path("nearest/", views.store_nearest, name="store_nearest"),
    path("<int:pk>/", views.store_detail, name="store_detail"),
    path("<int:pk>/edit/", views.store_edit, name="store_edit"),
    path("<int:pk>/close/", views.store_close, name="store_close"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_add, name="staff_add"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
]
