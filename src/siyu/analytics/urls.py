"""The analytics console pages, mounted at ``/console/analytics/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.analytics import (
    views_console,
    views_console_boards,
    views_console_uplift,
    views_console_value,
    views_imports,
)

app_name = "analytics"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_console.overview, name="overview"),
    path("cohorts/", views_console.cohort_page, name="cohorts"),
    path("rfm/", views_console_boards.rfm_page, name="rfm"),
    path("fission/", views_console_boards.fission_page, name="fission"),
    path("leaderboards/", views_console_boards.leaderboards, name="leaderboards"),
    path("uplift/", views_console_uplift.uplift_page, name="uplift"),
    path("value/", views_console_value.value_page, name="value"),
    path("value/holdout/", views_console_value.holdout_start, name="holdout_start"),
    path("import/", views_imports.import_list, name="import_list"),
    path("import/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("import/<int:pk>/report.csv", views_imports.import_report, name="import_report"),
]
