"""Console pages of customers, mounted at /console/customers/."""

from django.urls import path

from siyu.customers import views, views_crm, views_segments

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
    # tags, segments, auto-tag rules (views_segments)
    path("segments/", views_segments.segment_list, name="segment_list"),
    path("segments/new/", views_segments.segment_new, name="segment_new"),
    path("segments/preview/", views_segments.segment_preview, name="segment_preview"),
    path("segments/<int:pk>/", views_segments.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/edit/", views_segments.segment_edit, name="segment_edit"),
    path("segments/<int:pk>/export/", views_segments.segment_export, name="segment_export"),
    path("segments/<int:pk>/tag/", views_segments.segment_bulk_tag, name="segment_bulk_tag"),
    path("segments/<int:pk>/delete/", views_segments.segment_delete, name="segment_delete"),
    path("segments/tags/", views_segments.tag_list, name="tag_list"),
    path("segments/tags/groups/", views_segments.tag_group_save, name="tag_group_create"),
    path("segments/tags/groups/<int:pk>/", views_segments.tag_group_save, name="tag_group_update"),
    path(
        "segments/tags/groups/<int:pk>/delete/",
        views_segments.tag_group_delete,
        name="tag_group_delete",
    ),
    path("segments/tags/new/", views_segments.tag_save, name="tag_create"),
    path("segments/tags/<int:pk>/", views_segments.tag_save, name="tag_update"),
    path("segments/tags/<int:pk>/delete/", views_segments.tag_delete, name="tag_delete"),
    path("segments/rules/", views_segments.rule_list, name="rule_list"),
    path("segments/rules/new/", views_segments.rule_new, name="rule_new"),
    path("segments/rules/<int:pk>/", views_segments.rule_edit, name="rule_edit"),
    path("segments/rules/<int:pk>/run/", views_segments.rule_run, name="rule_run"),
    path("segments/rules/<int:pk>/delete/", views_segments.rule_delete, name="rule_delete"),
    path("sms/", views.sms_outbox, name="sms_outbox"),
    path("sms/<int:pk>/", views.sms_detail, name="sms_detail"),
]
