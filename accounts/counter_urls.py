"""The counter's account screens (issue #6): ``/<municipality>/counter/accounts/…``, each a ``clerk_view``."""

from django.urls import path

from . import counter_views as views

app_name = "counter_accounts"

urlpatterns = [
    path("", views.index, name="index"),
    path("register/", views.register, name="register"),
    path("requests/", views.requests, name="requests"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("users/<int:pk>/", views.account, name="account"),
    path("users/<int:pk>/renew/", views.renew, name="renew"),
    path("users/<int:pk>/password/", views.password, name="password"),
    path("users/<int:pk>/reissue/", views.reissue, name="reissue"),
    path("users/<int:pk>/change/", views.change, name="change"),
    path("users/<int:pk>/proxies/", views.add_proxy, name="add_proxy"),
    path("users/<int:pk>/proxies/<int:proxy>/remove/", views.remove_proxy, name="remove_proxy"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/", views.review_duplicate, name="review_duplicate"),
]
