"""Helpers for the booking-rule tests: Japan-time instants, the demo units and users, and
``attempt(...)``, which books through ``services.book`` at a given instant and returns the reservation or the
refusal codes (rule ids).

The ``seeded`` fixture (the demo data once per module) is in tests/conftest.py.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from accounts.models import User
from config import clock
from facilities.models import Unit
from reservations import services
from reservations.models import Reservation, SlotHold

JST = ZoneInfo("Asia/Tokyo")
FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def jst(year, month, day, hour=0, minute=0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


def unit(municipality: str, facility: str, code: str) -> Unit:
    """A demo unit loaded as the pages load it: its facility's closure rules and hours come along (K-FC-1)."""
    return (
        Unit.objects.select_related("facility", "facility__closure_calendar", "municipality", "slot_scheme")
        .prefetch_related("facility__closure_calendar__rules", "facility__opening_hours", "slot_scheme__periods")
        .get(municipality__slug=municipality, facility__code=facility, code=code)
    )


def user(username: str) -> User:
    return User.objects.get(username=username)


def make_user(municipality: str, username: str, **fields) -> User:
    """A resident registration of ``municipality`` valid for a long time (the demo accounts expire:
    Shiroi on 2027-03-31, S-REG-3)."""
    from facilities.models import Municipality

    kinds = {"kodaira": "group", "shiroi": "individual", "tamba": "card_holder"}
    fields.setdefault("account_kind", kinds.get(municipality, "individual"))
    fields.setdefault("valid_from", dt.date(2020, 1, 1))
    fields.setdefault("valid_until", dt.date(2099, 3, 31))
    return User.objects.create(username=username, municipality=Municipality.objects.get(slug=municipality), **fields)


def attempt(
    moment: dt.datetime, *, user, unit, day: dt.date, start: str, end: str, channel="online", booked_by=None, paid=False
):
    """Book ``unit`` on ``day`` from ``start`` to ``end`` (``"09:00"``) at ``moment``: the Reservation, or the
    list of refusal codes when the rules say no (``["slot_taken"]`` when someone holds the slot).

    ``paid``: a counter booking paid in the same step (fees.services.book_and_pay; S-FC-3 from D-6, T-PAY-3 from
    D-21), the exact fee in cash at the first payment place that takes it and is open, entered by ``booked_by`` or
    the municipality's first clerk."""
    starts_at = clock.at(day, dt.time.fromisoformat(start))
    ends_at = clock.at(day, dt.time.fromisoformat(end))
    with time_machine.travel(moment, tick=False):
        try:
            if paid:
                return _book_and_pay(user=user, unit=unit, starts_at=starts_at, ends_at=ends_at, booked_by=booked_by)
            return services.book(
                user=user, unit=unit, starts_at=starts_at, ends_at=ends_at, channel=channel, booked_by=booked_by
            )
        except services.BookingError as error:
            return [refusal.code for refusal in error.refusals]


def _book_and_pay(*, user, unit, starts_at, ends_at, booked_by):
    from fees import services as fee_services
    from fees.models import PaymentPlace
    from reservations import rules

    clerk = (
        booked_by
        or User.objects.filter(municipality_id=unit.municipality_id, account_kind="staff").order_by("id").first()
    )
    slots = rules.resolve_slots(unit, starts_at, ends_at)
    fee = services.quote_fee(user=user, unit=unit, slots=slots, now=clock.now())
    place = next(p for p in PaymentPlace.objects.taking_fees_of(unit.facility) if p.is_open(clock.today()))
    reservation, _payment = fee_services.book_and_pay(
        user=user,
        unit=unit,
        starts_at=starts_at,
        ends_at=ends_at,
        staff=clerk,
        amount=fee.total if fee else 0,
        place=place,
        receipt_number="R-TEST",
    )
    return reservation


def book(moment, **kwargs) -> Reservation:
    """Like ``attempt`` but the booking must succeed."""
    result = attempt(moment, **kwargs)
    assert isinstance(result, Reservation), f"refused: {result}"
    return result


def make_lottery_win(
    *, user, unit, day: dt.date, start: str, end: str, state="confirmed", published_from=None
) -> Reservation:
    """A lottery win (issue #4 makes these): a Reservation of origin "lottery" holding its slots, known to residents
    from ``published_from`` (the draw's results moment; None: at once)."""
    starts_at = clock.at(day, dt.time.fromisoformat(start))
    ends_at = clock.at(day, dt.time.fromisoformat(end))
    reservation = Reservation.objects.create(
        municipality_id=unit.municipality_id,
        unit=unit,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        slot_count=1,
        state=state,
        origin="lottery",
        channel="online",
        created_at=starts_at - dt.timedelta(days=60),
        published_from=published_from,
    )
    SlotHold.objects.create(reservation=reservation, unit=unit, starts_at=starts_at)
    return reservation


def cancel_at(moment: dt.datetime, *, user, reservation):
    """Cancel online at ``moment``: the Reservation, or the refusal codes."""
    with time_machine.travel(moment, tick=False):
        try:
            return services.cancel_online(user=user, reservation_id=reservation.pk)
        except services.BookingError as error:
            return [refusal.code for refusal in error.refusals]
