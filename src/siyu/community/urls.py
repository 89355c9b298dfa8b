"""Console pages of the community (``/console/community/``)."""

from django.urls import URLPattern, URLResolver, path

from siyu.community import views_codes, views_groups

app_name = "community"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_groups.group_list, name="group_list"),
    path("groups/new/", views_groups.group_create, name="group_create"),
    path("groups/<int:pk>/", views_groups.group_detail, name="group_detail"),
    path("groups/<int:pk>/edit/", views_groups.group_edit, name="group_edit"),
    path("groups/<int:pk>/post/", views_groups.group_post, name="group_post"),
    path("groups/<int:pk>/archive/", views_groups.group_archive, name="group_archive"),
    path("groups/<int:pk>/replies/new/", views_groups.reply_create, name="reply_create"),
    path("groups/<int:pk>/replies/<int:reply_pk>/", views_groups.reply_edit, name="reply_edit"),
    path(
        "groups/<int:pk>/replies/<int:reply_pk>/delete/",
        views_groups.reply_delete,
        name="reply_delete",
    ),
    path("members/<int:pk>/remove/", views_groups.member_remove, name="member_remove"),
    path("members/<int:pk>/mute/", views_groups.member_mute, name="member_mute"),
    path("members/<int:pk>/unmute/", views_groups.member_unmute, name="member_unmute"),
    path("post/", views_groups.post_many, name="post_many"),
    path("codes/", views_codes.code_list, name="code_list"),
    path("codes/new/", views_codes.code_create, name="code_create"),
    path("codes/<int:pk>/", views_codes.code_detail, name="code_detail"),
    path("codes/<int:pk>/edit/", views_codes.code_edit, name="code_edit"),
    *(
        path(
            f"codes/<int:pk>/{name}",
            views_codes.code_download,
            {"name": name},
            name=f"code_{name.replace('.', '_')}",
        )
        for name in views_codes.DOWNLOADS
    ),
]
