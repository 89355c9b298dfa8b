"""The sandbox provider's pages (at /sandbox/): a stand-in for a real provider's checkout."""

from django.urls import path

from siyu.payments.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("pay/<str:token>/", views.pay_page, name="pay"),
]
