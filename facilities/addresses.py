"""Reading a page's address: dates, months, time spans and slot addresses, for the views of every app.

A malformed part is ``BadInput``, which the views show as a 400 page with its message (``bad_request``); an
unknown municipality or unit is Http404 from the selectors. Below the views of every app, so that they share
these helpers without importing each other.
"""

import datetime as dt
import re

from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from config import clock

from . import selectors
from .models import Unit

EARLIEST_YEAR, LATEST_YEAR = clock.EARLIEST_YEAR, clock.LATEST_YEAR


class BadInput(ValueError):
    """A URL part that cannot be understood; shown to the user as a 400 page with this message."""


def bad_request(request, message: str):
    return render(request, "400.html", {"message": message}, status=400)


def parse_day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            _("“%(text)s” is not a date. Use the form YYYY-MM-DD, e.g. 2027-04-01.") % {"text": text}
        ) from None
    if not (EARLIEST_YEAR <= day.year <= LATEST_YEAR):
        raise BadInput(_("Dates from %(first)s to %(last)s only.") % {"first": EARLIEST_YEAR, "last": LATEST_YEAR})
    return day


def parse_month(text: str) -> tuple[int, int]:
    try:
        day = dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise BadInput(_("“%(text)s” is not a month. Use the form YYYY-MM, e.g. 2027-04.") % {"text": text}) from None
    if len(text) != 7 or not (EARLIEST_YEAR <= day.year <= LATEST_YEAR):
        raise BadInput(_("“%(text)s” is not a month. Use the form YYYY-MM, e.g. 2027-04.") % {"text": text})
    return day.year, day.month


SPAN = re.compile(r"^(\d{2})(\d{2})-(\d{2})(\d{2})$")
HHMM = re.compile(r"^(\d{2})(\d{2})$")


def _at(day: dt.date, hours: str, minutes: str, *, end: bool) -> dt.datetime:
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return clock.at(day + dt.timedelta(days=1), dt.time(0))
    if h > 23 or m > 59:
        raise BadInput(_("“%(text)s” is not a time of day.") % {"text": f"{hours}{minutes}"})
    return clock.at(day, dt.time(h, m))


def parse_span(day: dt.date, text: str) -> tuple[dt.datetime, dt.datetime]:
    match = SPAN.match(text)
    if not match:
        raise BadInput(_("“%(text)s” is not a time span. Use the form HHMM-HHMM, e.g. 0900-1200.") % {"text": text})
    starts_at = _at(day, match[1], match[2], end=False)
    ends_at = _at(day, match[3], match[4], end=True)
    if ends_at <= starts_at:
        raise BadInput(_("The end of “%(text)s” is not after its start.") % {"text": text})
    return starts_at, ends_at


def parse_until(day: dt.date, starts_at: dt.datetime, text: str) -> dt.datetime:
    match = HHMM.match(text)
    if not match:
        raise BadInput(_("“%(text)s” is not a time. Use the form HHMM, e.g. 1300.") % {"text": text})
    ends_at = _at(day, match[1], match[2], end=True)
    if ends_at <= starts_at:
        raise BadInput(_("The end time must be after the start time."))
    return ends_at


def week_start(request, day: dt.date) -> dt.date:
    """The first day of the week grid the resident came from (?week=), so "back to the week" returns there;
    the booked day when absent, malformed or not within seven days before it."""
    try:
        start = parse_day(request.GET.get("week", ""))
    except BadInput:
        return day
    return start if start <= day < start + dt.timedelta(days=7) else day


def slot_address(request, municipality: str, unit_id: int, day: str, span: str):
    """The municipality, unit, use date, start, end and week of a slot page's address (booking, lottery).
    Http404 for an unknown municipality or unit; BadInput for a malformed date or span."""
    muni = selectors.get_municipality(municipality)
    unit = selectors.get_unit(municipality=muni, unit_id=unit_id)
    use_date = parse_day(day)
    starts_at, ends_at = parse_span(use_date, span)
    return muni, unit, use_date, starts_at, ends_at, week_start(request, use_date)


def describe_slot(unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime) -> dict:
    start, end = clock.localtime(starts_at), clock.localtime(ends_at)
    return {
        "facility": unit.facility.name,
        "unit": unit.name,
        "date": date_format(start.date(), "DATE_FORMAT"),
        "start": f"{start:%H:%M}",
        "end": "24:00" if end.date() > start.date() and end.time() == dt.time(0) else f"{end:%H:%M}",
    }
