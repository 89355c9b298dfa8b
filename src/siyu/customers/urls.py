"""Console pages of customers, mounted at /console/customers/."""

from django.urls import path

from siyu.customers import views, views_crm

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("<int:pk>/", views.customer_detail, name="customer_detail"),
    path("<int:pk>/status/", views.customer_set_status, name="customer_set_status"),
    path("<int:pk>/profile/", views_crm.profile_edit, name="customer_profile"),
    path("<int:pk>/identities/", views_crm.identity_add, name="identity_add"),
    path(
        "<int:pk>/identities/<int:identity_id>/remove/",
        views_crm.identity_remove,
        name="identity_remove",
    ),
    path("<int:pk>/consent/", views_crm.consent_set, name="consent_set"),
    path("<int:pk>/notes/", views_crm.note_add, name="note_add"),
    path("<int:pk>/notes/<int:note_id>/delete/", views_crm.note_delete, name="note_delete"),
    path("<int:pk>/tags/", views_crm.tag_toggle, name="customer_tag"),
    path("imports/", views_crm.import_list, name="import_list"),
    path("imports/<int:pk>/", views_crm.import_detail, name="import_detail"),
    path("sms/", views.sms_outbox, name="sms_outbox"),
    path("sms/<int:pk>/", views.sms_detail, name="sms_detail"),
]
