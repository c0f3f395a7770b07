"""The counter's exports and usage statistics (issue #7 item 5), under ``/<municipality>/counter/exports/``
(counter/export_urls.py).

Staff of the municipality only (``clerk_view``: anyone else gets the 404 of an address that does not exist).
Thin, like the money reports (counter/report_views.py): parse the month (a malformed one is a 400 page that shows
the expected form), call one read of counter/exports.py or counter/statistics.py, render or stream the
CSV (config/csvexport.py).
"""

import datetime as dt
import functools
from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config import clock
from config.csvexport import streaming_csv_response
from facilities.addresses import BadInput, bad_request, parse_month

from . import exports, statistics
from . import selectors as counter_selectors
from .staff import clerk_view

GET_ONLY = require_http_methods(["GET", "HEAD"])
MAX_MONTHS = 12  # a year at a time keeps the page readable and the work bounded


def _month_text(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


@clerk_view
@GET_ONLY
def index(request, municipality):
    today = clock.today()
    return render(
        request,
        "counter/exports/index.html",
        {
            "municipality": municipality,
            "this_month": _month_text(today.year, today.month),
            "choices": statistics.facility_choices(municipality=municipality),
        },
    )


@clerk_view
@GET_ONLY
def pick(request, municipality, target):
    """The no-JavaScript month forms submit ?month=; send them to the file's own address (a bookmark, a link)."""
    try:
        year, month = (
            parse_month(request.GET["month"]) if request.GET.get("month") else (clock.today().year, clock.today().month)
        )
    except BadInput as error:
        return bad_request(request, str(error))
    return redirect(f"counter:exports_{target}", municipality=municipality.slug, month=_month_text(year, month))


# The CSV files ------------------------------------------------------------------------------------------------


def month_in_address(view):
    """Reads the address's ``month`` (YYYY-MM) and calls ``view(request, municipality, year, month, …)``; a
    malformed month is the 400 page that shows the expected form."""

    @functools.wraps(view)
    def parsed(request, municipality, month, **kwargs):
        try:
            year, month_number = parse_month(month)
        except BadInput as error:
            return bad_request(request, str(error))
        return view(request, municipality, year, month_number, **kwargs)

    return parsed


# kind → (rows of a month, columns, file name prefix)
MONTHLY_FILES = {
    "bookings": (exports.bookings, exports.BOOKING_COLUMNS, "bookings"),
    "applications": (exports.applications, exports.APPLICATION_COLUMNS, "lottery-applications"),
}


@clerk_view
@GET_ONLY
@month_in_address
def monthly_file(request, municipality, year, month_number, kind):
    """The bookings or the lottery applications of a month of use, as CSV."""
    rows_of, columns, prefix = MONTHLY_FILES[kind]
    rows = rows_of(municipality=municipality, year=year, month=month_number)
    filename = f"{prefix}-{municipality.slug}-{_month_text(year, month_number)}.csv"
    return streaming_csv_response(filename, exports.header(columns), rows)


@clerk_view
@GET_ONLY
@month_in_address
def payments(request, municipality, year, month_number):
    """The payments and refunds recorded in a month, as CSV; a clerk scoped to some facilities gets theirs only."""
    rows = exports.payments(
        municipality=municipality,
        year=year,
        month=month_number,
        facility_ids=counter_selectors.served_facility_ids(request.user),
    )
    filename = f"payments-{municipality.slug}-{_month_text(year, month_number)}.csv"
    return streaming_csv_response(filename, exports.header(exports.PAYMENT_COLUMNS), rows)


@clerk_view
@GET_ONLY
@month_in_address
def results(request, municipality, year, month_number):
    """The lottery results of a month of use, as CSV, once published; before that a page that says why not."""
    record = exports.draw(municipality=municipality, year=year, month=month_number)
    if not exports.results_published(record):
        # Not a file yet: say why in words (not drawn, or drawn and published on the results day).
        return render(
            request,
            "counter/exports/not_published.html",
            {
                "municipality": municipality,
                "record": record,
                "month": dt.date(year, month_number, 1),
            },
            status=404,
        )
    filename = f"lottery-results-{municipality.slug}-{_month_text(year, month_number)}.csv"
    return streaming_csv_response(filename, exports.header(exports.RESULT_COLUMNS), exports.results(record=record))


# Usage statistics ---------------------------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    rate: float | None
    y: int
    width: str  # SVG user units, formatted here: a template's number formatting follows the locale

    @property
    def value_x(self) -> str:
        return f"{CHART_BAR_X + float(self.width) + 4:.1f}"


@dataclass
class Chart:
    bars: list[Bar]

    @property
    def height(self) -> int:
        return len(self.bars) * CHART_ROW + 4


CHART_BAR_X, CHART_BAR_WIDTH, CHART_ROW = 130, 180, 22


def _chart(labels, tallies) -> Chart:
    """Horizontal bars, 100 % = the full track: the same figures as the table's "all units" row."""
    bars = [
        Bar(str(label), tally.rate, n * CHART_ROW, f"{CHART_BAR_WIDTH * (tally.rate or 0) / 100:.1f}")
        for n, (label, tally) in enumerate(zip(labels, tallies, strict=False))
    ]
    return Chart(bars)


def _period(data) -> tuple[dt.date, dt.date]:
    """?from=YYYY-MM&to=YYYY-MM (both optional: this month), at most MAX_MONTHS months, in order."""
    today = clock.today()
    first_month = parse_month(data["from"]) if data.get("from") else (today.year, today.month)
    last_month = parse_month(data["to"]) if data.get("to") else first_month
    first, _end = statistics.month_bounds(*first_month)
    _start, last = statistics.month_bounds(*last_month)
    months = (last_month[0] - first_month[0]) * 12 + last_month[1] - first_month[1] + 1
    if months < 1:
        raise BadInput(_("The first month is after the last month."))
    if months > MAX_MONTHS:
        raise BadInput(_("At most %(count)s months at a time.") % {"count": MAX_MONTHS})
    return first, last


@clerk_view
@GET_ONLY
def usage(request, municipality):
    try:
        first, last = _period(request.GET)
    except BadInput as error:
        return bad_request(request, str(error))
    code = request.GET.get("facility", "")
    report = statistics.usage(municipality=municipality, first=first, last=last, facility_code=code or None)
    weekdays = [WEEKDAYS_ABBR[n] for n in range(7)]
    facilities = [
        {
            "usage": usage,
            "total": usage.total,
            "by_slot_chart": _chart([t.name or t.times for t in usage.slot_times], usage.total.by_slot),
            "by_weekday_chart": _chart(weekdays, usage.total.by_weekday),
        }
        for usage in report.facilities
    ]
    return render(
        request,
        "counter/exports/statistics.html",
        {
            "municipality": municipality,
            "report": report,
            "facilities": facilities,
            "weekdays": weekdays,
            "first_month": first.strftime("%Y-%m"),
            "last_month": last.strftime("%Y-%m"),
            "code": code,
            "choices": statistics.facility_choices(municipality=municipality),
        },
    )
