"""The portal's user: a resident account of one municipality, or a member of its staff.

What the booking rules need is on the user from the first migration: the municipality, the account kind
(K-REG-1 group, S-REG-1 individual, T-REG-1 card holder, staff), residency class (S-REG-4), fee category
(Shiroi's fee table) and the validity period (K-REG-3, S-REG-3, T-REG-1).
"""

import datetime as dt
import functools
import hmac

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config import clock, sql

from .hashed_keys import HashedKey, HashedKeyQuerySet, digest
from .hashed_keys import Revocation as Revocation  # where the other modules import it from


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
    residency = models.CharField(_("residency"), max_length=20, choices=Residency.choices, default=Residency.RESIDENT)
    fee_category = models.CharField(
        _("fee category"), max_length=20, choices=FeeCategory.choices, default=FeeCategory.GENERAL
    )
    staff_role = models.CharField(_("staff role"), max_length=20, choices=StaffRole.choices, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the e-mails sent to this user."),
    )
    expiry_notice_sent_for = models.DateField(
        _("expiry notice sent for"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The last valid day that the expiry e-mail was sent for (sent once per validity end)."),
    )
    counter_facilities = models.ManyToManyField(
        "facilities.Facility",
        blank=True,
        related_name="+",
        verbose_name=_("counter of facilities"),
        help_text=_(
            "Staff only: the facilities whose counter this clerk serves. Empty: every facility of the municipality."
        ),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        # Log-in finds the account by its user ID in any case (allauth's and accounts/adapters.py's iexact):
        # without this index every log-in attempt, a spray's included, reads the whole table.
        indexes = [models.Index(Upper("username"), name="user_username_upper")]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
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
        return (
            self.is_active and self.account_kind == self.AccountKind.STAFF and self.municipality_id == municipality_id
        )

    @property
    def is_administrator(self) -> bool:
        """A municipal administrator or an operator: the admin, the audit log, and TOTP is required (issue #6)."""
        return self.is_superuser or (
            self.account_kind == self.AccountKind.STAFF and self.staff_role == self.StaffRole.ADMINISTRATOR
        )

    def serves_facility(self, facility) -> bool:
        """Staff of the facility's municipality whose counter scope (``counter_facilities``) includes it, or is empty.
        Administrators of the municipality serve every facility."""
        if not self.is_clerk_of(facility.municipality_id):
            return False
        if self.staff_role == self.StaffRole.ADMINISTRATOR:
            return True
        scope = self.counter_facilities.values_list("pk", flat=True)
        return not scope.exists() or facility.pk in set(scope)

    def is_valid_on(self, day=None) -> bool:
        """Registration valid on ``day`` (Japan time, today by default)."""
        day = day or clock.today()
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)

    def clean(self):
        super().clean()
        if self.staff_role and self.account_kind != self.AccountKind.STAFF:
            raise ValidationError({"staff_role": _("Only staff accounts have a staff role.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})


# Personal API tokens ----------------------------------------------------------------------------------------

TOKEN_SCHEME = "yoyaku"
LAST_USED_PRECISION = dt.timedelta(minutes=1)  # last_used_at is written at most once a minute per token
# How long a new token works unless its owner chooses another lifetime (the tokens page offers TOKEN_LIFETIMES).
DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=365)
TOKEN_LIFETIMES = {30: dt.timedelta(days=30), 90: dt.timedelta(days=90), 365: DEFAULT_TOKEN_LIFETIME}


class TokenRefused(Exception):
    """A token that does not authenticate. ``reason``: ``invalid`` (unknown, malformed, revoked, or its account
    is inactive: one answer for all, as before), ``expired`` (the token's own lifetime is over) or
    ``registration_expired`` (K-REG-3, S-REG-3, T-REG-1: the account's registration ended). The last two are told
    only to a caller who sent the whole secret, so they reveal nothing to a guesser. ``until``: the last instant
    (token) or last valid day (registration) that it worked."""

    def __init__(self, reason: str = "invalid", until=None):
        super().__init__(reason)
        self.reason = reason
        self.until = until


class ApiTokenQuerySet(HashedKeyQuerySet):
    # active(): not revoked, expired ones included (they are history too, but nothing needs to revoke them).

    def usable(self, now):
        """Not revoked and not expired at ``now``: the tokens that a revocation takes away
        (accounts.credentials.revoke_access). NULL expiry: a token created by the release before expiry
        existed, during a deploy; it expires a year after it was created (ApiToken.expires)."""
        unexpired = Q(expires_at__gt=now) | Q(expires_at__isnull=True, created_at__gt=now - DEFAULT_TOKEN_LIFETIME)
        return self.active().filter(unexpired)

    def issue(self, *, user, name: str, lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME) -> tuple["ApiToken", str]:
        """A new token for ``user`` that works for ``lifetime``; returns the row and the token text, which is
        shown once and never stored. Pages issue through accounts.credentials.issue_token, which also checks the
        account under a row lock."""
        while True:
            prefix, token = self.model.new_key()
            if not self.model.objects.filter(prefix=prefix).exists():
                break
        now = clock.now()
        row = self.create(
            user=user, name=name, prefix=prefix, secret_hash=digest(token), created_at=now, expires_at=now + lifetime
        )
        return row, token

    def authenticate(self, token: str) -> "User":
        """The user that ``token`` belongs to, or ``TokenRefused``: unknown, malformed or revoked, the user is
        inactive, the token expired (``expires_at`` is the first refused instant), or the registration of the
        account expired (``User.is_valid_on`` today, Japan time) — refused at once, before the daily job
        (accounts.jobs.revoke_expired_registrations_access) revokes the token."""
        prefix = self.model.split_key(token)
        if prefix is None:
            raise TokenRefused()
        now = clock.now()
        today = clock.localtime(now).date()
        token_digest = digest(token)
        adapt = connection.ops.adapt_datetimefield_value
        at, stale_before = adapt(now), adapt(now - LAST_USED_PRECISION)
        # PostgreSQL touches a valid, stale token in the look-up's own statement (one round trip, not two).
        touch_in_lookup = connection.vendor == "postgresql"
        if touch_in_lookup:
            day = connection.ops.adapt_datefield_value(today)
            params = [at, prefix, token_digest, stale_before, at, day, day, stale_before, prefix]
        else:
            params = [stale_before, prefix]
        user, token_facts = sql.fetch_one(User, _token_user_sql(touch_in_lookup), params)
        if user is None:
            raise TokenRefused()
        token_id, secret_hash, revoked, stale, expires_at = token_facts
        if revoked or not hmac.compare_digest(secret_hash, token_digest) or not user.is_active:
            raise TokenRefused()
        # No expiry: a token that the previous release made during a deploy; its row is read once more (rare).
        expires = _aware(expires_at) if expires_at is not None else self.get(pk=token_id).expires
        if now >= expires:
            raise TokenRefused("expired", expires)
        if not user.is_valid_on(today):
            raise TokenRefused("registration_expired", user.valid_until)
        if stale and not touch_in_lookup:
            with connection.cursor() as cursor:
                cursor.execute(_token_touch_sql(), [at, token_id])
        return user


def _aware(value) -> dt.datetime:
    """A timestamp read by plain SQL (config.sql converts the User's columns only): aware, as the ORM gives it
    (SQLite returns text; PostgreSQL an aware datetime already)."""
    for convert in _timestamp_converters():
        value = convert(value, None, connection)
    return value


@functools.cache
def _timestamp_converters() -> tuple:
    return tuple(connection.ops.get_db_converters(ApiToken._meta.get_field("expires_at").get_col("t")))


# The token look-up runs on every API request. Plain SQL, built once from the models' metadata (config.sql):
# building the equivalent ORM query (token with select_related user) cost five times the query itself.


@functools.cache
def _token_user_sql(touch: bool) -> str:
    """The user owning a token prefix (a whole User, for config.sql.fetch_one), with the token's facts.

    ``touch`` (PostgreSQL): the statement also sets ``last_used_at`` when the token will be accepted — its digest
    matches, it is neither revoked nor expired, its user is active and registered today — and was last used over
    a minute ago. A data-modifying WITH runs whether or not the SELECT reads it, and writes nothing when no row
    matches (most requests)."""
    quote = connection.ops.quote_name
    tokens, users = quote(ApiToken._meta.db_table), quote(User._meta.db_table)
    touch_first = (
        f"WITH touched AS (UPDATE {tokens} SET last_used_at = %s WHERE prefix = %s AND secret_hash = %s"
        f" AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at <= %s)"
        f" AND (expires_at IS NULL OR expires_at > %s)"
        f" AND user_id IN (SELECT id FROM {users} WHERE is_active"
        f" AND (valid_until IS NULL OR valid_until >= %s) AND (valid_from IS NULL OR valid_from <= %s)) RETURNING id) "
    )
    return (
        (touch_first if touch else "") + f"SELECT {sql.model_columns(User)}, t.id, t.secret_hash,"
        f" CASE WHEN t.revoked_at IS NULL THEN 0 ELSE 1 END,"
        f" CASE WHEN t.last_used_at IS NULL OR t.last_used_at <= %s THEN 1 ELSE 0 END, t.expires_at"
        f" FROM {tokens} t JOIN {users} m ON m.id = t.user_id WHERE t.prefix = %s"
    )


def _token_touch_sql() -> str:
    quote = connection.ops.quote_name
    return f"UPDATE {quote(ApiToken._meta.db_table)} SET last_used_at = %s WHERE id = %s"


class ApiToken(HashedKey):
    """A personal API token (``Authorization: Bearer yoyaku_<prefix>_<secret>``), a hashed key
    (accounts/hashed_keys.py: only a SHA-256 digest is stored, the token is shown once).

    A token works until ``expires_at`` (a year by default) unless it is revoked: by its owner, by staff, or with the
    account's other credentials when the password changes, the card is re-issued, or the account is withdrawn or
    expires (accounts/credentials.py). Revoking keeps the row as history, with the reason.
    """

    SCHEME = TOKEN_SCHEME
    MAX_KEY_LENGTH = 200

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for, e.g. “calendar sync”."))
    secret_hash = models.CharField(_("SHA-256 of the token"), max_length=64, editable=False)  # the base's, named
    # Nullable only so that the release before this column keeps creating tokens while `migrate` runs
    # (docs/operations/migrations.md); such a token expires a year after it was created (``expires``).
    expires_at = models.DateTimeField(
        _("expires"), null=True, blank=True, help_text=_("From this instant the token no longer works.")
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({TOKEN_SCHEME}_{self.prefix}_…)"

    @property
    def expires(self) -> dt.datetime:
        return self.expires_at or self.created_at + DEFAULT_TOKEN_LIFETIME

    @property
    def is_expired(self) -> bool:
        return clock.now() >= self.expires

    @property
    def is_active(self) -> bool:
        """It works now: neither revoked nor expired."""
        return self.revoked_at is None and not self.is_expired

    @property
    def display_prefix(self) -> str:
        return f"{TOKEN_SCHEME}_{self.prefix}_…"

    @property
    def notice_label(self) -> str:
        """How the ``access_revoked`` notice names it (in the language being rendered)."""
        return gettext("API token “%(name)s” (%(prefix)s)") % {"name": self.name, "prefix": self.display_prefix}

    @property
    def page_path(self) -> str:
        """Where its owner makes a new one."""
        return reverse("accounts:tokens")


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
        MFA = "mfa", _("second-factor codes of an account")

    key = models.CharField(_("key"), max_length=200, unique=True)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="login_throttles", verbose_name=_("user")
    )
    # Whole failures (a float column only because earlier releases stored fractions: changing its type would
    # break the release still running while `migrate` runs).
    level = models.FloatField(
        _("failure level"), default=0, help_text=_("Failures, less one forgiven after each whole leak period.")
    )
    level_at = models.DateTimeField(_("leak period started at"), null=True, blank=True)
    blocked_until = models.DateTimeField(_("blocked until"), null=True, blank=True)
    day = models.DateField(_("day"), null=True, blank=True)
    day_failures = models.PositiveIntegerField(_("failures that day"), default=0)
    total_failures = models.PositiveIntegerField(_("failures in all"), default=0)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    notice_day = models.DateField(_("last notice"), null=True, blank=True)
    notice_pending = models.BooleanField(_("notice waiting for the next log-in"), default=False)
    notice_failures = models.PositiveIntegerField(_("failures in the notice"), default=0)
    budget_spent = models.PositiveIntegerField(
        _("unknown-device failures since the owner was last seen"),
        default=0,
        db_default=0,
        help_text=_("Refilled by a log-in from a known device or by an e-mailed code, a recovery or a clerk."),
    )
    breaker_pass_until = models.DateTimeField(
        _("may pass the site-wide breaker until"),
        null=True,
        blank=True,
        help_text=_("Set when a clerk lifted the block or the password changed while the breaker was on."),
    )
    code_mail_at = models.DateTimeField(_("last one-time code mailed"), null=True, blank=True)
    code_mail_day = models.DateField(_("day of the codes mailed"), null=True, blank=True)
    code_mails = models.PositiveIntegerField(_("codes mailed that day"), default=0, db_default=0)

    class Meta:
        verbose_name = _("log-in throttle")
        verbose_name_plural = _("log-in throttles")

    def __str__(self) -> str:
        return self.key


class LoginBreaker(models.Model):
    """The site-wide log-in breaker (one row): the failed log-ins of the running one-hour window, and whether
    the breaker is on. While it is on, log-ins by password from unknown devices need a one-time code e-mailed to
    the account (or the counter) before any password is checked. ``accounts/breaker.py`` holds the policy."""

    window_start = models.DateTimeField(_("window started at"), null=True, blank=True)
    window_failures = models.PositiveIntegerField(_("failed log-ins in the window"), default=0)
    window_threshold = models.PositiveIntegerField(_("threshold of the window"), default=0)
    window_breaker = models.BooleanField(_("breaker on during the window"), default=False)
    tripped_at = models.DateTimeField(_("on since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("last ended at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("last ended by")
    )

    class Meta:
        verbose_name = _("log-in breaker")
        verbose_name_plural = _("log-in breaker")

    def __str__(self) -> str:
        return str(_("log-in breaker"))


class LoginFailureWindow(models.Model):
    """One closed one-hour window of site-wide failed log-ins: the history that says what "usual" is."""

    started_at = models.DateTimeField(_("started at"), db_index=True)
    failures = models.PositiveIntegerField(_("failed log-ins"))
    breaker_on = models.BooleanField(
        _("breaker on"), default=False, help_text=_("Windows of an attack are not part of the usual rate.")
    )

    class Meta:
        verbose_name = _("hour of failed log-ins")
        verbose_name_plural = _("hours of failed log-ins")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.failures}"


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
        ACCOUNT_RECOVERY = "account_recovery", _("User ID and password recovery")
        ACCOUNT_EMAIL = "account_email", _("Password reset or address confirmation")
        REGISTRATION_EXPIRED = "registration_expired", _("Registration request expired")
        SLOT_FREE = "slot_free", _("A watched slot became free")
        CONFIRMED = "confirmed", _("Booking confirmed")
        ACCOUNT_EXPIRING = "account_expiring", _("Registration expiring")
        LOTTERY_RESULT = "lottery_result", _("Lottery results")
        ACCESS_REVOKED = "access_revoked", _("API tokens or calendar addresses stopped working")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notices",
        verbose_name=_("user"),
    )
    municipality = models.ForeignKey(
        "facilities.Municipality",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    key = models.CharField(_("event"), max_length=120, unique=True)
    email = models.EmailField(
        _("sent to"),
        blank=True,
        help_text=_("Empty: the user has no e-mail address; the notice is shown on the portal only."),
    )
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    # The message in every language of the site, rendered when the notice is written (issue #21 item 8), so the
    # notifications page shows it in the reader's language: {"ja": {"subject": …, "body": …}, "en": {…}}. The
    # e-mail is ``subject``/``body`` (the user's language). A notice written before this field has only its own
    # language: NULL (migration 0017 adds the column nullable, so the previous release keeps writing).
    texts = models.JSONField(_("texts by language"), null=True, blank=True)
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

    def in_language(self, language: str | None = None) -> tuple[str, str, str]:
        """(subject, body, language) for a reader of ``language`` (default: the active one): that language's text
        when the notice has it, else the text it was e-mailed in."""
        language = (language or translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
        text = (self.texts or {}).get(language)
        if text:
            return text.get("subject", self.subject), text.get("body", self.body), language
        return self.subject, self.body, self.language

    @property
    def shown(self) -> dict:
        """The notice in the reader's language, for templates: ``shown.subject``, ``shown.body``, ``shown.language``."""
        subject, body, language = self.in_language()
        return {"subject": subject, "body": body, "language": language}


# The audit log (issue #6, item 5) -----------------------------------------------------------------------------


class AuditEntryQuerySet(models.QuerySet):
    # A queryset's update() and delete() skip save() and delete(): refuse them too, so nothing in the code base
    # can rewrite history by accident. (On PostgreSQL a trigger refuses it for any client: migration 0008.)
    def update(self, **kwargs):
        raise AuditEntryImmutable(_("Audit entries cannot be changed."))

    def delete(self):
        raise AuditEntryImmutable(_("Audit entries cannot be deleted."))

    def of(self, municipality):
        return self.filter(municipality=municipality)


class AuditEntryImmutable(Exception):
    """Someone tried to change or delete an audit entry."""


class AuditEntry(models.Model):
    """One staff action on a resident's data: who, what, when, before/after. Written by ``accounts.audit.record``
    inside the action's own transaction (a rolled-back action leaves no entry), never changed or deleted.

    Labels (``actor_label``, ``target_label``) are copies taken at the time, so the entry still reads right after
    a name changes. Users, municipalities and content types it points to are PROTECTed: an audited account is
    withdrawn (deactivated), not deleted.
    """

    at = models.DateTimeField(_("when"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_actions",
        verbose_name=_("who"),
        help_text=_("Empty: the system (a scheduled job)."),
    )
    actor_label = models.CharField(_("who (at the time)"), max_length=200)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    municipality = models.ForeignKey(
        "facilities.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("whose data"),
    )
    target_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kind of record"),
    )
    target_id = models.CharField(_("record id"), max_length=64, blank=True)
    target_label = models.CharField(_("record"), max_length=200, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.TextField(_("reason"), blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["municipality", "-at"], name="audit_municipality_recent")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label}: {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AuditEntryImmutable(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable(_("Audit entries cannot be deleted."))


# Registrations (issue #6, item 1) -------------------------------------------------------------------------------


class IdentityDocument(models.TextChoices):
    """The *type* of document staff looked at (K-REG-2, S-REG-1, T-REG-2/3): never the document or its number."""

    DRIVERS_LICENSE = "drivers_license", _("Driver's license")
    HEALTH_INSURANCE = "health_insurance", _("Health insurance card")
    MY_NUMBER = "my_number", _("My Number card")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    STUDENT_ID = "student_id", _("Student ID")
    OTHER = "other", _("Other official document")


class RegistrationQuerySet(models.QuerySet):
    def of(self, municipality):
        return self.filter(municipality=municipality)

    def pending(self):
        return self.filter(status=Registration.Status.PENDING)

    def overdue_requests(self, now):
        """Pending online requests whose time to show an identity document has run out (S-REG-1)."""
        return self.pending().filter(requested_online=True, expires_at__lte=now)

    def duplicates_to_review(self):
        return (
            self.filter(possible_duplicates__isnull=False, duplicates_reviewed_at__isnull=True)
            .exclude(
                status__in=[Registration.Status.REJECTED, Registration.Status.WITHDRAWN, Registration.Status.EXPIRED]
            )
            .distinct()
        )


class Registration(models.Model):
    """What was checked and recorded when an account was registered, per the municipality's profile
    (accounts/registering.py): Kodaira's group eligibility (K-REG-2), Shiroi's birth date, guardian's consent and
    student-ID check (S-REG-1/2), Tamba's card number (T-REG-1/2). One per resident account."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Requested online, identity not checked yet")
        ACTIVE = "active", _("Registered")
        REJECTED = "rejected", _("Request refused")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Request expired: identity not checked in time")

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="registration", verbose_name=_("account"))
    municipality = models.ForeignKey(
        "facilities.Municipality", on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    requested_online = models.BooleanField(_("requested online"), default=False)
    created_at = models.DateTimeField(_("registered or requested at"))
    expires_at = models.DateTimeField(
        _("request expires at"),
        null=True,
        blank=True,
        help_text=_(
            "S-REG-1: an online request not checked at the counter by then expires "
            "(accounts.jobs.expire_registration_requests)."
        ),
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )
    person_name = models.CharField(
        _("name of the person"),
        max_length=150,
        help_text=_("The representative of a group, else the registered person."),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    identity_document = models.CharField(
        _("identity document checked"), max_length=30, choices=IdentityDocument.choices, blank=True
    )
    identity_checked_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    identity_checked_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("identity checked by"),
    )
    # K-REG-2 (groups)
    member_count = models.PositiveIntegerField(_("members"), null=True, blank=True)
    resident_member_count = models.PositiveIntegerField(
        _("members who live, work or study here"), null=True, blank=True
    )
    representative_is_resident = models.BooleanField(
        _("representative lives, works or studies here"), null=True, blank=True
    )
    monthly_fee = models.PositiveIntegerField(
        _("membership fee a month (yen, instructor fees included)"), null=True, blank=True
    )
    # S-REG-1/2 (individuals)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    guardian_name = models.CharField(_("guardian who consented"), max_length=150, blank=True)
    guardian_consent_at = models.DateTimeField(_("guardian's consent recorded at"), null=True, blank=True)
    student_id_checked_at = models.DateTimeField(_("student ID checked at"), null=True, blank=True)
    # T-REG-1/2 (cards)
    card_number = models.CharField(_("card number"), max_length=40, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("replaces the withdrawn registration"),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawal_reason = models.CharField(_("reason of withdrawal"), max_length=200, blank=True)
    # Duplicate-registration guard (issue #6 item 6)
    possible_duplicates = models.ManyToManyField(
        User,
        blank=True,
        related_name="+",
        verbose_name=_("possible duplicates"),
        help_text=_("Active accounts of the municipality with the same name, phone or address, found at registration."),
    )
    duplicates_reviewed_at = models.DateTimeField(_("duplicates reviewed at"), null=True, blank=True)
    duplicates_reviewed_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("duplicates reviewed by"),
    )

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            # A card number is never given to two registrations of a municipality, lost cards included (T-REG-2).
            models.UniqueConstraint(
                fields=["municipality", "card_number"],
                condition=~Q(card_number=""),
                name="registration_card_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.get_status_display()})"

    @property
    def request_last_minute(self):
        """The last minute in which staff may still approve an online request (S-REG-1); None without expiry."""
        return self.expires_at - dt.timedelta(minutes=1) if self.expires_at else None


class FamilyProxy(models.Model):
    """A family member who may pay or book at the counter for the registered user (S-REG-5), recorded on the account."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="family_proxies", verbose_name=_("account"))
    name = models.CharField(_("name"), max_length=150)
    relation = models.CharField(_("relation"), max_length=60, help_text=_("e.g. mother, spouse."))
    added_at = models.DateTimeField(_("added at"))
    added_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("added by")
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("family proxy")
        verbose_name_plural = _("family proxies")

    def __str__(self) -> str:
        return f"{self.name} ({self.relation})"
