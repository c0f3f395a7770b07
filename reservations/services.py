"""Writes: booking and cancelling. Each use case is one transaction; the database has the last word on X-3."""

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from accounts import audit
from config import clock, sql
from facilities.models import BookingState, Channel, Phase, Unit
from fees.rules import LOOK_UP, quote_or_none

from . import alerts, rules
from .locks import lock_user
from .models import KeyLending, Reservation, SlotHold, UseReport
from .walk_in import WalkIn


class BookingError(Exception):
    """A booking or cancellation that was refused; ``refusals`` say why, each with its rule id."""

    def __init__(self, refusals: list[rules.Refusal]):
        super().__init__("; ".join(f"{r.code}: {r.message}" for r in refusals))
        self.refusals = refusals


class BookingRefused(BookingError):
    pass


class SlotTaken(BookingError):
    """Someone else holds (one of) these slots: the loser of a race (HTTP 409)."""

    def __init__(self):
        super().__init__([rules.Refusal("slot_taken", _("Someone has just booked this slot."))])


def _held(unit: Unit, slots) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {SlotHold._meta.db_table} WHERE unit_id = %s AND starts_at IN "
            f"({', '.join(['%s'] * len(slots))})",
            [unit.pk, *[connection.ops.adapt_datetimefield_value(s.starts_at) for s in slots]],
        )
        return cursor.fetchone() is not None


def _profile_and_slots(unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime):
    """The unit's rule profile and the slots that tile [starts_at, ends_at), or BookingRefused saying why not."""
    profile_rules = rules.ProfileRules.find(unit.municipality_id)
    if profile_rules is None:
        raise BookingRefused([rules.no_profile_refusal()])
    try:
        return profile_rules, rules.resolve_slots(unit, starts_at, ends_at)
    except rules.SlotRequestError as error:
        raise BookingRefused([error.refusal]) from None


def book(
    *,
    user,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    channel: str = Channel.ONLINE,
    booked_by=None,
    paying_now: bool = False,
    then=None,
    walk_in: WalkIn | None = None,
    details: rules.BookingDetails | None = None,
) -> Reservation:
    """Book the slots of ``unit`` that tile [starts_at, ends_at) for ``user`` through ``channel``.

    ``user`` None and ``walk_in`` given: a person without registration, booked by the clerk ``booked_by`` at the
    counter where the profile allows it (S-FC-3), paid with the booking (fees.services.book_and_pay).

    Raises BookingRefused (a rule said no, with rule ids) or SlotTaken (another booking holds a slot).
    ``paying_now``: the fee is paid in the same step (rules.evaluate: S-FC-3, T-PAY-3); ``then(reservation)``
    runs inside the booking's transaction — the payment of fees.services.book_and_pay — so that a refusal there
    undoes the booking too. ``details``: the booking form's answers (purpose, number of people, terms accepted),
    checked against what the profile asks (rules.details_refusals) and stored; None (staff entries, internal
    callers) asks nothing.

    The order is the cheapest first, because at the opening rush most requests are for slots that are already
    gone: the rules that need no database (windows, account, slot shape), then a plain look-up of the holds
    (most requests end here, with a 409, before any lock or write), then — in one short transaction — the
    user's lock, the limit counts and the inserts. The unique constraint on the holds stays the authority
    against a concurrent booking of the same slot (X-3); the look-up only spares the doomed transaction.
    """
    now = clock.now()
    if (user is None) == (walk_in is None):
        raise ValueError("book() needs a user or a walk-in, not both")
    if walk_in is not None or booked_by is not None:  # staff entries: only a clerk of this facility's counter
        refusal = rules.staff_refusal(booked_by, unit.municipality_id) or rules.scope_refusal(booked_by, unit.facility)
        if refusal is not None:
            raise BookingRefused([refusal])
    profile_rules, slots = _profile_and_slots(unit, starts_at, ends_at)
    evaluate = {
        "rules": profile_rules,
        "user": user,
        "unit": unit,
        "slots": slots,
        "channel": channel,
        "now": now,
        "paying_now": paying_now,
    }
    decision = rules.evaluate(**evaluate, check_limits=False)
    if not decision.allowed:
        raise BookingRefused(rules.evaluate(**evaluate).refusals)  # every reason, limits included, as the grid shows
    if details is not None:
        refusals = rules.details_refusals(profile_rules.profile, details)
        if refusals:
            raise BookingRefused(refusals)
    if _held(unit, slots):
        raise SlotTaken()
    # a read: before the transaction, which stays short
    fee = quote_fee(user=user if walk_in is None else walk_in, unit=unit, slots=slots, now=now)
    try:
        with transaction.atomic():
            reservation = _insert_booking(
                user=user,
                unit=unit,
                slots=slots,
                decision=decision,
                rules_=profile_rules,
                channel=channel,
                booked_by=booked_by,
                now=now,
                fee=fee,
                walk_in=walk_in,
                details=details,
            )
            if then is not None:
                then(reservation)
            return reservation
    except IntegrityError:
        # The unique (unit, starts_at) constraint: a concurrent booking committed first.
        raise SlotTaken() from None


def quote_fee(*, user, unit: Unit, slots, now: dt.datetime):
    """The fee breakdown a new booking stores: the fee table of the booking day (fees.rules), or None. ``user``
    may be a walk-in (reservations.walk_in.WalkIn): the general fee, no exemption."""
    exemption = LOOK_UP if getattr(user, "pk", None) is not None else None
    return quote_or_none(user=user, unit=unit, slots=slots, booked_on=clock.localtime(now).date(), exemption=exemption)


def _insert_booking(
    *,
    user,
    unit,
    slots,
    decision,
    rules_,
    channel,
    booked_by,
    now,
    fee=None,
    changed_from=None,
    walk_in: WalkIn | None = None,
    details: rules.BookingDetails | None = None,
) -> Reservation:
    """Inside a transaction: the user's lock, the limit counts (leaving out a booking being changed), the rows.
    A walk-in (``user`` None) has no account to lock and no limit to count (S-FC-3)."""
    if user is not None:
        lock_user(user)
        replacing = changed_from.pk if changed_from else None
        over_limit = rules.limit_refusals(
            rules=rules_, user=user, unit=unit, slots=slots, window=decision.window, now=now, replacing=replacing
        )
        if over_limit:
            raise BookingRefused(over_limit)
    reservation = Reservation(
        municipality_id=unit.municipality_id,
        unit=unit,
        user=user,
        walk_in_name=walk_in.name if walk_in else "",
        walk_in_phone=walk_in.phone if walk_in else "",
        starts_at=slots[0].starts_at,
        ends_at=slots[-1].ends_at,
        slot_count=len(slots),
        state=decision.initial_state,
        origin=decision.phase,
        channel=channel,
        booked_by=booked_by,
        created_at=now,
        confirm_at=decision.confirm_at,
        confirmed_at=now if decision.initial_state == BookingState.CONFIRMED else None,
        pay_by=decision.pay_by,
        pay_by_rule_id=decision.pay_by_rule_id,
        fee=fee.as_dict() if fee else None,
        fee_total=fee.total if fee else None,
        changed_from=changed_from,
        purpose=details.purpose.strip() if details else "",
        headcount=details.headcount if details else None,
    )
    # The same INSERTs as create() and bulk_create(), without recompiling them per request, in one statement.
    holds = [SlotHold(reservation=reservation, unit=unit, starts_at=s.starts_at) for s in slots]
    sql.insert_with_children(reservation, holds, link="reservation")
    if booked_by is not None:  # staff entered it (counter, phone): the audit log says who (issue #7)
        audit.record(
            booked_by,
            "booking.create",
            reservation,
            after={
                "unit": unit.pk,
                "starts_at": reservation.starts_at,
                "ends_at": reservation.ends_at,
                "channel": channel,
                "changed_from": changed_from.pk if changed_from else None,
                **({"walk_in": {"name": walk_in.name, "phone": walk_in.phone}} if walk_in else {}),
            },
        )
    return reservation


def change_online(
    *, user, reservation_id: int, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime
) -> Reservation:
    """A resident moves their booking to [starts_at, ends_at) of ``unit`` (K-FC-4 on the booking day, S-PAY-3
    until paid): the old booking is cancelled and the new one made in one transaction, so either both happen or
    neither — when the new slot is refused or just taken, the old booking stays as it was.

    Raises Reservation.DoesNotExist (not the user's booking), BookingRefused, SlotTaken.
    """
    now = clock.now()
    try:
        with transaction.atomic():
            old = (
                Reservation.objects.visible_to_resident(now)
                .select_for_update()
                .get(pk=reservation_id, user=user, municipality_id=unit.municipality_id)
            )
            refusal = rules.change_refusal(old, rules.ProfileRules.of(old.municipality_id), now)
            if refusal is not None:
                raise BookingRefused([refusal])
            return replace(old, unit=unit, starts_at=starts_at, ends_at=ends_at, channel=Channel.ONLINE, now=now)
    except IntegrityError:
        raise SlotTaken() from None


def replace(
    old: Reservation,
    *,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    channel: str,
    now: dt.datetime,
    booked_by=None,
    paying_now: bool = False,
) -> Reservation:
    """Inside the caller's transaction, ``old`` locked and its change allowed (online: K-FC-4, S-PAY-3; at the
    counter: fees.services.change_at_counter): cancel ``old`` and book [starts_at, ends_at) of ``unit`` for its
    user through ``channel``, the new slot passing the rules as a new booking with ``old`` left out of the limits.
    An IntegrityError (the slot just taken) rolls the caller's transaction back."""
    profile_rules, slots = _profile_and_slots(unit, starts_at, ends_at)
    if (old.unit_id, old.starts_at, old.ends_at) == (unit.pk, slots[0].starts_at, slots[-1].ends_at):
        raise BookingRefused([rules.Refusal("same_slot", _("This is already the time of that booking."))])
    walk_in = walk_in_of(old)  # a walk-in's booking (S-FC-3) moves as a walk-in's booking, paid at once
    evaluate = {
        "rules": profile_rules,
        "user": old.user,
        "unit": unit,
        "slots": slots,
        "channel": channel,
        "now": now,
        "paying_now": paying_now,
    }
    decision = rules.evaluate(**evaluate, check_limits=False)
    if not decision.allowed:
        raise BookingRefused(rules.evaluate(**evaluate, replacing=old.pk).refusals)
    _cancel(old, reason=Reservation.CancelReason.CHANGED, now=now)
    return _insert_booking(
        user=old.user,
        unit=unit,
        slots=slots,
        decision=decision,
        rules_=profile_rules,
        channel=channel,
        booked_by=booked_by,
        now=now,
        changed_from=old,
        walk_in=walk_in,
        fee=quote_fee(user=old.user or walk_in, unit=unit, slots=slots, now=now),
        # the purpose and number of people go with the booking to its new time
        details=rules.BookingDetails(purpose=old.purpose, headcount=old.headcount, terms_accepted=True),
    )


def walk_in_of(reservation: Reservation) -> WalkIn | None:
    """The person without registration a booking is for (S-FC-3), or None for a registered user's booking."""
    if reservation.user_id is not None:
        return None
    return WalkIn(
        name=reservation.walk_in_name,
        phone=reservation.walk_in_phone,
        resident=bool((reservation.fee or {}).get("resident", True)),
    )


def _cancel(reservation: Reservation, *, reason: str, now: dt.datetime) -> None:
    reservation.state = BookingState.CANCELLED
    reservation.cancelled_at = now
    reservation.cancel_reason = reason
    reservation.save(update_fields=["state", "cancelled_at", "cancel_reason"])
    alerts.releasing([reservation.pk])  # watchers are told after commit (issue #8 item 2, reservations/alerts.py)
    reservation.holds.all().delete()  # the slots are free again in the same transaction


def cancel_online(*, user, reservation_id: int) -> Reservation:
    """A resident cancels their own booking where the profile allows it (K-FC-4, S-PAY-3)."""
    now = clock.now()
    with transaction.atomic():
        # A lottery win before its results moment is not the resident's to know of (K-LOT-3, S-LOT-5): not found.
        reservation = Reservation.objects.visible_to_resident(now).select_for_update().get(pk=reservation_id, user=user)
        refusal = rules.cancel_refusal(reservation, rules.ProfileRules.of(reservation.municipality_id), now)
        if refusal is not None:
            raise BookingRefused([refusal])
        _cancel(reservation, reason=Reservation.CancelReason.USER, now=now)
        _tell_cancelled_online(reservation)
    return reservation


def _tell_cancelled_online(reservation: Reservation) -> None:
    """The "cancelled" notice of a resident's own online cancellation (issue #21 item 8: the notifications page
    says 予約を取り消しました with the place and date, beside 予約しました), in the cancellation's transaction."""
    from accounts.models import Notice  # imported here, as in cancel_unpaid_bookings: off the booking hot path
    from accounts.notify import notify

    notify(
        reservation.user,
        kind=Notice.Kind.CANCELLED,
        key=f"cancelled:{reservation.pk}",
        template="cancelled",
        context={
            "reservation": reservation,
            "unit": reservation.unit,
            "facility": reservation.unit.facility,
            "starts_at": clock.localtime(reservation.starts_at),
            "ends_at": clock.localtime(reservation.ends_at),
            "by_user": True,
            "online": True,
        },
        municipality=reservation.municipality,
    )


def confirm_due_bookings(*, now: dt.datetime | None = None) -> int:
    """K-FC-4: provisional bookings whose confirmation instant has passed become confirmed. Idempotent."""
    now = now or clock.now()
    confirmed = 0
    due = Reservation.objects.filter(state=BookingState.PROVISIONAL, confirm_at__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            reservation = Reservation.objects.select_for_update().get(pk=pk)
            if (
                reservation.state != BookingState.PROVISIONAL
                or reservation.confirm_at is None
                or reservation.confirm_at > now
            ):
                continue  # someone else got here first
            reservation.state = BookingState.CONFIRMED
            reservation.confirmed_at = reservation.confirm_at
            reservation.save(update_fields=["state", "confirmed_at"])
            confirmed += 1
    return confirmed


def cancel_unpaid_bookings(*, now: dt.datetime | None = None) -> int:
    """S-PAY-2 (deleted on D-6), T-PAY-2: unpaid bookings past their deadline are cancelled and their slots freed.
    Idempotent; a late run catches up on everything overdue. The user is e-mailed that the slot was released,
    in the cancellation's transaction (a rolled-back cancellation tells nobody; the event key tells once)."""
    # Imported here: accounts.notify is only needed by this job, and the booking hot path above stays lean.
    from accounts.models import Notice
    from accounts.notify import notify

    now = now or clock.now()
    cancelled = 0
    unpaid = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT)
    due = Reservation.objects.filter(state__in=unpaid, pay_by__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            reservation = (
                Reservation.objects.select_for_update(of=("self",)).select_related("unit__facility", "user").get(pk=pk)
            )
            if reservation.state not in unpaid or reservation.pay_by is None or reservation.pay_by > now:
                continue
            _cancel(reservation, reason=Reservation.CancelReason.UNPAID, now=now)
            notify(
                reservation.user,
                kind=Notice.Kind.CANCELLED_UNPAID,
                key=f"unpaid:{pk}",
                template="cancelled_unpaid",
                context={
                    "reservation": reservation,
                    "unit": reservation.unit,
                    "facility": reservation.unit.facility,
                    "starts_at": clock.localtime(reservation.starts_at),
                    "ends_at": clock.localtime(reservation.ends_at),
                    "deadline": clock.localtime(reservation.pay_by_last_minute),
                    "rule_id": reservation.pay_by_rule_id,
                },
            )
            cancelled += 1
    return cancelled


# The counter console: overrides, key lending, use reports -----------------------------------------------------
# Staff actions. Each checks that ``staff`` is a clerk of the booking's municipality (the pages check it too:
# counter.staff.clerk_view) and is one transaction.


def _insert_override(
    *, user, unit: Unit, slots, kind: str, rule_id: str, reason: str, staff, now: dt.datetime, fee=None
) -> Reservation:
    """The booking of an override: confirmed at once, holding its slots. X-3 still holds: the unique
    (unit, starts_at) constraint refuses a taken slot (SlotTaken, 409), as for any other booking.

    The reason is required: a grant cites the rule that asks for it (T-APP-5: "with a recorded reason"; T-USE-1
    early starts), a block (its rule id is its kind: no municipal rule) the code ``reason_required``."""
    if not reason.strip():
        code = rule_id if kind == Reservation.OverrideKind.GRANT and rule_id.strip() else "reason_required"
        raise BookingRefused([rules.Refusal(code.strip(), _("Give the reason for the override."))])
    if SlotHold.objects.filter(unit=unit, starts_at__in=[s.starts_at for s in slots]).exists():
        raise SlotTaken()  # the common case, answered without a write; the constraint below decides a race
    try:
        with transaction.atomic():
            reservation = Reservation.objects.create(
                municipality_id=unit.municipality_id,
                unit=unit,
                user=user,
                starts_at=slots[0].starts_at,
                ends_at=slots[-1].ends_at,
                slot_count=len(slots),
                # Overrides are first-come bookings of the counter; override_kind says that the windows were skipped.
                state=BookingState.CONFIRMED,
                origin=Phase.FIRST_COME,
                channel=Channel.COUNTER,
                booked_by=staff,
                created_at=now,
                confirmed_at=now,
                fee=fee.as_dict() if fee else None,
                fee_total=fee.total if fee else None,
                override_kind=kind,
                override_rule_id=rule_id.strip()[:20],
                override_reason=reason.strip(),
            )
            SlotHold.objects.bulk_create(
                [SlotHold(reservation=reservation, unit=unit, starts_at=s.starts_at) for s in slots]
            )
            audit.record(
                staff,
                f"booking.override.{kind}",
                reservation,
                reason=f"{rule_id} {reason}".strip(),
                after={"unit": unit.pk, "starts_at": reservation.starts_at, "ends_at": reservation.ends_at},
            )
    except IntegrityError:
        raise SlotTaken() from None
    return reservation


def _override_slots(unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime):
    try:
        slots = rules.resolve_slots(unit, starts_at, ends_at)  # still real slots of the unit on an open day
    except rules.SlotRequestError as error:
        raise BookingRefused([error.refusal]) from None
    if slots[0].starts_at <= now:
        raise BookingRefused([rules.Refusal("slot_past", _("This slot has already started."))])
    return slots


def book_override(
    *, user, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, reason: str, staff, rule_id: str = "T-APP-5"
) -> Reservation:
    """Staff grant ``user`` a booking outside the booking windows, with a recorded reason (T-APP-5: a public event
    of a non-profit body). The windows, their service hours and the monthly limits are skipped; the account, the
    registration, the unit and the slot shape are checked, and X-3 holds (SlotTaken when a slot is held).

    The booking is confirmed at once with its fee stored and no payment deadline (the window that would set one is
    skipped): the clerk records the payment (fees.services.record_payment) as for any booking."""
    now = clock.now()
    _check_grant(user=user, unit=unit, staff=staff, now=now)
    if not rule_id.strip():
        raise BookingRefused([rules.Refusal("rule_id_required", _("Give the rule that allows the override."))])
    slots = _override_slots(unit, starts_at, ends_at, now)
    fee = quote_fee(user=user, unit=unit, slots=slots, now=now)
    return _insert_override(
        user=user,
        unit=unit,
        slots=slots,
        kind=Reservation.OverrideKind.GRANT,
        rule_id=rule_id,
        reason=reason,
        staff=staff,
        now=now,
        fee=fee,
    )


def _check_grant(*, user, unit: Unit, staff, now: dt.datetime):
    """What a grant to ``user`` still checks with the windows skipped: the clerk (municipality and counter scope),
    the user's account and registration, the unit. Returns the profile's rules (None: no profile yet)."""
    refusals = [
        r
        for r in (
            rules.staff_refusal(staff, unit.municipality_id) or rules.scope_refusal(staff, unit.facility),
            rules.account_refusal(user, unit.municipality_id),
        )
        if r
    ]
    if refusals:
        raise BookingRefused(refusals)
    profile_rules = rules.ProfileRules.find(unit.municipality_id)
    if not user.is_valid_on(clock.localtime(now).date()):
        code = (profile_rules.profile.registration_rule_id if profile_rules else "") or "registration_expired"
        raise BookingRefused([rules.Refusal(code, _("Your registration is not valid today; renew it at a counter."))])
    if not unit.is_active:
        raise BookingRefused([rules.Refusal("unit_unavailable", _("This unit is not taking bookings."))])
    return profile_rules


def book_early_start(
    *, user, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, reason: str, staff
) -> Reservation:
    """T-USE-1: staff grant ``user`` a booking that starts before the opening hours — at a sports unit, from the
    profile's ``early_start_from`` (Tamba: 07:00) — approved in advance, with a recorded reason. The span may end
    at or before the day's first slot or run on into the day's slots (``rules.early_start_slots``).

    An override like ``book_override``: the windows and limits are skipped, the account, registration, unit and
    clerk are checked; it is stored as a grant whose rule id is the profile's (T-USE-1), confirmed at once, with
    its fee (the early hours priced like any hour) and no payment deadline. The early hours are held as slots
    (``SlotHold``), so X-3 holds: a second grant of the same time, or of a slot someone holds, is SlotTaken (409).
    Refused where the profile has no early starts (Kodaira, Shiroi), citing its slot rule (S-HRS-1)."""
    now = clock.now()
    profile_rules = _check_grant(user=user, unit=unit, staff=staff, now=now)
    profile = profile_rules.profile if profile_rules else None
    try:
        slots = rules.early_start_slots(profile, unit, starts_at, ends_at)
    except rules.SlotRequestError as error:
        raise BookingRefused([error.refusal]) from None
    if slots[0].starts_at <= now:
        raise BookingRefused([rules.Refusal("slot_past", _("This slot has already started."))])
    fee = quote_fee(user=user, unit=unit, slots=slots, now=now)
    return _insert_override(
        user=user,
        unit=unit,
        slots=slots,
        kind=Reservation.OverrideKind.GRANT,
        rule_id=profile.early_start_rule_id or "early_start",
        reason=reason,
        staff=staff,
        now=now,
        fee=fee,
    )


def block_slot(
    *,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    staff,
    kind: str = Reservation.OverrideKind.MAINTENANCE,
) -> Reservation:
    """Block slots of ``unit`` for maintenance or a municipal event: a booking held by the clerk's own account
    (channel counter, override kind maintenance / municipal event, the kind as its rule id), with the reason.
    No fee. X-3 holds: a slot someone has booked cannot be blocked (SlotTaken); cancel that booking first."""
    now = clock.now()
    refusal = rules.staff_refusal(staff, unit.municipality_id) or rules.scope_refusal(staff, unit.facility)
    if refusal is not None:
        raise BookingRefused([refusal])
    if kind not in (Reservation.OverrideKind.MAINTENANCE, Reservation.OverrideKind.MUNICIPAL_EVENT):
        raise BookingRefused([rules.Refusal("override_kind", _("Unknown kind of block."))])
    slots = _override_slots(unit, starts_at, ends_at, now)
    return _insert_override(
        user=staff, unit=unit, slots=slots, kind=kind, rule_id=kind, reason=reason, staff=staff, now=now
    )


BLOCK_KINDS = (Reservation.OverrideKind.MAINTENANCE, Reservation.OverrideKind.MUNICIPAL_EVENT)


def block_release_refusal(reservation: Reservation, now: dt.datetime) -> rules.Refusal | None:
    """Why the block ``reservation`` (``block_slot``) cannot be released now, or None. A block is released until
    it starts; from then on it stays on the record (the day sheet, the audit log) as the slots' use."""
    if reservation.override_kind not in BLOCK_KINDS:
        return rules.Refusal("not_a_block", _("This booking is not a block; cancel it on its payment page."))
    if not reservation.is_active:
        return rules.Refusal("not_active", _("This block has already been released."))
    if reservation.starts_at <= now:
        return rules.Refusal("block_started", _("This block has already started; it stays on the record."))
    return None


def release_block(*, reservation_id: int, municipality_id: int, staff, reason: str = "") -> Reservation:
    """Release a block for maintenance or a municipal event (``block_slot``) before it starts: the booking is
    cancelled by staff and its slots are free again at once (watchers of the slots are told, reservations/alerts.py).
    Only a clerk of the municipality whose counter serves the facility (``staff_only``, ``staff_scope``); audited
    as ``booking.override.release`` with the reason given."""
    now = clock.now()
    with transaction.atomic():
        reservation = _locked_for_staff(reservation_id, municipality_id, staff)
        refusal = block_release_refusal(reservation, now)
        if refusal is not None:
            raise BookingRefused([refusal])
        before = audit.snapshot(reservation, ["state", "override_kind", "override_reason", "starts_at", "ends_at"])
        _cancel(reservation, reason=Reservation.CancelReason.STAFF, now=now)
        audit.record(
            staff,
            "booking.override.release",
            reservation,
            before=before,
            after={"state": reservation.state, "cancelled_at": now},
            reason=reason.strip()[:300],
        )
    return reservation


def _locked_for_staff(reservation_id: int, municipality_id: int, staff) -> Reservation:
    """The booking, row-locked, of this municipality only (Reservation.DoesNotExist otherwise), and of a facility
    whose counter ``staff`` serves (the clerk's scope)."""
    refusal = rules.staff_refusal(staff, municipality_id)
    if refusal is not None:
        raise BookingRefused([refusal])
    reservation = (
        Reservation.objects.select_for_update(of=("self",))
        .select_related("unit__facility")
        .get(pk=reservation_id, municipality_id=municipality_id)
    )
    refusal = rules.scope_refusal(staff, reservation.unit.facility)
    if refusal is not None:
        raise BookingRefused([refusal])
    return reservation


def lend_key(*, reservation_id: int, municipality_id: int, staff):
    """The key of an active booking is handed out now. Refused when it already was (a second click)."""
    now = clock.now()
    with transaction.atomic():
        reservation = _locked_for_staff(reservation_id, municipality_id, staff)
        if not reservation.is_active:
            raise BookingRefused([rules.Refusal("not_active", _("This booking is no longer active."))])
        if KeyLending.objects.filter(reservation=reservation).exists():
            raise BookingRefused(
                [rules.Refusal("key_already_lent", _("The key of this booking has already been lent."))]
            )
        lending = KeyLending.objects.create(reservation=reservation, lent_at=now, lent_by=staff)
        audit.record(staff, "key.lend", reservation, after={"lent_at": now})
        return lending


def return_key(*, reservation_id: int, municipality_id: int, staff):
    """The key of a booking comes back now. Refused when it was not lent or is already back."""
    now = clock.now()
    with transaction.atomic():
        reservation = _locked_for_staff(reservation_id, municipality_id, staff)
        lending = KeyLending.objects.filter(reservation=reservation).first()
        if lending is None:
            raise BookingRefused([rules.Refusal("key_not_lent", _("The key of this booking has not been lent."))])
        if lending.returned_at is not None:
            raise BookingRefused([rules.Refusal("key_already_returned", _("The key of this booking is already back."))])
        lending.returned_at, lending.returned_by = now, staff
        lending.save(update_fields=["returned_at", "returned_by"])
        audit.record(staff, "key.return", reservation, after={"returned_at": now})
        return lending


def record_use_report(
    *,
    reservation_id: int,
    municipality_id: int,
    staff,
    attendance: int,
    actual_start: dt.datetime,
    actual_end: dt.datetime,
    note: str = "",
):
    """K-USE-1: the use report of a booking that has started (attendance, actual times), entered by staff. Entering
    it again corrects it; the row keeps who recorded it last and when."""
    now = clock.now()
    refusals = []
    if attendance < 0:
        refusals.append(rules.Refusal("attendance_invalid", _("The attendance cannot be negative.")))
    if actual_end <= actual_start:
        refusals.append(rules.Refusal("times_invalid", _("The actual end must be after the actual start.")))
    with transaction.atomic():
        reservation = _locked_for_staff(reservation_id, municipality_id, staff)
        if not reservation.is_active:
            refusals.append(rules.Refusal("not_active", _("This booking is no longer active.")))
        elif reservation.starts_at > now:
            refusals.append(rules.Refusal("K-USE-1", _("The use report is filed after use.")))
        if refusals:
            raise BookingRefused(refusals)
        before = (
            UseReport.objects.filter(reservation=reservation).values("attendance", "actual_start", "actual_end").first()
        )
        report, _created = UseReport.objects.update_or_create(
            reservation=reservation,
            defaults={
                "attendance": attendance,
                "actual_start": actual_start,
                "actual_end": actual_end,
                "note": note.strip()[:300],
                "reported_by": staff,
                "reported_at": now,
            },
        )
        audit.record(
            staff,
            "use_report.record",
            reservation,
            before=before,
            after={"attendance": attendance, "actual_start": actual_start, "actual_end": actual_end},
        )
        return report


def release(reservation: Reservation, *, reason: str, now: dt.datetime) -> None:
    """Inside the caller's transaction, with the booking's row locked: cancel it and free its slots. For other
    apps' services that cancel with their own checks (fees: refunds, facility closures, weather transfers)."""
    _cancel(reservation, reason=reason, now=now)
