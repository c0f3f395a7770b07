from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReservationsConfig(AppConfig):
    name = "reservations"
    verbose_name = _("Reservations")

    def ready(self):
        # accounts must not import reservations (which sits above it): calendar-feed keys join the account's
        # credentials here, so that a new password, a card re-issue, a withdrawal or an expired registration
        # revokes them with the API tokens (accounts.credentials.revoke_access).
        from accounts import credentials

        from .models import CalendarFeed

        credentials.register(CalendarFeed)
