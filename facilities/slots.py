"""Cutting a unit's day into slots (コマ) from its slot scheme and the facility's opening hours.

A slot is half-open: [starts_at, ends_at). Pure functions over already-loaded rows, so a week grid costs no
query per day.
"""

import datetime as dt
from dataclasses import dataclass

from config import clock

from . import cache
from .models import OpeningHours, SlotScheme, Unit


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    label_ja: str = ""
    label_en: str = ""

    @property
    def start_time(self) -> dt.time:
        return self.starts_at.time()

    @property
    def end_time(self) -> dt.time:
        return self.ends_at.time()


def hours_for(day: dt.date, opening_hours: list[OpeningHours]) -> OpeningHours | None:
    """The season row that covers the month of ``day`` (S-HRS-1), or None when no season covers it."""
    for season in opening_hours:
        if day.month in season.months():
            return season
    return None


def unit_slots(unit: Unit, day: dt.date) -> list[Slot]:
    """The slots ``unit`` offers on ``day`` by its scheme and its facility's seasons (closure days are the
    caller's question: facilities.calendars). Every booking request asks, so a saved unit's answer is kept until
    the catalogue changes (facilities.cache); the caller gets its own list."""

    def cut():
        return slots_for_day(unit.slot_scheme, hours_for(day, list(unit.facility.opening_hours.all())), day)

    return cut() if unit.pk is None else list(cache.cached(("slots", unit.pk, day), cut))


def slots_for_day(scheme: SlotScheme, hours: OpeningHours | None, day: dt.date) -> list[Slot]:
    """Slots offered on ``day``; empty when the facility has no hours that month.

    - PERIODS: the scheme's named periods that lie within the opening hours (Kodaira 午前/午後/夜間);
    - FIXED_LENGTH: back-to-back slots from opening while a whole slot fits before closing (Shiroi, 2 hours);
    - HOURLY: every whole hour within the opening hours (Tamba; a booking takes a run of them, T-USE-1).
    """
    if hours is None:
        return []
    opens, closes = clock.at(day, hours.opens), clock.at(day, hours.closes)
    if scheme.kind == SlotScheme.Kind.PERIODS:
        return [
            Slot(clock.at(day, p.starts), clock.at(day, p.ends), p.name_ja, p.name_en)
            for p in scheme.periods.all()
            if opens <= clock.at(day, p.starts) and clock.at(day, p.ends) <= closes
        ]
    step = scheme.step()
    if step <= dt.timedelta(0):
        return []
    slots = []
    start = opens
    while start + step <= closes:
        slots.append(Slot(start, start + step))
        start += step
    return slots
