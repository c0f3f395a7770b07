"""Private calendar feeds (issue #8 item 3): one secret address per user that a calendar app subscribes to.

The address holds a key ``<prefix>_<secret>``, a hashed key like the personal API tokens
(accounts/hashed_keys.py: only a SHA-256 digest of the whole key is stored, the clear ``prefix`` finds the row, the
key is shown once, when it is issued). A user has at most one active feed (a partial unique constraint); issuing a
new one revokes the old one in the same transaction. Revoking keeps the row as history, with the reason. The
account's events that end its credentials (a new password, a card re-issue, withdrawal, an expired registration)
revoke the feed too: ``CalendarFeed`` is registered with accounts.credentials in ReservationsConfig.ready.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.hashed_keys import HashedKey, HashedKeyQuerySet
from config import clock

FETCH_PRECISION = dt.timedelta(minutes=1)  # last_fetched_at is written at most once a minute


class CalendarFeedQuerySet(HashedKeyQuerySet):
    def usable(self, now):
        """The feeds that work (accounts.credentials.revoke_access): a feed key does not expire by itself."""
        return self.active()

    def find(self, key: str):
        """The active feed whose key is ``key`` (of an active user whose registration is valid today), or None:
        unknown, revoked, malformed, withdrawn, or expired (K-REG-3, S-REG-3, T-REG-1: refused from the first day
        after the last valid day, before the daily job revokes the feed)."""
        feed = self.select_related("user").with_key(key)
        if feed is None or feed.revoked_at is not None or not feed.user.is_active or not feed.user.is_valid_on():
            return None
        return feed


class CalendarFeed(HashedKey):
    MAX_KEY_LENGTH = 120  # a key in an address: ``<prefix>_<secret>``, no scheme

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("user")
    )
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_active_calendar_feed_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def notice_label(self) -> str:
        """How the ``access_revoked`` notice names it (in the language being rendered)."""
        return gettext("Calendar address %(prefix)s_… (made on %(date)s)") % {
            "prefix": self.prefix,
            "date": date_format(clock.localtime(self.created_at).date(), "DATE_FORMAT"),
        }

    @property
    def page_path(self) -> str:
        """Where its owner makes a new one."""
        return reverse("reservations:calendar_page", args=[self.user.municipality.slug])

    def touch(self) -> None:
        """Record a fetch, at most once a minute (calendar apps poll)."""
        now = clock.now()
        if self.last_fetched_at is None or self.last_fetched_at <= now - FETCH_PRECISION:
            type(self).objects.filter(pk=self.pk).update(last_fetched_at=now)
            self.last_fetched_at = now
