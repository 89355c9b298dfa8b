"""The distribution console pages, mounted at ``/console/distribution/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.distribution import views_console as views
from siyu.distribution import views_console_guides as guides

app_name = "distribution"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.overview, name="overview"),
    path("settings/", views.settings_page, name="settings"),
    path("distributors/", views.distributor_list, name="distributors"),
    path("distributors/<int:pk>/", views.distributor_detail, name="distributor_detail"),
    path("distributors/<int:pk>/decide/", views.distributor_decide, name="distributor_decide"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/export.csv", views.ledger_export, name="ledger_export"),
    path("guides/", guides.guide_summary, name="guides"),
    path("guides/rules/", guides.guide_rules, name="guide_rules"),
    path("guides/rules/<int:pk>/delete/", guides.guide_rule_delete, name="guide_rule_delete"),
    path("guides/ledger/", guides.guide_ledger, name="guide_ledger"),
    path("guides/ledger/export.csv", guides.guide_ledger_export, name="guide_ledger_export"),
    path("withdrawals/", views.withdrawal_list, name="withdrawals"),
    path("withdrawals/export.csv", views.withdrawal_export, name="withdrawal_export"),
    path("withdrawals/<int:pk>/approve/", views.withdrawal_approve, name="withdrawal_approve"),
    path("withdrawals/<int:pk>/reject/", views.withdrawal_reject, name="withdrawal_reject"),
    path("withdrawals/<int:pk>/pay/", views.withdrawal_pay, name="withdrawal_pay"),
]
