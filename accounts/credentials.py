"""What stands in for the password: personal API tokens (``accounts.ApiToken``) and calendar-feed keys
(``reservations.CalendarFeed``). Whoever holds one reads the account's bookings (the feed) or acts as the account
(the API) without the password, so they must not outlive the events that take the account away from a holder:

- the password changes: by the user (allauth's change page), by the link e-mailed for a reset (allauth's
  reset-from-key; the T-REG-4 recovery mail leads there too), by a clerk at the counter (K-REG-4) or in the admin;
- a new card is issued (T-REG-2: the old account is withdrawn);
- the account is withdrawn or deactivated (the counter's duplicate review, the admin);
- the registration expires (K-REG-3, S-REG-3, T-REG-1): token and feed look-ups refuse it from the first day after
  the last valid day, and the daily job ``revoke_expired_registrations`` revokes them and tells the user.

``revoke_access`` is the one function those flows call, inside their own transaction: it revokes every credential
that still works, writes one audit entry and one notice (``access_revoked``: which ones stopped, why, what to do).
``set_password`` is the use case "a new password" (save it, lift the log-in throttle, revoke): the flows call it
instead of ``User.set_password`` + ``save``.

Layering: ``reservations`` sits above ``accounts``, which must not import it. Credential models therefore register
themselves here (``register``): accounts registers ``ApiToken`` below, reservations registers ``CalendarFeed`` in
``ReservationsConfig.ready``. A registered model has a ``user`` foreign key, ``revoked_at`` and ``revoked_reason``,
``objects.usable(now)`` (works at ``now``) and the properties ``notice_label`` and ``page_path``.

Creating a credential asks for the password again when the log-in is older than
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` (allauth's reauthentication; ``reauthentication_needed``), and happens under
the account's row lock (``lock_for_new_credential``), so that a credential is never created for an account whose
password changed, or that was withdrawn or expired, while the request was on its way.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _

from config import clock

from . import audit, throttle
from .models import ApiToken, Notice, Revocation, User
from .notify import notify

_REVOCABLE: list = []


def register(model) -> None:
    """Make ``model``'s rows credentials of their user (see the module's docstring for what it must have)."""
    if model not in _REVOCABLE:
        _REVOCABLE.append(model)


register(ApiToken)


class CredentialRefused(Exception):
    """A new token or feed key that cannot be created now; ``message`` says why, in the request's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Revoking ---------------------------------------------------------------------------------------------------


def revoke_access(user: User, *, reason: str, by: User | None = None, tell: User | None = None) -> list:
    """Revoke every API token and calendar-feed key of ``user`` that works now, for ``reason`` (a
    ``models.Revocation``), and tell ``tell`` (default: ``user``; after a card re-issue the new account, where the
    person reads their notices) with one notice, e-mailed when they have an address. ``by``: who acted (None: the
    system), for the audit log. Nothing revoked (no working credential): no notice, no audit entry. Returns the
    revoked rows.

    Runs in the caller's transaction (a savepoint of it when there is one), with the user's row locked: a token or
    key being created at the same moment (``lock_for_new_credential``) is either refused or revoked here."""
    now = clock.now()
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        revoked = []
        for model in _REVOCABLE:
            rows = list(model.objects.select_for_update().filter(user=user).usable(now).order_by("pk"))
            model.objects.filter(pk__in=[row.pk for row in rows]).update(revoked_at=now, revoked_reason=reason)
            for row in rows:
                row.revoked_at, row.revoked_reason = now, reason
            revoked += rows
        if revoked:
            ids = {}
            for row in revoked:
                ids.setdefault(row._meta.model_name, []).append(row.pk)
            audit.record(by, "access.revoke", user, after=ids, reason=reason)
            _tell(tell or user, account=user, revoked=revoked, reason=reason, at=now)
    return revoked


def _tell(recipient: User, *, account: User, revoked: list, reason: str, at: dt.datetime) -> None:
    # One notice per event: the revoked rows make the key (a row is revoked once), so a job that runs again or a
    # flow retried tells nobody twice.
    rows = ",".join(f"{row._meta.label_lower}:{row.pk}" for row in revoked)
    digest = hashlib.sha256(rows.encode()).hexdigest()[:32]
    pages = list(dict.fromkeys(row.page_path for row in revoked))
    notify(
        recipient,
        kind=Notice.Kind.ACCESS_REVOKED,
        key=f"access_revoked:{account.pk}:{digest}",
        template="access_revoked",
        municipality=account.municipality,
        context={
            "account": account,
            "revoked": revoked,
            "reason": reason,
            "at": clock.localtime(at),
            "pages": pages,
            "rule": _rule_id(account, reason),
            "renamed": recipient.pk != account.pk,
        },
    )


def _rule_id(user: User, reason: str) -> str:
    """The rule the event follows, for the notice: the profile's card re-issue or registration rule id."""
    from facilities.models import RuleProfile

    profile = RuleProfile.objects.filter(municipality_id=user.municipality_id).first()
    if profile is None:
        return ""
    if reason == Revocation.CARD_REISSUED:
        return profile.card_reissue_rule_id or "T-REG-2"
    if reason == Revocation.REGISTRATION_EXPIRED:
        return profile.registration_rule_id
    return ""


# A new password ---------------------------------------------------------------------------------------------


def set_password(user: User, password: str, *, reason: str, by: User | None = None) -> None:
    """A new password for ``user`` (K-REG-4 at the counter, allauth's change and reset pages): saved, the log-in
    throttle lifted and the account's tokens and feed keys revoked, in one transaction."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        password_changed(user, reason=reason, by=by)


def password_changed(user: User, *, reason: str, by: User | None = None) -> None:
    """What follows a new password that was already saved (the Django admin's password form saves it itself):
    a new password starts an attacker's search over, so the account's log-in throttle is lifted
    (accounts/throttle.py), and whoever held a token or a feed key made with the old one loses it."""
    with transaction.atomic():
        throttle.lift_account_block(user)
        revoke_access(user, reason=reason, by=by)


# Expired registrations (K-REG-3, S-REG-3, T-REG-1) ----------------------------------------------------------


def revoke_expired_registrations(today: dt.date | None = None) -> int:
    """The daily job: revoke the working tokens and feed keys of active accounts whose last valid day is before
    ``today`` (Japan time), and tell them. The look-ups refuse such credentials already (``User.is_valid_on``);
    this makes it final: they do not come back when the registration is renewed. A group that continues by
    K-REG-3's rolling renewal is left alone (the 00:01 job extends it). Idempotent: revoked rows are not
    "usable" any more, so a second run finds nobody. Returns the number of accounts told."""
    today = today or clock.today()
    now = clock.now()
    candidates = set()
    for model in _REVOCABLE:
        candidates |= set(
            model.objects.usable(now)
            .filter(user__is_active=True, user__valid_until__lt=today)
            .values_list("user_id", flat=True)
        )
    told = 0
    for pk in sorted(candidates):
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=pk)
            if not user.is_active or user.is_valid_on(today) or _continues_by_rolling_renewal(user, now):
                continue  # renewed, withdrawn or extended since the query
            told += bool(revoke_access(user, reason=Revocation.REGISTRATION_EXPIRED))
    return told


def _continues_by_rolling_renewal(user: User, now: dt.datetime) -> bool:
    from facilities.models import RuleProfile

    from . import registration

    profile = RuleProfile.objects.filter(municipality_id=user.municipality_id).first()
    return bool(profile and profile.rolling_renewal_when_used and registration.used_within_period(user, profile, now))


# Creating a credential --------------------------------------------------------------------------------------


def lock_for_new_credential(user: User) -> User:
    """Call inside the transaction that creates a token or feed key for ``user`` (the request's user): locks the
    account's row and refuses, with a sentence, when the account can no longer have one — withdrawn, its
    registration not valid today, or its password changed after this request's session was checked (the session
    is then about to end: Django ends the sessions of an old password)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if not locked.is_active:
        raise CredentialRefused(_("This account is no longer active."))
    if locked.password != user.password:
        raise CredentialRefused(_("Your password was changed meanwhile. Please log in again."))
    today = clock.today()
    if not locked.is_valid_on(today):
        until = formats.date_format(locked.valid_until, "DATE_FORMAT") if locked.valid_until else ""
        raise CredentialRefused(
            _(
                "Your registration is not valid today (valid until %(date)s). API tokens and calendar addresses work "
                "again after it is renewed at a counter."
            )
            % {"date": until}
        )
    return locked


def issue_token(user: User, *, name: str, lifetime: dt.timedelta) -> tuple[ApiToken, str]:
    """A new API token for the logged-in ``user`` (the tokens page); CredentialRefused when it cannot have one."""
    with transaction.atomic():
        locked = lock_for_new_credential(user)
        return ApiToken.objects.issue(user=locked, name=name, lifetime=lifetime)


# Reauthentication -------------------------------------------------------------------------------------------

LOGGED_IN_AT_SESSION_KEY = "accounts.logged_in_at"


def remember_login_time(sender, request, user, **kwargs) -> None:
    """Connected to Django's ``user_logged_in`` (AccountsConfig.ready): every log-in — allauth's form, its MFA
    step, a reset that logs in — ends in ``django.contrib.auth.login``, which sends it."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGGED_IN_AT_SESSION_KEY] = clock.now().timestamp()


MFA_SET_UP_AT_SESSION_KEY = "accounts.mfa_set_up_at"


def reauthentication_needed(request) -> bool:
    """For the account adapter's ``is_reauthentication_required``: True when this session's log-in is at least
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds old. allauth then asks for the password (or PIN) unless the
    user reauthenticated within that time; its own check counts only reauthentications, not the log-in itself.

    Two steps right after a log-in count it as recent for longer (issue #22 item 5: no second password prompt):
    the first TOTP set-up that the policy requires (``YOYAKU_MFA_SETUP_MINUTES`` from the log-in: scanning a QR
    code with a new app takes longer than five minutes), and the recovery codes shown once TOTP is active (for
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` from the set-up, whose code was typed seconds ago). Everything later (a
    token, a feed key, changing or removing a factor) asks again."""
    logged_in_at = request.session.get(LOGGED_IN_AT_SESSION_KEY)
    if logged_in_at is None:
        return True
    now = clock.now().timestamp()
    if now - logged_in_at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT:
        return False
    from accounts.middleware import lacks_required_mfa

    user = getattr(request, "user", None)
    if (
        user is not None
        and user.is_authenticated
        and now - logged_in_at < settings.YOYAKU_MFA_SETUP_MINUTES * 60
        and lacks_required_mfa(user)
    ):
        return False
    set_up_at = request.session.get(MFA_SET_UP_AT_SESSION_KEY)
    return set_up_at is None or now - set_up_at >= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def connect_signals() -> None:
    user_logged_in.connect(remember_login_time, dispatch_uid="accounts.credentials.remember_login_time")
