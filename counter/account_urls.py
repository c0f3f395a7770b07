"""The counter's account screens (issue #6): ``/<municipality>/counter/accounts/…``, each a ``clerk_view``."""

from django.urls import path

from . import account_views as views

urlpatterns = [
    path("", views.index, name="accounts_index"),
    path("register/", views.register, name="accounts_register"),
    path("requests/", views.requests, name="accounts_requests"),
    path("requests/<int:pk>/", views.request_detail, name="accounts_request"),
    path("users/<int:pk>/", views.account, name="accounts_account"),
    path("users/<int:pk>/renew/", views.renew, name="accounts_renew"),
    path("users/<int:pk>/password/", views.password, name="accounts_password"),
    path("users/<int:pk>/reissue/", views.reissue, name="accounts_reissue"),
    path("users/<int:pk>/change/", views.change, name="accounts_change"),
    path("users/<int:pk>/proxies/", views.add_proxy, name="accounts_add_proxy"),
    path("users/<int:pk>/proxies/<int:proxy>/remove/", views.remove_proxy, name="accounts_remove_proxy"),
    path("duplicates/", views.duplicates, name="accounts_duplicates"),
    path("duplicates/<int:pk>/", views.review_duplicate, name="accounts_review_duplicate"),
]
