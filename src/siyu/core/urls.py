from django.urls import path

from siyu.core import views

app_name = "core"

urlpatterns = [
    path("api-keys/", views.apikey_list, name="apikey_list"),
    path("api-keys/<int:pk>/revoke/", views.apikey_revoke, name="apikey_revoke"),
    path("audit/", views.audit_list, name="audit_list"),
    path("merchant/", views.merchant_settings, name="merchant_settings"),
]
