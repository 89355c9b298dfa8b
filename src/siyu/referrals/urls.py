"""The referrals console pages, mounted at ``/console/referrals/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.referrals import views_console

app_name = "referrals"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_console.overview, name="overview"),
    path("settings/", views_console.settings_page, name="settings"),
    path("settings/status/", views_console.set_status, name="set_status"),
    path("list/", views_console.referral_list, name="list"),
    path("blocked/", views_console.referral_list, {"blocked": True}, name="blocked"),
    path("tree/", views_console.tree_page, name="tree"),
    path("rewards/<int:pk>/retry/", views_console.retry_reward, name="retry_reward"),
]
