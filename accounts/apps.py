from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        # /admin/login/ checks passwords too: send it to the throttled allauth log-in (accounts/throttle.py), so
        # that there is no second, unthrottled door for guessing PINs (K-REG-1 Interpretation).
        from allauth.account.decorators import secure_admin_login
        from django.contrib import admin

        admin.site.login = secure_admin_login(admin.site.login)

        # A staff session's idle time counts from its log-in (accounts/middleware.py).
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import staff_session_starts

        user_logged_in.connect(staff_session_starts, dispatch_uid="accounts.staff_session_starts")

        # The moment of each log-in, for "ask for the password again before creating a token or a feed key".
        from accounts import credentials

        credentials.connect_signals()
