"""Factories named by intent: a facility for tests that do not need the whole demo data (``make_…``), and the
accounts and bookings the booking tests build on the demo data (``a_resident``, ``a_paid_booking``, …)."""

import datetime as dt
import itertools

from accounts.models import User
from facilities.models import (
    ClosureCalendar,
    ClosureRule,
    Facility,
    Municipality,
    OpeningHours,
    SchemePeriod,
    SlotScheme,
    Unit,
)
from tests.reservations.booking_helpers import book, make_user, unit


def make_municipality(slug="testville", name_ja="テスト市", name_en="Testville"):
    return Municipality.objects.create(slug=slug, name_ja=name_ja, name_en=name_en)


def make_calendar(municipality, name="calendar", rules=()):
    calendar = ClosureCalendar.objects.create(municipality=municipality, name=name)
    for rule in rules:
        ClosureRule.objects.create(calendar=calendar, **rule)
    return calendar


def closed_mondays_shifting_after_holidays():
    """「月曜日（祝日の場合は翌平日）」"""
    return {"kind": ClosureRule.Kind.WEEKLY, "weekday": 0, "shift_if_holiday": True}


def closed_first_and_third_tuesdays_shifting():
    """Kodaira: 毎月第1・3火曜日（祝日の場合はその翌日）."""
    return {"kind": ClosureRule.Kind.NTH_WEEKDAY, "weekday": 1, "weeks_of_month": "1,3", "shift_if_holiday": True}


def closed_at_year_end():
    return {"kind": ClosureRule.Kind.ANNUAL, "start_month": 12, "start_day": 29, "end_month": 1, "end_day": 3}


def make_scheme(municipality, kind=SlotScheme.Kind.FIXED_LENGTH, slot_minutes=120, periods=(), code=None):
    scheme = SlotScheme.objects.create(
        municipality=municipality,
        code=code or kind.replace("_", "-"),
        kind=kind,
        slot_minutes=slot_minutes,
        name_ja="枠",
        name_en="Slots",
    )
    for name_ja, name_en, starts, ends in periods:
        SchemePeriod.objects.create(scheme=scheme, name_ja=name_ja, name_en=name_en, starts=starts, ends=ends)
    return scheme


def make_facility(municipality, code="hall", calendar=None, seasons=((1, 12, dt.time(9), dt.time(17)),), **fields):
    fields.setdefault("name_ja", "テスト会館")
    fields.setdefault("name_en", "Test Hall")
    fields.setdefault("kind", Facility.Kind.COMMUNITY_CENTER)
    facility = Facility.objects.create(municipality=municipality, code=code, closure_calendar=calendar, **fields)
    for first_month, last_month, opens, closes in seasons:
        OpeningHours.objects.create(
            facility=facility, first_month=first_month, last_month=last_month, opens=opens, closes=closes
        )
    return facility


def make_unit(facility, scheme, code="room-1", **fields):
    fields.setdefault("name_ja", "集会室")
    fields.setdefault("name_en", "Meeting room")
    fields.setdefault("kind", Unit.Kind.ROOM)
    return Unit.objects.create(facility=facility, slot_scheme=scheme, code=code, **fields)


# Accounts and bookings, named by what a test needs --------------------------------------------------------------
# The booking-rule tests load the demo data (the ``seeded`` fixture) and build what each test needs on top of it:
# these names say what that is; tests/reservations/booking_helpers.py has the steps underneath (``attempt`` for a
# booking that may be refused).

_serial = itertools.count(1)


def a_resident(municipality: str, username: str | None = None, **fields) -> User:
    """A resident account of ``municipality`` of the kind it registers (K-REG-1 groups, S-REG-1 individuals,
    T-REG-1 card holders), valid for a long time; ``username`` or a fresh one. ``fields``: e-mail, language, …"""
    return make_user(municipality, username or f"{municipality}-resident-{next(_serial)}", **fields)


def a_clerk(municipality: str, username: str | None = None, **fields) -> User:
    """A counter clerk of ``municipality`` (no second factor needed: tests/conftest.py)."""
    fields.setdefault("staff_role", User.StaffRole.CLERK)
    return make_user(municipality, username or f"{municipality}-clerk-{next(_serial)}", account_kind="staff", **fields)


def a_demo_unit(municipality: str, facility: str, code: str) -> Unit:
    """A unit of the demo data, loaded as the pages load it."""
    return unit(municipality, facility, code)


def a_booking(resident: User, unit: Unit, day: dt.date, start: str, end: str, *, made_at: dt.datetime, **how):
    """A booking the rules accept, made online at ``made_at`` (``how``: channel, booked_by)."""
    return book(made_at, user=resident, unit=unit, day=day, start=start, end=end, **how)
