from django.urls import path

from siyu.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("<int:pk>/query/", views.payment_query, name="payment_query"),
    path("refunds/", views.refund_list, name="refund_list"),
    path("refunds/<int:pk>/approve/", views.refund_approve, name="refund_approve"),
    path("refunds/<int:pk>/reject/", views.refund_reject, name="refund_reject"),
    path("refunds/<int:pk>/retry/", views.refund_retry, name="refund_retry"),
    path("orders/<int:order_pk>/refund/", views.order_refund, name="order_refund"),
]
