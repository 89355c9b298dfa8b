"""Short links of join codes: ``/j/<token>`` (printed on posters; see ``views_links``)."""

from django.urls import URLPattern, URLResolver, path

from siyu.community import views_links

app_name = "links"

urlpatterns: list[URLPattern | URLResolver] = [
    path("<str:token>", views_links.landing, name="landing"),
    path("<str:token>/", views_links.landing, name="landing_slash"),
]
