"""Registration writes (issue #6, items 1, 4 and 6), each in one transaction with its audit entry (accounts/audit.py).

What varies between municipalities is read from the rule profile (``registration_kind``, the K-REG-2 numbers,
``min_school_grade``, ``card_numbers`` …); the checks themselves are ``accounts/rules.py``. Views validate with
the forms first; these functions check again what must never be skipped (who acts, the profile's rules) and raise
``RegistrationRefused`` with the rule ids.

- ``register``: counter staff register an account (K-REG-1 groups, S-REG-1 individuals, T-REG-1 card holders);
  the system assigns the user ID.
- ``request_online`` / ``approve`` / ``reject``: S-REG-1, an online request stays pending (account inactive) until
  staff check the identity at the counter.
- ``reissue_card``: T-REG-2, a lost or damaged card withdraws the registration and issues a new one (new ID); the
  person's bookings, applications and open claims move to the new account in the same transaction (``carry_over``).
- ``expire_requests``: S-REG-1, an online request whose identity was not checked at the counter in time
  (``REQUEST_DAYS``) expires; the requester is told by e-mail (the daily job in accounts/jobs.py).
- ``reset_password``: K-REG-4, the counter re-registers the PIN or password (which lifts the log-in throttle and
  revokes the account's API tokens and calendar-feed keys).
- ``change_details``: T-REG-3, name, address, phone and e-mail changed at the counter.
- ``add_proxy`` / ``remove_proxy``: S-REG-5 family proxies.
- ``review_duplicates``: item 6, staff clear a flagged registration or withdraw it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config import clock
from facilities.models import ACTIVE_STATES, RuleProfile

from . import audit, credentials, rules
from .models import FamilyProxy, Notice, Registration, Revocation, User
from .notify import notify
from .registration import validity_until

# S-REG-1: an online request waits this many days (counted from the day after the request, Japan time) for the
# identity check at the counter; it expires at 00:00 of the next day. No rule profile field holds this number (the
# profiles are another app's; the rules give no figure), so it is a setting: YOYAKU_REGISTRATION_REQUEST_DAYS.
REQUEST_DAYS_DEFAULT = 30


def request_days() -> int:
    return int(getattr(settings, "YOYAKU_REGISTRATION_REQUEST_DAYS", REQUEST_DAYS_DEFAULT))


def request_expires_at(requested_at: dt.datetime) -> dt.datetime:
    """The first instant an online request made at ``requested_at`` is expired: 00:00 Japan time after the last
    day. Requested on 2027-05-10 (any time) with 30 days: the counter may approve it until 2027-06-09 23:59."""
    last_day = clock.localtime(requested_at).date() + dt.timedelta(days=request_days())
    return clock.at(last_day + dt.timedelta(days=1), dt.time(0))


USER_FIELDS = [
    "username",
    "display_name",
    "email",
    "phone",
    "residency",
    "fee_category",
    "valid_from",
    "valid_until",
    "is_active",
    "language",
]
REGISTRATION_FIELDS = [
    "status",
    "person_name",
    "address",
    "identity_document",
    "member_count",
    "resident_member_count",
    "representative_is_resident",
    "monthly_fee",
    "birth_date",
    "guardian_name",
    "guardian_consent_at",
    "student_id_checked_at",
    "card_number",
    "withdrawn_at",
    "withdrawal_reason",
]


class RegistrationRefused(Exception):
    def __init__(self, problems: list[rules.Problem]):
        super().__init__("; ".join(f"{p.rule_id}: {p.message}" for p in problems))
        self.problems = problems


def profile_of(municipality) -> RuleProfile:
    return RuleProfile.objects.get(municipality=municipality)


def state(user: User) -> dict:
    """The audited picture of an account: its user fields and its registration's."""
    facts = audit.snapshot(user, USER_FIELDS)
    registration = Registration.objects.filter(user=user).first()
    if registration is not None:
        facts["registration"] = audit.snapshot(registration, REGISTRATION_FIELDS)
    return facts


def _require_staff(staff, municipality_id) -> None:
    if staff is None or not staff.is_clerk_of(municipality_id):
        raise RegistrationRefused([rules.Problem("staff_only", None, _("Only staff of the municipality can do this."))])


def new_user_id(municipality) -> str:
    """K-REG-1: the system assigns the user ID: the municipality's name and 6 random digits (not a count of
    registrations, which would tell how many there are)."""
    while True:
        username = f"{municipality.slug}-{secrets.randbelow(900_000) + 100_000}"
        if not User.objects.filter(username__iexact=username).exists():
            return username


def _check(profile, data: dict, today) -> None:
    problems = []
    if profile.registration_kind == User.AccountKind.GROUP:
        problems += rules.group_problems(
            profile,
            member_count=data["member_count"],
            resident_member_count=data["resident_member_count"],
            representative_is_resident=data["representative_is_resident"],
            monthly_fee=data["monthly_fee"],
        )
    if data.get("birth_date") and profile.min_school_grade is not None:
        problems += rules.individual_problems(
            profile, birth_date=data["birth_date"], guardian_consent=bool(data.get("guardian_name")), today=today
        )
    if problems:
        raise RegistrationRefused(problems)


def _flag_duplicates(registration: Registration) -> list[int]:
    user = registration.user
    matches = rules.find_duplicates(
        registration.municipality,
        names=[user.display_name, registration.person_name],
        phone=user.phone,
        address=registration.address,
        exclude_user_ids=[user.pk],
    )
    registration.possible_duplicates.set(matches)
    return matches


def _create_account(profile, data: dict, *, is_active: bool, today) -> User:
    user = User(
        username=new_user_id(profile.municipality),
        municipality=profile.municipality,
        account_kind=profile.registration_kind,
        display_name=data["display_name"],
        phone=data.get("phone", ""),
        email=data.get("email", ""),
        residency=data.get("residency") or User.Residency.RESIDENT,
        fee_category=rules.fee_category(data.get("birth_date"), bool(data.get("student_id_checked")), today)
        if profile.registration_kind == User.AccountKind.INDIVIDUAL
        else User.FeeCategory.GENERAL,
        language=data.get("language") or "ja",
        is_active=is_active,
    )
    if is_active:
        user.valid_from, user.valid_until = today, validity_until(profile, today)
    user.set_password(data["password"])
    user.save()
    return user


def _registration_fields(profile, data: dict, now) -> dict:
    fields = {
        "person_name": data.get("person_name") or data["display_name"],
        "address": data.get("address", ""),
        "identity_document": data.get("identity_document", ""),
        "card_number": data.get("card_number", ""),
    }
    if profile.registration_kind == User.AccountKind.GROUP:
        fields |= {
            k: data[k] for k in ("member_count", "resident_member_count", "representative_is_resident", "monthly_fee")
        }
    if data.get("birth_date"):
        fields["birth_date"] = data["birth_date"]
    if data.get("guardian_name"):
        fields |= {"guardian_name": data["guardian_name"], "guardian_consent_at": now}
    if data.get("student_id_checked"):
        fields["student_id_checked_at"] = now
    return fields


def register(staff, municipality, data: dict, *, action: str = "registration.create", replaces=None) -> User:
    """Register an account at the counter from a counter form's ``cleaned_data``; returns the new, active user."""
    _require_staff(staff, municipality.pk)
    profile = profile_of(municipality)
    if not profile.registration_kind:
        raise RegistrationRefused(
            [rules.Problem("no_registration", None, _("This municipality registers no accounts on the portal."))]
        )
    today, now = clock.today(), clock.now()
    _check(profile, data, today)
    try:
        with transaction.atomic():
            user = _create_account(profile, data, is_active=True, today=today)
            registration = Registration.objects.create(
                user=user,
                municipality=municipality,
                status=Registration.Status.ACTIVE,
                created_at=now,
                created_by=staff,
                identity_checked_at=now,
                identity_checked_by=staff,
                replaces=replaces,
                **_registration_fields(profile, data, now),
            )
            duplicates = _flag_duplicates(registration)
            audit.record(
                staff,
                action,
                user,
                after=state(user) | {"possible_duplicates": duplicates},
                reason=data.get("note", ""),
            )
    except IntegrityError:
        raise RegistrationRefused(
            [
                rules.Problem(
                    profile.account_rule_id or "card_number",
                    "card_number",
                    _("This card number is already registered."),
                )
            ]
        ) from None
    return user


def request_online(municipality, data: dict) -> Registration:
    """S-REG-1: a person asks for a registration online. The account exists but is inactive (cannot log in)
    until staff check the identity at the counter (``approve``)."""
    profile = profile_of(municipality)
    if not profile.online_registration_requests:  # K-REG-1 (made only at a center's counter), T-REG-1 (card)
        raise RegistrationRefused(
            [
                rules.Problem(
                    profile.account_rule_id or "no_online_requests",
                    None,
                    _("Registration is made at the counter here."),
                )
            ]
        )
    today, now = clock.today(), clock.now()
    if data.get("birth_date") and profile.min_school_grade is not None:
        # The guardian's consent is recorded at the counter; only the age is checked now (S-REG-1).
        problems = list(
            rules.individual_problems(profile, birth_date=data["birth_date"], guardian_consent=True, today=today)
        )
        if problems:
            raise RegistrationRefused(problems)
    with transaction.atomic():
        user = _create_account(profile, data | {"student_id_checked": False}, is_active=False, today=today)
        registration = Registration.objects.create(
            user=user,
            municipality=municipality,
            status=Registration.Status.PENDING,
            requested_online=True,
            created_at=now,
            expires_at=request_expires_at(now),
            person_name=data["display_name"],
            address=data.get("address", ""),
            birth_date=data.get("birth_date"),
        )
        _flag_duplicates(registration)
    return registration


def approve(staff, registration: Registration, data: dict) -> User:
    """S-REG-1: the person is at the counter; staff checked the identity document, and record the guardian's
    consent (S-REG-2), the student ID and the residency class (S-REG-4). The account becomes active and valid."""
    _require_staff(staff, registration.municipality_id)
    profile = profile_of(registration.municipality)
    today, now = clock.today(), clock.now()
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != Registration.Status.PENDING:
            raise RegistrationRefused([rules.Problem("not_pending", None, _("This request was already handled."))])
        if registration.expires_at is not None and registration.expires_at <= now:
            raise RegistrationRefused([_expired_problem(profile, registration)])
        user = User.objects.select_for_update().get(pk=registration.user_id)
        _check(profile, {"birth_date": registration.birth_date, **data}, today)
        before = state(user)
        for field, value in _registration_fields(
            profile,
            {
                "display_name": user.display_name,
                "address": registration.address,
                "person_name": registration.person_name,
                **data,
            },
            now,
        ).items():
            setattr(registration, field, value)
        registration.status = Registration.Status.ACTIVE
        registration.identity_checked_at, registration.identity_checked_by = now, staff
        registration.save()
        user.is_active = True
        user.residency = data.get("residency") or user.residency
        user.fee_category = rules.fee_category(registration.birth_date, bool(data.get("student_id_checked")), today)
        user.valid_from, user.valid_until = today, validity_until(profile, today)
        user.save()
        audit.record(staff, "registration.approve", user, before=before, after=state(user), reason=data.get("note", ""))
    return user


def reject(staff, registration: Registration, reason: str) -> None:
    _require_staff(staff, registration.municipality_id)
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        if registration.status != Registration.Status.PENDING:
            raise RegistrationRefused([rules.Problem("not_pending", None, _("This request was already handled."))])
        before = state(registration.user)
        registration.status = Registration.Status.REJECTED
        registration.withdrawal_reason = reason
        registration.save(update_fields=["status", "withdrawal_reason"])
        audit.record(
            staff,
            "registration.reject",
            registration.user,
            before=before,
            after=state(registration.user),
            reason=reason,
        )


def _withdraw(staff, registration: Registration, reason: str, action: str) -> User:
    """Withdraw the registration; the account becomes inactive. The caller revokes its tokens and feed keys
    (``credentials.revoke_access``) with the reason it knows (a card re-issue, a duplicate)."""
    user = User.objects.select_for_update().get(pk=registration.user_id)
    before = state(user)
    registration.status = Registration.Status.WITHDRAWN
    registration.withdrawn_at, registration.withdrawal_reason = clock.now(), reason
    registration.save(update_fields=["status", "withdrawn_at", "withdrawal_reason"])
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit.record(staff, action, user, before=before, after=state(user), reason=reason)
    return user


def reissue_card(staff, registration: Registration, data: dict) -> User:
    """T-REG-2: the old registration is withdrawn and a new one issued with a new user ID and card number; the
    details are copied from the old one. What the person still has running moves to the new account in the same
    transaction (``carry_over``), and the old account, now inactive, can neither log in nor be booked for. Its API
    tokens and calendar-feed keys are revoked (not moved: the new account makes new ones), and the person is told
    on the new account."""
    _require_staff(staff, registration.municipality_id)
    profile = profile_of(registration.municipality)
    rule = profile.card_reissue_rule_id or "T-REG-2"
    with transaction.atomic():
        registration = Registration.objects.select_for_update().select_related("user").get(pk=registration.pk)
        if registration.status != Registration.Status.ACTIVE:
            raise RegistrationRefused([rules.Problem(rule, None, _("Only an active registration can get a new card."))])
        old = registration.user
        _withdraw(
            staff,
            registration,
            data.get("reason") or _("card lost or damaged (%(rule)s)") % {"rule": rule},
            "registration.withdraw",
        )
        copied = {
            "display_name": old.display_name,
            "phone": old.phone,
            "email": old.email,
            "residency": old.residency,
            "language": old.language,
            "person_name": registration.person_name,
            "address": registration.address,
            "birth_date": registration.birth_date,
        }
        new = register(
            staff, registration.municipality, copied | data, action="registration.reissue", replaces=registration
        )
        moved = carry_over(old, new)
        audit.record(
            staff,
            "registration.carry_over",
            new,
            before={"user": old.get_username()},
            after={"user": new.get_username(), **moved},
            reason=rule,
        )
        # The old card's API tokens and calendar address stop; the person is told on the new account.
        credentials.revoke_access(old, reason=Revocation.CARD_REISSUED, by=staff, tell=new)
    new.carried_over = moved
    return new


def carry_over(old: User, new: User) -> dict:
    """T-REG-2: move what the person still has running from the withdrawn account ``old`` to ``new``; call it
    inside the re-issue's transaction. Returns the ids moved and kept, for the audit entry and the counter page.

    - bookings not yet ended and still active (provisional, awaiting payment, confirmed): their payment, use
      permit and rain/heat claim hang on the booking and move with it;
    - bookings that ended or were cancelled but still have an open rain/heat claim (S-WX-1: transfer or refund
      still possible): so the new account can use it;
    - lottery applications not withdrawn, of months whose application list is not committed yet;
    - fee exemptions (K-USE-2) still valid today or later.

    Applications already in a committed list stay with the old account: the published list hashes each
    applicant's pseudonym (K-LOT-3), and the draw refuses a list that changed. Their ids are returned as
    ``kept_applications`` and the counter page of the new account lists them; a win of theirs is a booking of
    the old account that the counter can see through the link between the two registrations.
    """
    from fees.models import FeeExemption, WeatherClaim
    from lottery.models import Application, Draw
    from reservations.models import Reservation

    now, today = clock.now(), clock.today()
    running = set(
        Reservation.objects.select_for_update()
        .filter(user=old, state__in=ACTIVE_STATES, ends_at__gt=now)
        .values_list("pk", flat=True)
    )
    claimed = set(
        WeatherClaim.objects.filter(reservation__user=old, transferred_to__isnull=True, refund__isnull=True)
        .filter(refund_until__gte=today)
        .values_list("reservation_id", flat=True)
    )
    bookings = sorted(running | claimed)
    Reservation.objects.filter(pk__in=bookings).update(user=new)

    committed = set(
        Draw.objects.filter(municipality_id=old.municipality_id)
        .exclude(status=Draw.Status.OPEN)
        .values_list("month", flat=True)
    )
    live = Application.objects.select_for_update().filter(user=old, withdrawn_at__isnull=True)
    movable, kept = [], []
    for pk, month in live.values_list("pk", "month"):
        (kept if month in committed else movable).append(pk)
    Application.objects.filter(pk__in=movable).update(user=new)

    exemptions = list(FeeExemption.objects.filter(user=old).exclude(valid_until__lt=today).values_list("pk", flat=True))
    FeeExemption.objects.filter(pk__in=exemptions).update(user=new)
    return {
        "bookings": bookings,
        "applications": sorted(movable),
        "kept_applications": sorted(kept),
        "fee_exemptions": exemptions,
    }


def carried_over(registration: Registration | None) -> dict | None:
    """What the re-issue that created ``registration`` moved from the replaced account (its audit entry)."""
    if registration is None or registration.replaces_id is None:
        return None
    from .models import AuditEntry

    entry = (
        AuditEntry.objects.filter(action="registration.carry_over", subject_id=registration.user_id)
        .order_by("-at", "-id")
        .first()
    )
    return entry.after if entry is not None else None


def _expired_problem(profile, registration: Registration) -> rules.Problem:
    last = clock.localtime(registration.expires_at) - dt.timedelta(minutes=1)
    rule = profile.account_rule_id or "S-REG-1"
    return rules.Problem(
        rule,
        None,
        _(
            "This request expired: the identity had to be checked at the counter by %(last)s (%(rule)s). The person "
            "may ask again."
        )
        % {"last": last.strftime("%Y-%m-%d %H:%M"), "rule": rule},
    )


def expire_requests(now: dt.datetime | None = None) -> int:
    """S-REG-1: online requests still pending at their ``expires_at`` expire (status ``expired``; the account
    stays inactive), audited as the system's action, and the requester is told by e-mail (once per request: the
    outbox key). Idempotent and catching up: every overdue request is handled, whenever the job last ran; a
    request approved or refused meanwhile is left alone (row lock, status checked again). Returns how many."""
    now = now or clock.now()
    expired = 0
    for pk in list(Registration.objects.overdue_requests(now).values_list("pk", flat=True)):
        with transaction.atomic():
            registration = (
                Registration.objects.select_for_update()
                .select_related("user", "municipality")
                .filter(pk=pk, status=Registration.Status.PENDING, expires_at__lte=now)
                .first()
            )
            if registration is None:
                continue
            user = registration.user
            profile = RuleProfile.objects.filter(municipality_id=registration.municipality_id).first()
            rule = (profile.account_rule_id if profile else "") or "S-REG-1"
            before = state(user)
            registration.status = Registration.Status.EXPIRED
            registration.save(update_fields=["status"])
            audit.record(None, "registration.expire", user, before=before, after=state(user), reason=rule)
            notify(
                user,
                kind=Notice.Kind.REGISTRATION_EXPIRED,
                key=f"registration_expired:{registration.pk}",
                template="registration_expired",
                municipality=registration.municipality,
                context={
                    "registration": registration,
                    "rule": rule,
                    "username": user.get_username(),
                    "requested_on": clock.localtime(registration.created_at).date(),
                    "last_day": clock.localtime(registration.expires_at).date() - dt.timedelta(days=1),
                },
            )
            expired += 1
    return expired


def reset_password(staff, user: User, password: str) -> None:
    """K-REG-4: the counter re-registers the PIN or password; the log-in throttle is lifted and the account's API
    tokens and calendar-feed keys are revoked with it (``credentials.set_password``)."""
    _require_staff(staff, user.municipality_id)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        credentials.set_password(locked, password, reason=Revocation.PASSWORD_RESET_BY_STAFF, by=staff)
        # Never the password, not even its hash, in the log.
        audit.record(staff, "password.reset", locked, reason=_("new password registered at the counter"))


def change_details(staff, user: User, data: dict) -> None:
    """T-REG-3: name, address, phone and e-mail changed at the counter, after the identity document was seen."""
    _require_staff(staff, user.municipality_id)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = state(locked)
        for field in ("display_name", "phone", "email"):
            setattr(locked, field, data[field])
        locked.save(update_fields=["display_name", "phone", "email"])
        Registration.objects.filter(user=locked).update(address=data.get("address", ""))
        if data.get("person_name"):
            Registration.objects.filter(user=locked).update(person_name=data["person_name"])
        sync_allauth_email(locked)
        audit.record(
            staff,
            "registration.change",
            locked,
            before=before,
            after=state(locked),
            reason=data.get("identity_document", ""),
        )


def sync_allauth_email(user: User) -> None:
    """allauth's password reset also looks up its own e-mail table: drop addresses the user no longer has."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).exclude(email__iexact=user.email or "").delete()


def add_proxy(staff, user: User, *, name: str, relation: str) -> FamilyProxy:
    _require_staff(staff, user.municipality_id)
    with transaction.atomic():
        proxy = FamilyProxy.objects.create(
            user=user, name=name, relation=relation, added_at=clock.now(), added_by=staff
        )
        audit.record(staff, "proxy.add", proxy, after={"name": name, "relation": relation}, subject=user)
    return proxy


def remove_proxy(staff, proxy: FamilyProxy) -> None:
    _require_staff(staff, proxy.user.municipality_id)
    with transaction.atomic():
        audit.record(
            staff, "proxy.remove", proxy, before={"name": proxy.name, "relation": proxy.relation}, subject=proxy.user
        )
        proxy.delete()


def review_duplicates(staff, registration: Registration, *, withdraw: bool, note: str = "") -> None:
    """Item 6: staff looked at a flagged registration: a different person/group (kept) or a duplicate (withdrawn)."""
    _require_staff(staff, registration.municipality_id)
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        registration.duplicates_reviewed_at, registration.duplicates_reviewed_by = clock.now(), staff
        registration.save(update_fields=["duplicates_reviewed_at", "duplicates_reviewed_by"])
        if withdraw:
            user = _withdraw(
                staff, registration, note or _("duplicate registration"), "registration.withdraw_duplicate"
            )
            credentials.revoke_access(user, reason=Revocation.DEACTIVATED, by=staff)
        else:
            audit.record(staff, "registration.duplicates_cleared", registration.user, reason=note)
