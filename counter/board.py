"""The day's board (issue #22, item 2): units × slots of one day for the clerk's facilities, the console's home.

Each facility is a table: its units are the rows, the slot times of the day are the columns (the union of its
units' slots, so a unit without a slot at that time shows an empty cell). A cell is one of:

- a booking (one booking may fill several cells: a run of hours, T-USE-1): who, its state, paid or not, the key
  and the use report, linked to the booking's counter page;
- free: a checkbox to choose it (several, then one submit: ``counter:book_slots``) and a link to book it alone;
- past (already started and free), or the facility is closed that day (X-2).

Bounded reads: the facilities with their units, schemes, periods, hours and closure rules in a handful of queries,
and the day's bookings of all of them in one; nothing is read per cell.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch

from config import clock
from facilities import calendars
from facilities.models import Facility, Municipality, Unit, localized
from facilities.selectors import span_param
from facilities.slots import Slot, unit_slots
from reservations import rules
from reservations.models import Reservation

from .selectors import CounterBooking, _with_facts, served_facility_ids


class Cell:
    BOOKED = "booked"
    FREE = "free"
    PAST = "past"
    NONE = "none"  # the unit has no slot at this time


@dataclass
class BoardCell:
    kind: str
    unit: Unit
    slot: Slot | None = None
    row: CounterBooking | None = None
    first: bool = True  # the first cell of its booking (a run of hours shows its facts once)

    @property
    def span(self) -> str:
        return span_param(self.slot.starts_at, self.slot.ends_at) if self.slot else ""

    @property
    def value(self) -> str:
        """The checkbox value: unit and span (``12|0900-1100``)."""
        return f"{self.unit.pk}|{self.span}"


@dataclass
class BoardColumn:
    starts_at: dt.datetime
    ends_at: dt.datetime
    label: str = ""


@dataclass
class BoardFacility:
    facility: Facility
    closed: bool
    columns: list[BoardColumn]
    rows: list[tuple[Unit, list[BoardCell]]] = field(default_factory=list)


@dataclass
class Board:
    day: dt.date
    facilities: list[BoardFacility]

    @property
    def any_free(self) -> bool:
        return any(c.kind == Cell.FREE for f in self.facilities for _, cells in f.rows for c in cells)


def board_facilities(*, municipality: Municipality, clerk, code: str = "") -> list[Facility]:
    """The clerk's facilities (``User.counter_facilities``; empty = all), or the one of ``code``, with everything
    the board needs to cut their slots prefetched."""
    facilities = Facility.objects.of(municipality)
    scope = served_facility_ids(clerk)
    if scope is not None:
        facilities = facilities.filter(pk__in=scope)
    if code:
        facilities = facilities.filter(code=code)
    units = (
        Unit.objects.filter(is_active=True)
        .select_related("slot_scheme", "municipality")
        .prefetch_related("slot_scheme__periods")
        .order_by("sort_order", "code")
    )
    return list(
        facilities.select_related("closure_calendar", "municipality")
        .prefetch_related("closure_calendar__rules", "opening_hours", Prefetch("units", queryset=units))
        .order_by("sort_order", "code")
    )


def day_board(*, municipality: Municipality, facilities: list[Facility], day: dt.date) -> Board:
    now = clock.now()
    start, end = clock.at(day, dt.time(0)), clock.at(day + dt.timedelta(days=1), dt.time(0))
    bookings = list(
        _with_facts(Reservation.objects.of(municipality).filter(unit__facility__in=[f.pk for f in facilities]))
        .select_related("permit")
        .active()
        .starting_between(start, end)
        .order_by("starts_at", "id")
    )
    loaded = rules.ProfileRules.find(municipality.pk) if bookings else None
    by_unit: dict[int, list[CounterBooking]] = {}
    for reservation in bookings:
        state = rules.effective_state(reservation, loaded, now) if loaded else reservation.state
        by_unit.setdefault(reservation.unit_id, []).append(CounterBooking(reservation, state))
    board = []
    for facility in facilities:
        units = list(facility.units.all())
        for unit in units:
            unit.facility = facility  # the slots read the facility's hours from the prefetched rows
        closed = not calendars.is_open(facility, day)
        slots_of = {unit.pk: ([] if closed else unit_slots(unit, day)) for unit in units}
        times = sorted(
            {(s.starts_at, s.ends_at): s for slots in slots_of.values() for s in slots}.items(), key=lambda i: i[0]
        )
        columns = [BoardColumn(a, b, localized(s, "label")) for (a, b), s in times]
        block = BoardFacility(facility, closed, columns)
        for unit in units:
            offered = {(s.starts_at, s.ends_at): s for s in slots_of[unit.pk]}
            held = by_unit.get(unit.pk, [])
            cells, seen = [], set()
            for column in columns:
                slot = offered.get((column.starts_at, column.ends_at))
                booking = next(
                    (
                        b
                        for b in held
                        if b.reservation.starts_at < column.ends_at and column.starts_at < b.reservation.ends_at
                    ),
                    None,
                )
                if booking is not None:
                    cells.append(BoardCell(Cell.BOOKED, unit, slot, booking, first=booking.reservation.pk not in seen))
                    seen.add(booking.reservation.pk)
                elif slot is None:
                    cells.append(BoardCell(Cell.NONE, unit))
                elif slot.starts_at <= now:
                    cells.append(BoardCell(Cell.PAST, unit, slot))
                else:
                    cells.append(BoardCell(Cell.FREE, unit, slot))
            block.rows.append((unit, cells))
        board.append(block)
    return Board(day, board)
