from django.urls import path
from django.views.generic import RedirectView

from . import notice_views, profile_views, views

app_name = "accounts"

urlpatterns = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke, name="revoke_token"),
    path("profile/", profile_views.profile, name="profile"),
    path("notifications/", notice_views.notifications, name="notifications"),  # issue #8 item 4
    path("notifications/<int:pk>/", notice_views.notification, name="notification"),
    # allauth's e-mail management page would let anyone change an address that Tamba changes at a center
    # (T-REG-3): the profile page decides what may be changed online.
    path("email/", RedirectView.as_view(pattern_name="accounts:profile"), name="email"),
    path("recover/", profile_views.recover, name="recover"),
    path("recover/sent/", profile_views.recover_sent, name="recover_sent"),
    path("request/<slug:municipality>/", profile_views.registration_request, name="registration_request"),
    path("request/<slug:municipality>/sent/", profile_views.registration_requested, name="registration_requested"),
]
