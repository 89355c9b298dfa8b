"""The guide workbench (/guide/): a guide's own customers, chats, groups, materials, tasks."""

from django.urls import URLPattern, URLResolver, path

from siyu.guides import workbench as views

app_name = "workbench"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/tags/", views.customer_tag, name="customer_tag"),
    path("customers/<int:pk>/notes/", views.customer_note, name="customer_note"),
    path("customers/<int:pk>/chat/", views.customer_chat, name="customer_chat"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/", views.group_chat, name="group_chat"),
    path("materials/", views.material_list, name="material_list"),
    path("materials/<int:pk>/shared/", views.material_shared, name="material_shared"),
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/finish/", views.task_finish, name="task_finish"),
    path("performance/", views.performance, name="performance"),
]
