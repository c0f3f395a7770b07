"""The portal's user: a resident account of one municipality, or a member of its staff.

What the booking rules need is on the user from the first migration: the municipality, the account kind
(K-REG-1 group, S-REG-1 individual, T-REG-1 card holder, staff), residency class (S-REG-4), fee category
(Shiroi's fee table) and the validity period (K-REG-3, S-REG-3, T-REG-1).
"""

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config import clock, sql


class User(AbstractUser):
    class AccountKind(models.TextChoices):
        GROUP = "group", _("Group (Kodaira)")
        INDIVIDUAL = "individual", _("Individual (Shiroi)")
        CARD_HOLDER = "card_holder", _("Card holder (Tamba)")
        STAFF = "staff", _("Staff")

    class Residency(models.TextChoices):
        RESIDENT = "resident", _("Resident (lives, works or studies in the municipality)")
        NON_RESIDENT = "non_resident", _("Non-resident")

    class FeeCategory(models.TextChoices):
        GENERAL = "general", _("General")
        STUDENT = "student", _("High-school or university student")
        CHILD = "child", _("Elementary or junior-high pupil")

    class StaffRole(models.TextChoices):
        NONE = "", _("—")
        CLERK = "clerk", _("Counter clerk")
        ADMINISTRATOR = "administrator", _("Municipal administrator")

    municipality = models.ForeignKey(
        "facilities.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("municipality"),
        help_text=_("Empty only for the operators of the whole deployment."),
    )
    account_kind = models.CharField(
        _("account kind"), max_length=20, choices=AccountKind.choices, default=AccountKind.INDIVIDUAL
    )
    display_name = models.CharField(_("name shown"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    residency = models.CharField(
        _("residency"), max_length=20, choices=Residency.choices, default=Residency.RESIDENT
    )
    fee_category = models.CharField(
        _("fee category"), max_length=20, choices=FeeCategory.choices, default=FeeCategory.GENERAL
    )
    staff_role = models.CharField(_("staff role"), max_length=20, choices=StaffRole.choices, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE,
        help_text=_("The language of the e-mails sent to this user."),
    )
    expiry_notice_sent_for = models.DateField(
        _("expiry notice sent for"), null=True, blank=True, editable=False,
        help_text=_("The last valid day that the expiry e-mail was sent for (sent once per validity end)."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_from__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="user_validity_in_order",
            ),
            models.CheckConstraint(
                condition=Q(staff_role="") | Q(account_kind="staff"),
                name="user_staff_role_only_for_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_resident(self) -> bool:
        return self.residency == self.Residency.RESIDENT

    def is_clerk_of(self, municipality_id: int) -> bool:
        """An active staff account of that municipality (counter entries, payments, renewals)."""
        return self.is_active and self.account_kind == self.AccountKind.STAFF and self.municipality_id == municipality_id

    def is_valid_on(self, day=None) -> bool:
        """Registration valid on ``day`` (Japan time, today by default)."""
        day = day or clock.today()
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)

    def save(self, *args, **kwargs):
        # A new password (a clerk re-registering the PIN at the counter, K-REG-4, or a reset by e-mail) starts an
        # attacker's search over: the account's log-in throttle is lifted with it (accounts/throttle.py).
        password_changed = self._password is not None
        super().save(*args, **kwargs)
        if password_changed:
            from accounts import throttle

            throttle.lift_account_block(self)

    def clean(self):
        super().clean()
        if self.staff_role and self.account_kind != self.AccountKind.STAFF:
            raise ValidationError({"staff_role": _("Only staff accounts have a staff role.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})


# Personal API tokens ----------------------------------------------------------------------------------------

TOKEN_SCHEME = "yoyaku"
TOKEN_PREFIX_BYTES = 6  # 12 hex characters: the public part, stored in clear for lookup
LAST_USED_PRECISION = dt.timedelta(minutes=1)  # last_used_at is written at most once a minute per token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split_token(token: str) -> str | None:
    """The lookup prefix of ``yoyaku_<prefix>_<secret>``, or None when the text is not shaped like a token."""
    if len(token) > 200:
        return None
    scheme, _sep, rest = token.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if scheme != TOKEN_SCHEME or not secret or len(prefix) != TOKEN_PREFIX_BYTES * 2:
        return None
    if any(c not in "0123456789abcdef" for c in prefix):
        return None
    return prefix


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def of_user(self, user):
        return self.filter(user=user)

    def issue(self, *, user, name: str) -> tuple["ApiToken", str]:
        """A new token for ``user``; returns the row and the token text, which is shown once and never stored."""
        while True:
            prefix = secrets.token_hex(TOKEN_PREFIX_BYTES)
            if not self.model.objects.filter(prefix=prefix).exists():
                break
        token = f"{TOKEN_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        row = self.create(user=user, name=name, prefix=prefix, secret_hash=_digest(token), created_at=clock.now())
        return row, token

    def authenticate(self, token: str):
        """The active user that ``token`` belongs to, or None (unknown, revoked, or the user is inactive)."""
        prefix = split_token(token)
        if prefix is None:
            return None
        now = clock.now()
        adapt = connection.ops.adapt_datetimefield_value
        user, token_facts = sql.fetch_one(User, _token_user_sql(), [adapt(now - LAST_USED_PRECISION), prefix])
        if user is None:
            return None
        token_id, secret_hash, revoked, stale = token_facts
        if revoked or not hmac.compare_digest(secret_hash, _digest(token)) or not user.is_active:
            return None
        if stale:
            with connection.cursor() as cursor:
                cursor.execute(_token_touch_sql(), [adapt(now), token_id])
        return user


# The token look-up runs on every API request. Plain SQL, built once from the models' metadata (config.sql):
# building the equivalent ORM query (token with select_related user) cost five times the query itself.


def _token_user_sql() -> str:
    """The user owning a token prefix (a whole User, for config.sql.fetch_one), with the token's facts."""
    quote = connection.ops.quote_name
    tokens, users = quote(ApiToken._meta.db_table), quote(User._meta.db_table)
    return (
        f"SELECT {sql.model_columns(User)}, t.id, t.secret_hash,"
        f" CASE WHEN t.revoked_at IS NULL THEN 0 ELSE 1 END,"
        f" CASE WHEN t.last_used_at IS NULL OR t.last_used_at <= %s THEN 1 ELSE 0 END"
        f" FROM {tokens} t JOIN {users} m ON m.id = t.user_id WHERE t.prefix = %s"
    )


def _token_touch_sql() -> str:
    quote = connection.ops.quote_name
    return f"UPDATE {quote(ApiToken._meta.db_table)} SET last_used_at = %s WHERE id = %s"


class ApiToken(models.Model):
    """A personal API token (``Authorization: Bearer yoyaku_<prefix>_<secret>``).

    Only a SHA-256 digest of the whole token is stored; the token is shown once, when it is created. The clear
    ``prefix`` finds the row; the digest is then compared in constant time. Revoking keeps the row as history.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “calendar sync”."))
    prefix = models.CharField(_("prefix"), max_length=24, unique=True, editable=False)
    secret_hash = models.CharField(_("SHA-256 of the token"), max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_SCHEME}_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_SCHEME}_{self.prefix}_…"

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = clock.now()
            self.save(update_fields=["revoked_at"])


# Log-in throttling (issue #6; K-REG-1 Interpretation: 4-digit PINs need brute-force protection) -------------


class LoginThrottle(models.Model):
    """One counter of failed log-ins: for an account from untrusted devices, for one known device of an account,
    or for one client address. ``accounts/throttle.py`` holds the policy and the only code that writes these rows.

    Updated under a row lock (``SELECT … FOR UPDATE``; on SQLite the whole write transaction is serialized by
    ``BEGIN IMMEDIATE``), so every gunicorn worker and every concurrent request sees and counts the same
    failures: no lost updates, unlike a read-modify-write on a cache.
    """

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("account, from untrusted devices")
        DEVICE = "device", _("known device of an account")
        ADDRESS = "address", _("client address")

    key = models.CharField(_("key"), max_length=200, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="login_throttles", verbose_name=_("user")
    )
    level = models.FloatField(_("failure level"), default=0, help_text=_("Failures, less one forgiven per leak period."))
    level_at = models.DateTimeField(_("level computed at"), null=True, blank=True)
    blocked_until = models.DateTimeField(_("blocked until"), null=True, blank=True)
    day = models.DateField(_("day"), null=True, blank=True)
    day_failures = models.PositiveIntegerField(_("failures that day"), default=0)
    total_failures = models.PositiveIntegerField(_("failures in all"), default=0)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    notice_day = models.DateField(_("last notice"), null=True, blank=True)
    notice_pending = models.BooleanField(_("notice waiting for the next log-in"), default=False)
    notice_failures = models.PositiveIntegerField(_("failures in the notice"), default=0)

    class Meta:
        verbose_name = _("log-in throttle")
        verbose_name_plural = _("log-in throttles")

    def __str__(self) -> str:
        return self.key


# The e-mail outbox ------------------------------------------------------------------------------------------


class Notice(models.Model):
    """One message to a user about something that concerns them (issue #8, item 4), kept as the outbox.

    Written in the same transaction as the change it reports and sent after commit (accounts/notify.py), so a
    rolled-back change tells nobody and a committed one is not forgotten when the mail server is down (the
    ``accounts.deliver_notices`` job retries). ``key`` names the event ("unpaid:123"): the database refuses a
    second notice of one event, so a job that runs twice, late or in two workers never e-mails twice.
    """

    class Kind(models.TextChoices):
        BOOKED = "booked", _("Booking made")
        PAYMENT_DUE = "payment_due", _("Payment due soon")
        PAID = "paid", _("Payment received, use permit issued")
        CANCELLED_UNPAID = "cancelled_unpaid", _("Cancelled: not paid in time")
        CANCELLED_BY_STAFF = "cancelled_by_staff", _("Cancelled by the municipality")
        CANCELLED = "cancelled", _("Booking cancelled")
        REFUNDED = "refunded", _("Refund")
        WEATHER = "weather", _("Rained off or stopped for heat")
        TRANSFERRED = "transferred", _("Booking transferred to another day")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notices",
        verbose_name=_("user"),
    )
    municipality = models.ForeignKey(
        "facilities.Municipality", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("municipality"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    key = models.CharField(_("event"), max_length=120, unique=True)
    email = models.EmailField(_("sent to"), blank=True, help_text=_("Empty: the user has no e-mail address; the notice is shown on the portal only."))
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"))
    sending_since = models.DateTimeField(_("sending since"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices (e-mail outbox)")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notice_user_recent"),
            models.Index(fields=["sent_at", "created_at"], name="notice_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.subject}"
