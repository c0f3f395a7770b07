"""Writes: booking and cancelling. Each use case is one transaction; the database has the last word on X-3."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from config import clock, sql
from facilities.models import BookingState, Channel, Unit
from fees.rules import quote_or_none

from . import rules
from .models import Reservation, SlotHold


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


USER_LOCK_NAMESPACE = 7301  # PostgreSQL advisory-lock key space of "one user's bookings" (any fixed number)


def lock_user(user) -> None:
    """Serialize one user's bookings, so that two tabs at 09:00:00 cannot both pass a limit count (DESIGN §2).

    PostgreSQL: a transaction-scoped advisory lock on the user's id, which writes nothing (a row lock with
    SELECT … FOR UPDATE would write the user's row and its WAL on every booking). SQLite: the IMMEDIATE
    transaction mode (settings) already serializes writers. Other databases: the user's row, FOR UPDATE."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [USER_LOCK_NAMESPACE, user.pk])
        elif connection.features.has_select_for_update:
            table = connection.ops.quote_name(get_user_model()._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [user.pk])


def _held(unit: Unit, slots) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {SlotHold._meta.db_table} WHERE unit_id = %s AND starts_at IN ({', '.join(['%s'] * len(slots))})",
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


def book(*, user, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, channel: str = Channel.ONLINE, booked_by=None) -> Reservation:
    """Book the slots of ``unit`` that tile [starts_at, ends_at) for ``user`` through ``channel``.

    Raises BookingRefused (a rule said no, with rule ids) or SlotTaken (another booking holds a slot).

    The order is the cheapest first, because at the opening rush most requests are for slots that are already
    gone: the rules that need no database (windows, account, slot shape), then a plain look-up of the holds
    (most requests end here, with a 409, before any lock or write), then — in one short transaction — the
    user's lock, the limit counts and the inserts. The unique constraint on the holds stays the authority
    against a concurrent booking of the same slot (X-3); the look-up only spares the doomed transaction.
    """
    now = clock.now()
    profile_rules, slots = _profile_and_slots(unit, starts_at, ends_at)
    decision = rules.evaluate(rules=profile_rules, user=user, unit=unit, slots=slots, channel=channel, now=now, check_limits=False)
    if not decision.allowed:
        full = rules.evaluate(rules=profile_rules, user=user, unit=unit, slots=slots, channel=channel, now=now)
        raise BookingRefused(full.refusals)  # every reason, limits included, as the grid would show them
    if _held(unit, slots):
        raise SlotTaken()
    fee = quote_fee(user=user, unit=unit, slots=slots, now=now)  # a read: before the transaction, which stays short
    try:
        with transaction.atomic():
            return _insert_booking(user=user, unit=unit, slots=slots, decision=decision, rules_=profile_rules,
                                   channel=channel, booked_by=booked_by, now=now, fee=fee)
    except IntegrityError:
        # The unique (unit, starts_at) constraint: a concurrent booking committed first.
        raise SlotTaken() from None


def quote_fee(*, user, unit: Unit, slots, now: dt.datetime):
    """The fee breakdown a new booking stores: the fee table of the booking day (fees.rules), or None."""
    return quote_or_none(user=user, unit=unit, slots=slots, booked_on=clock.localtime(now).date())


def _insert_booking(*, user, unit, slots, decision, rules_, channel, booked_by, now, fee=None, changed_from=None) -> Reservation:
    """Inside a transaction: the user's lock, the limit counts (leaving out a booking being changed), the rows."""
    lock_user(user)
    replacing = changed_from.pk if changed_from else None
    over_limit = rules.limit_refusals(rules=rules_, user=user, unit=unit, slots=slots, window=decision.window, now=now, replacing=replacing)
    if over_limit:
        raise BookingRefused(over_limit)
    reservation = Reservation(
        municipality_id=unit.municipality_id,
        unit=unit,
        user=user,
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
    )
    sql.insert(reservation)  # the same INSERTs as create()/bulk_create(), without recompiling them per request
    sql.insert_many([SlotHold(reservation=reservation, unit=unit, starts_at=s.starts_at) for s in slots])
    return reservation


def change_online(*, user, reservation_id: int, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime) -> Reservation:
    """A resident moves their booking to [starts_at, ends_at) of ``unit`` (K-FC-4 on the booking day, S-PAY-3
    until paid): the old booking is cancelled and the new one made in one transaction, so either both happen or
    neither — when the new slot is refused or just taken, the old booking stays as it was.

    Raises Reservation.DoesNotExist (not the user's booking), BookingRefused, SlotTaken.
    """
    now = clock.now()
    profile_rules, slots = _profile_and_slots(unit, starts_at, ends_at)
    try:
        with transaction.atomic():
            old = Reservation.objects.select_for_update().get(pk=reservation_id, user=user, municipality_id=unit.municipality_id)
            refusal = rules.change_refusal(old, profile_rules, now)
            if refusal is not None:
                raise BookingRefused([refusal])
            if (old.unit_id, old.starts_at, old.ends_at) == (unit.id, slots[0].starts_at, slots[-1].ends_at):
                raise BookingRefused([rules.Refusal("same_slot", _("This is already the time of that booking."))])
            decision = rules.evaluate(rules=profile_rules, user=user, unit=unit, slots=slots, channel=Channel.ONLINE,
                                      now=now, check_limits=False)
            if not decision.allowed:
                full = rules.evaluate(rules=profile_rules, user=user, unit=unit, slots=slots, channel=Channel.ONLINE,
                                      now=now, replacing=old.pk)
                raise BookingRefused(full.refusals)
            _cancel(old, reason=Reservation.CancelReason.CHANGED, now=now)
            return _insert_booking(user=user, unit=unit, slots=slots, decision=decision, rules_=profile_rules,
                                   channel=Channel.ONLINE, booked_by=None, now=now, changed_from=old,
                                   fee=quote_fee(user=user, unit=unit, slots=slots, now=now))
    except IntegrityError:
        raise SlotTaken() from None


def _cancel(reservation: Reservation, *, reason: str, now: dt.datetime) -> None:
    reservation.state = BookingState.CANCELLED
    reservation.cancelled_at = now
    reservation.cancel_reason = reason
    reservation.save(update_fields=["state", "cancelled_at", "cancel_reason"])
    reservation.holds.all().delete()  # the slots are free again in the same transaction


def cancel_online(*, user, reservation_id: int) -> Reservation:
    """A resident cancels their own booking where the profile allows it (K-FC-4, S-PAY-3)."""
    now = clock.now()
    with transaction.atomic():
        reservation = Reservation.objects.select_for_update().get(pk=reservation_id, user=user)
        refusal = rules.cancel_refusal(reservation, rules.ProfileRules.of(reservation.municipality_id), now)
        if refusal is not None:
            raise BookingRefused([refusal])
        _cancel(reservation, reason=Reservation.CancelReason.USER, now=now)
    return reservation


def confirm_due_bookings(*, now: dt.datetime | None = None) -> int:
    """K-FC-4: provisional bookings whose confirmation instant has passed become confirmed. Idempotent."""
    now = now or clock.now()
    confirmed = 0
    due = Reservation.objects.filter(state=BookingState.PROVISIONAL, confirm_at__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            reservation = Reservation.objects.select_for_update().get(pk=pk)
            if reservation.state != BookingState.PROVISIONAL or reservation.confirm_at is None or reservation.confirm_at > now:
                continue  # someone else got here first
            reservation.state = BookingState.CONFIRMED
            reservation.confirmed_at = reservation.confirm_at
            reservation.save(update_fields=["state", "confirmed_at"])
            confirmed += 1
    return confirmed


def cancel_unpaid_bookings(*, now: dt.datetime | None = None) -> int:
    """S-PAY-2 (deleted on D-6), T-PAY-2: unpaid bookings past their deadline are cancelled and their slots freed.
    Idempotent; a late run catches up on everything overdue."""
    now = now or clock.now()
    cancelled = 0
    unpaid = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT)
    due = Reservation.objects.filter(state__in=unpaid, pay_by__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            reservation = Reservation.objects.select_for_update().get(pk=pk)
            if reservation.state not in unpaid or reservation.pay_by is None or reservation.pay_by > now:
                continue
            _cancel(reservation, reason=Reservation.CancelReason.UNPAID, now=now)
            cancelled += 1
    return cancelled
