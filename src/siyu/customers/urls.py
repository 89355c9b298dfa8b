"""Console pages of customers, mounted at /console/customers/."""

from django.urls import path

from siyu.customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/status/", views.customer_set_status, name="customer_set_status"),
    path("sms/", views.sms_outbox, name="sms_outbox"),
    path("sms/<int:pk>/", views.sms_detail, name="sms_detail"),
]
