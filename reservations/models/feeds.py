"""Private calendar feeds (issue #8 item 3): one secret address per user that a calendar app subscribes to.

Imported by reservations/models.py, so the model belongs to the reservations app (migration 0008).

The address holds a key ``<prefix>_<secret>``. Like the personal API tokens (accounts.models.ApiToken) only a
SHA-256 digest of the whole key is stored, the clear ``prefix`` finds the row and the digest is compared in
constant time; the key is shown once, when it is issued. A user has at most one active feed (a partial unique
constraint); issuing a new one revokes the old one in the same transaction. Revoking keeps the row as history,
with the reason. The account's events that end its credentials (a new password, a card re-issue, withdrawal,
an expired registration) revoke the feed too: ``CalendarFeed`` is registered with accounts.credentials in
ReservationsConfig.ready.
"""

import datetime as dt
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Revocation
from accounts.models import _digest as digest  # the same SHA-256 digest as the API tokens
from config import clock

FEED_PREFIX_BYTES = 6  # 12 hex characters, stored in clear for the look-up
FEED_SECRET_BYTES = 32
FETCH_PRECISION = dt.timedelta(minutes=1)  # last_fetched_at is written at most once a minute


def split_key(key: str) -> str | None:
    """The look-up prefix of ``<prefix>_<secret>``, or None when the text is not shaped like a feed key."""
    if not key or len(key) > 120:
        return None
    prefix, _sep, secret = key.partition("_")
    if len(prefix) != FEED_PREFIX_BYTES * 2 or not secret or any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix


class CalendarFeedQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def usable(self, now):
        """The feeds that work (accounts.credentials.revoke_access): a feed key does not expire by itself."""
        return self.active()

    def of_user(self, user):
        return self.filter(user=user)

    def find(self, key: str):
        """The active feed whose key is ``key`` (of an active user whose registration is valid today), or None:
        unknown, revoked, malformed, withdrawn, or expired (K-REG-3, S-REG-3, T-REG-1: refused from the first day
        after the last valid day, before the daily job revokes the feed)."""
        prefix = split_key(key)
        if prefix is None:
            return None
        feed = self.select_related("user").filter(prefix=prefix).first()
        if feed is None or feed.revoked_at is not None or not feed.user.is_active or not feed.user.is_valid_on():
            return None
        if not hmac.compare_digest(feed.secret_hash, digest(key)):
            return None
        return feed


class CalendarFeed(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("user")
    )
    prefix = models.CharField(_("prefix"), max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(_("SHA-256 of the key"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"))
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("why revoked"),
        max_length=30,
        choices=Revocation.choices,
        blank=True,
        default="",
        db_default="",
    )

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

    @staticmethod
    def new_key() -> tuple[str, str]:
        """A fresh (prefix, key); the caller checks that the prefix is free."""
        prefix = secrets.token_hex(FEED_PREFIX_BYTES)
        return prefix, f"{prefix}_{secrets.token_urlsafe(FEED_SECRET_BYTES)}"

    def touch(self) -> None:
        """Record a fetch, at most once a minute (calendar apps poll)."""
        now = clock.now()
        if self.last_fetched_at is None or self.last_fetched_at <= now - FETCH_PRECISION:
            type(self).objects.filter(pk=self.pk).update(last_fetched_at=now)
            self.last_fetched_at = now
