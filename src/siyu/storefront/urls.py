"""The storefront's pages, mounted at /s/<merchant_slug>/ (every view takes ``merchant_slug``).

``StorefrontMiddleware`` has already bound the merchant of the slug (404 when
there is none). The shop pages' URL names that the layout's tab bar links to
once they exist: ``home``, ``category_list``, ``cart``, ``order_list``.
"""

from django.urls import path

from siyu.storefront import views_account

app_name = "storefront"

urlpatterns = [
    # the customer's account (siyu.storefront.views_account)
    path("login/", views_account.login, name="login"),
    path("login/sms/", views_account.login_sms, name="login_sms"),
    path("logout/", views_account.logout, name="logout"),
    path("account/", views_account.account, name="account"),
    path("account/addresses/", views_account.addresses, name="addresses"),
    path("account/addresses/new/", views_account.address_add, name="address_add"),
    path("account/addresses/<int:pk>/", views_account.address_edit, name="address_edit"),
    path("account/addresses/<int:pk>/delete/", views_account.address_delete, name="address_delete"),
    path(
        "account/addresses/<int:pk>/default/",
        views_account.address_default,
        name="address_default",
    ),
]
