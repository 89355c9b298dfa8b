"""Console pages of orders, mounted at /console/orders/."""

from django.urls import path

from siyu.orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("export.csv", views.order_export, name="order_export"),
    path("pickup/", views.pickup_verify, name="pickup_verify"),
    path("shipping/", views.shipping_settings, name="shipping_settings"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/prepare/", views.order_prepare, name="order_prepare"),
    path("<int:pk>/ship/", views.order_ship, name="order_ship"),
    path("<int:pk>/ready/", views.order_ready, name="order_ready"),
    path("<int:pk>/collect/", views.order_collect, name="order_collect"),
    path("<int:pk>/complete/", views.order_complete, name="order_complete"),
    path("<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
]
