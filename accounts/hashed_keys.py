"""Secrets shown once and stored hashed: the base of the personal API tokens (accounts.models.ApiToken) and of
the private calendar feeds (reservations.models.CalendarFeed).

A key is ``[<scheme>_]<prefix>_<secret>``: the prefix (12 hex characters) is stored in clear and finds the row, the
secret is random, and only a SHA-256 digest of the whole key is stored, compared in constant time. The key is shown
once, when it is issued. Revoking keeps the row as history, with the reason (``Revocation``); the account's events
that end its credentials revoke every kind of key (accounts/credentials.py).
"""

import hashlib
import hmac
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from config import clock

PREFIX_BYTES = 6  # 12 hex characters: the public part, stored in clear for the look-up
SECRET_BYTES = 32


class Revocation(models.TextChoices):
    """Why an API token or a calendar-feed key stopped working (accounts/credentials.py): shown on the tokens page
    and told in the ``access_revoked`` notice."""

    BY_USER = "by_user", _("revoked by you")
    BY_STAFF = "by_staff", _("revoked by staff")
    REISSUED = "reissued", _("replaced by a new one")
    PASSWORD_CHANGED = "password_changed", _("your password was changed")
    PASSWORD_RESET = "password_reset", _("your password was reset with the link sent by e-mail")
    PASSWORD_RESET_BY_STAFF = "password_reset_by_staff", _("a new password was registered by staff")
    CARD_REISSUED = "card_reissued", _("a new registration card was issued")
    DEACTIVATED = "deactivated", _("the account was withdrawn or deactivated")
    REGISTRATION_EXPIRED = "registration_expired", _("the registration expired")


def digest(key: str) -> str:
    """What is stored of a key: the SHA-256 of the whole text, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class HashedKeyQuerySet(models.QuerySet):
    def active(self):
        """Not revoked."""
        return self.filter(revoked_at__isnull=True)

    def of_user(self, user):
        return self.filter(user=user)

    def with_key(self, key: str):
        """The row whose key is ``key`` (revoked or not: the caller decides), or None: malformed, unknown prefix,
        or a secret that does not match."""
        prefix = self.model.split_key(key)
        if prefix is None:
            return None
        row = self.filter(prefix=prefix).first()
        if row is None or not row.matches(key):
            return None
        return row


class HashedKey(models.Model):
    """The columns and code a hashed key needs; a subclass adds its owner and what else it records."""

    SCHEME = ""  # the text before the prefix, if any (``yoyaku`` for the API tokens)
    MAX_KEY_LENGTH = 200  # longer texts are refused before any look-up

    prefix = models.CharField(_("prefix"), max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(_("SHA-256 of the key"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_reason = models.CharField(
        _("why revoked"),
        max_length=30,
        choices=Revocation.choices,
        blank=True,
        default="",
        db_default="",
    )

    class Meta:
        abstract = True

    @classmethod
    def new_key(cls) -> tuple[str, str]:
        """A fresh (prefix, key); the caller makes sure the prefix is free (the column is unique)."""
        prefix = secrets.token_hex(PREFIX_BYTES)
        head = f"{cls.SCHEME}_" if cls.SCHEME else ""
        return prefix, f"{head}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"

    @classmethod
    def split_key(cls, key: str) -> str | None:
        """The look-up prefix of a key, or None when the text is not shaped like one of this kind."""
        if not key or len(key) > cls.MAX_KEY_LENGTH:
            return None
        if cls.SCHEME:
            scheme, _sep, key = key.partition("_")
            if scheme != cls.SCHEME:
                return None
        prefix, _sep, secret = key.partition("_")
        if len(prefix) != PREFIX_BYTES * 2 or not secret or any(c not in "0123456789abcdef" for c in prefix):
            return None
        return prefix

    def matches(self, key: str) -> bool:
        """Whether ``key`` is this row's key (in constant time)."""
        return hmac.compare_digest(self.secret_hash, digest(key))

    def revoke(self, reason: str = Revocation.BY_USER) -> None:
        if self.revoked_at is None:
            self.revoked_at, self.revoked_reason = clock.now(), reason
            self.save(update_fields=["revoked_at", "revoked_reason"])
