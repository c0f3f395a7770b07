"""Helpers for the fee tests: slots of a day and a run of hours, on the seeded demo data (tests.reservations)."""

import datetime as dt

from config import clock
from facilities.slots import Slot
from tests.reservations.booking_helpers import jst, make_user, unit, user

__all__ = ["hours", "jst", "make_user", "slot", "unit", "user"]  # the fee tests import the booking helpers from here


def slot(day: dt.date, start: str, end: str) -> Slot:
    return Slot(clock.at(day, dt.time.fromisoformat(start)), clock.at(day, dt.time.fromisoformat(end)))


def hours(day: dt.date, start: str, end: str) -> list[Slot]:
    """The run of whole-hour slots from ``start`` to ``end`` (Tamba, T-USE-1)."""
    first, last = clock.at(day, dt.time.fromisoformat(start)), clock.at(day, dt.time.fromisoformat(end))
    count = int((last - first).total_seconds()) // 3600
    return [Slot(first + dt.timedelta(hours=n), first + dt.timedelta(hours=n + 1)) for n in range(count)]
