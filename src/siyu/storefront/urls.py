"""The storefront's pages, mounted at /s/<merchant_slug>/ (every view takes ``merchant_slug``).

``StorefrontMiddleware`` has already bound the merchant of the slug (404 when
there is none). The layout's tab bar links to ``home``, ``category_list``,
``cart``, ``order_list`` and ``account``.
"""

from django.urls import path

from siyu.storefront import views, views_account, views_cart, views_orders

app_name = "storefront"

urlpatterns = [
    # browsing (siyu.storefront.views): no login needed
    path("", views.home, name="home"),
    path("categories/", views.category_list, name="category_list"),
    path("categories/<int:pk>/", views.category_list, name="category"),
    path("search/", views.search, name="search"),
    path("products/<int:pk>/", views.product, name="product"),
    path("stores/", views.store_list, name="store_list"),
    path("stores/choose/", views.store_choose, name="store_choose"),
    # cart and checkout (siyu.storefront.views_cart)
    path("cart/", views_cart.cart, name="cart"),
    path("cart/add/", views_cart.cart_add, name="cart_add"),
    path("cart/<int:sku_id>/", views_cart.cart_update, name="cart_update"),
    path("cart/<int:sku_id>/remove/", views_cart.cart_remove, name="cart_remove"),
    path("checkout/", views_cart.checkout, name="checkout"),
    # orders, payment, refunds (siyu.storefront.views_orders)
    path("orders/", views_orders.order_list, name="order_list"),
    path("orders/<int:pk>/", views_orders.order_detail, name="order_detail"),
    path("orders/<int:pk>/pay/", views_orders.order_pay, name="order_pay"),
    path("orders/<int:pk>/paid/", views_orders.order_return, name="order_return"),
    path("orders/<int:pk>/cancel/", views_orders.order_cancel, name="order_cancel"),
    path("orders/<int:pk>/refund/", views_orders.order_refund, name="order_refund"),
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
