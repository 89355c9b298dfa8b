"""The community's storefront pages, mounted at ``/s/<merchant_slug>/community/``."""

from django.urls import URLPattern, URLResolver, path

from siyu.community import views_links, views_storefront

app_name = "shop_community"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_storefront.group_list, name="group_list"),
    path("groups/<int:pk>/", views_storefront.group_chat, name="group_chat"),
    path("inbox/", views_storefront.inbox, name="inbox"),
    path("guide/", views_storefront.guide_chat, name="guide_chat"),
    path("chats/<int:pk>/", views_storefront.direct_chat, name="direct_chat"),
    path("join/<str:token>/", views_links.join, name="join"),
]
