"""Registration renewal and expiry (issue #6 item 2: K-REG-3, S-REG-3, T-REG-1). The rules are in
``accounts/registration.py`` (pure reads); these functions write, each change in a transaction with the user row
locked, so a clerk's renewal and the daily jobs (accounts/jobs.py) never overwrite each other.

- ``renew``: a clerk renews a registration at the counter; refused with the rule id (T-REG-1: not before 3
  months before expiry).
- ``apply_rolling_renewals``: K-REG-3, a group whose validity ends today or earlier and that booked and used a
  room within its period continues for another year. Idempotent.
- ``send_expiry_notices``: an e-mail 30 days before the last valid day, once per validity end
  (``User.expiry_notice_sent_for``), to users with an address.
"""

import datetime as dt
import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _

from config import clock
from facilities.models import RuleProfile

from . import audit, notify, registration
from .models import Notice

logger = logging.getLogger(__name__)


class RenewalError(Exception):
    """A renewal that was refused; ``refusals`` say why, each with its rule id (reservations.rules.Refusal)."""

    def __init__(self, refusals):
        super().__init__("; ".join(f"{r.code}: {r.message}" for r in refusals))
        self.refusals = refusals


def _staff_refusal(staff, user):
    from reservations.rules import staff_refusal

    if staff is not None and staff.is_superuser and staff.municipality_id is None:  # an operator
        return None
    return staff_refusal(staff, user.municipality_id)  # the one staff check (reservations.rules)


def renew(user, staff, today: dt.date | None = None):
    """Renew ``user``'s registration at the counter on ``today`` (Japan time); returns the updated user.

    Raises RenewalError with the rule id (the profile's ``renewal_rule_id``) when renewal is not possible yet.
    """
    today = today or clock.today()
    User = get_user_model()
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        refusal = _staff_refusal(staff, locked)
        if refusal is None:
            profile = RuleProfile.objects.filter(municipality_id=locked.municipality_id).first()
            if profile is None:
                from reservations.rules import no_profile_refusal

                refusal = no_profile_refusal()
            else:
                refusal = registration.renewal_refusal(locked, profile, today)
        if refusal is not None:
            raise RenewalError([refusal])
        before = locked.valid_until
        locked.valid_until = registration.renewed_until(locked, profile, today)
        locked.save(update_fields=["valid_until"])  # valid_from stays the first registration day
        audit.record(
            staff,
            "registration.renew",
            locked,
            before={"valid_until": before},
            after={"valid_until": locked.valid_until},
            reason=profile.renewal_rule_id,
        )
    logger.info(
        "registration %s renewed by %s on %s: valid until %s (was %s)",
        locked.pk,
        staff.pk,
        today,
        locked.valid_until,
        before,
    )
    user.valid_until = locked.valid_until
    return locked


def apply_rolling_renewals(today: dt.date | None = None) -> int:
    """K-REG-3: extend by a year, as often as the rule allows, every registration of a rolling-renewal profile
    whose validity ends today or earlier and that booked and used a room within the period ending on its last
    valid day. Returns the number of registrations extended; a second run extends nothing."""
    today = today or clock.today()
    now = clock.now()
    User = get_user_model()
    extended = 0
    profiles = RuleProfile.objects.filter(rolling_renewal_when_used=True).exclude(validity_kind="")
    for profile in profiles:
        due = (
            User.objects.filter(municipality_id=profile.municipality_id, valid_until__lte=today, is_active=True)
            .exclude(account_kind=User.AccountKind.STAFF)
            .values_list("pk", flat=True)
        )
        for pk in list(due):
            with transaction.atomic():
                user = User.objects.select_for_update().get(pk=pk)
                before = user.valid_until
                while user.valid_until <= today and registration.used_within_period(user, profile, now):
                    user.valid_until = registration.add_years(
                        user.valid_until + dt.timedelta(days=1), 1
                    ) - dt.timedelta(days=1)
                if user.valid_until != before:
                    user.save(update_fields=["valid_until"])
                    audit.record(
                        None,
                        "registration.rolling_renewal",
                        user,
                        before={"valid_until": before},
                        after={"valid_until": user.valid_until},
                        reason=profile.renewal_rule_id or "K-REG-3",
                    )
                    extended += 1
                    logger.info("registration %s continues until %s (K-REG-3 rolling renewal)", pk, user.valid_until)
    return extended


def expiry_notice_text(user, profile: RuleProfile | None) -> tuple[str, str]:
    """Subject and body of the expiry e-mail, in the active language."""
    until = formats.date_format(user.valid_until, "DATE_FORMAT")
    subject = _("[Yoyaku] Your registration expires on %(date)s") % {"date": until}
    lines = [
        _("Dear %(name)s,") % {"name": str(user)},
        "",
        _(
            "Your registration (user ID %(username)s) with %(municipality)s is valid until %(date)s. "
            "From the next day you can still log in and see your bookings, but you cannot book or apply for the "
            "lottery until it is renewed."
        )
        % {
            "username": user.get_username(),
            "municipality": user.municipality.name if user.municipality else "",
            "date": until,
        },
    ]
    if profile is not None and profile.rolling_renewal_when_used:
        lines.append(
            _(
                "If your group books and uses a room before then, the registration continues for another "
                "year by itself (%(rule)s)."
            )
            % {"rule": profile.registration_rule_id or profile.renewal_rule_id}
        )
    opens = registration.renewal_opens_on(user, profile) if profile is not None else None
    if opens is not None:
        lines.append(
            _("You can renew it at a counter from %(date)s.") % {"date": formats.date_format(opens, "DATE_FORMAT")}
        )
    else:
        lines.append(_("You can renew it at a counter."))
    return subject, "\n".join(lines) + "\n"


def send_expiry_notices(today: dt.date | None = None) -> int:
    """Tell users with an address whose last valid day is 30 days away or less (and not past), once per last
    valid day: the row is locked and marked and the notice stored in one transaction; the outbox e-mails it after
    commit (and retries). Groups that will continue by rolling renewal (K-REG-3) are not told. Returns the
    number of notices."""
    from accounts.throttle import user_language

    today = today or clock.today()
    now = clock.now()
    User = get_user_model()
    due = (
        User.objects.filter(
            valid_until__gte=today,
            valid_until__lte=today + dt.timedelta(days=registration.NOTICE_DAYS_BEFORE),
            is_active=True,
            municipality__isnull=False,
        )
        .exclude(account_kind=User.AccountKind.STAFF)
        .exclude(email="")
        .values_list("pk", flat=True)
    )
    profiles = {}
    sent = 0
    for pk in list(due):
        try:
            with transaction.atomic():
                user = User.objects.select_for_update(of=("self",)).select_related("municipality").get(pk=pk)
                if user.expiry_notice_sent_for == user.valid_until or not user.email or user.valid_until is None:
                    continue
                if user.municipality_id not in profiles:
                    profiles[user.municipality_id] = RuleProfile.objects.filter(
                        municipality_id=user.municipality_id
                    ).first()
                profile = profiles[user.municipality_id]
                if profile is None or not profile.validity_kind:
                    continue
                if profile.rolling_renewal_when_used and registration.used_within_period(user, profile, now):
                    continue  # K-REG-3: it will continue; no need to worry the group
                language = user_language(user)
                with translation.override(language):
                    subject, body = expiry_notice_text(user, profile)
                user.expiry_notice_sent_for = user.valid_until
                user.save(update_fields=["expiry_notice_sent_for"])
                # Through the outbox (issue #8 item 4): on the notifications page too, sent after commit and
                # retried by accounts.deliver_notices; once per last valid day.
                notify.record(
                    user,
                    kind=Notice.Kind.ACCOUNT_EXPIRING,
                    key=f"expiring:{user.pk}:{user.valid_until}",
                    subject=subject,
                    body=body,
                    email=user.email,
                    language=language,
                    texts=notify.in_every_language(
                        lambda user=user, profile=profile: expiry_notice_text(user, profile)
                    ),
                )
                sent += 1
        except Exception:
            logger.exception("expiry notice to user %s not sent; retried by the next run", pk)
    return sent
