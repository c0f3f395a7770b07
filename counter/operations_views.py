"""The monthly operations report (issue #22 item 6) under ``/<municipality>/counter/reports/operations/``, linked
from the admin's index: the municipality's administrators and the operator only (anyone else gets the 404 of an
address that does not exist). One page per month with its charts drawn as SVG on the server (no JavaScript, no
network), and each table as CSV for Excel (config/csvexport.py).

Thin: parse the month (a malformed one is a 400 page with the expected form), call
counter.operations_report.operations_report, render.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from config import clock
from config.csvexport import csv_response
from facilities.addresses import BadInput, bad_request, parse_month
from facilities.models import Municipality

from . import operations_report as selectors
from .report_views import GET_ONLY, _other_month

TABLES = ("units", "weekdays", "bookings", "money", "lottery")


def administrator_view(view):
    """The municipality's administrators and the operator; 404 for anyone else (as counter.staff.clerk_view)."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request, municipality: str, *args, **kwargs):
        muni = get_object_or_404(Municipality, slug=municipality)
        user = request.user
        if not (user.is_active and (user.is_superuser or (user.is_administrator and user.municipality_id == muni.pk))):
            raise Http404
        return view(request, muni, *args, **kwargs)

    return wrapper


@GET_ONLY  # outside: a POST is a 405 for anyone, as the walk of counter routes expects
@administrator_view
def pick(request, municipality):
    """The month form submits ?month=; without one, the current month. Sent on to the month's own address."""
    try:
        year, month = (
            parse_month(request.GET["month"]) if request.GET.get("month") else (clock.today().year, clock.today().month)
        )
    except BadInput as error:
        return bad_request(request, str(error))
    return redirect("counter:reports_operations", municipality=municipality.slug, month=f"{year:04d}-{month:02d}")


@GET_ONLY
@administrator_view
def report(request, municipality, month, table=None):
    try:
        year, month_number = parse_month(month)
    except BadInput as error:
        return bad_request(request, str(error))
    if table is not None and table not in TABLES:
        raise Http404
    data = selectors.operations_report(municipality=municipality, year=year, month=month_number)
    if table is not None:
        header, rows = TABLE_WRITERS[table](data)
        return csv_response(f"operations-{municipality.slug}-{data.month}-{table}.csv", header, rows)
    return render(
        request,
        "counter/reports/operations.html",
        {
            "municipality": municipality,
            "report": data,
            "section": "reports",
            "previous_month": _other_month(year, month_number, -1),
            "next_month": _other_month(year, month_number, 1),
            "charts": charts(data),
            "bands": [label for _key, label, _f, _a in selectors.BANDS],
            "weekday_rows": list(zip(selectors.WEEKDAYS, data.grid, strict=True)),
        },
    )


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def _units_csv(data):
    header = [_("Facility"), _("Unit"), _("Open slot-hours"), _("Booked slot-hours"), _("Occupancy (%)"),
              _("Number of bookings"), _("Cancelled"), _("No-shows")]  # fmt: skip
    rows = [
        [
            line.facility.name,
            line.unit.name if line.unit else _("Total of the facility"),
            _hours(line.hours.open),
            _hours(line.hours.booked),
            _percent(line.hours.occupancy),
            line.bookings,
            line.cancelled,
            line.no_shows,
        ]
        for line in data.units
    ]
    rows.append([_("All facilities"), "", _hours(data.total.open), _hours(data.total.booked),
                 _percent(data.total.occupancy), data.bookings, data.cancelled, data.no_shows])  # fmt: skip
    return header, rows


def _weekdays_csv(data):
    header = [_("Weekday"), _("Time band"), _("Open slot-hours"), _("Booked slot-hours"), _("Occupancy (%)")]
    rows = [
        [str(day), str(band[1]), _hours(hours.open), _hours(hours.booked), _percent(hours.occupancy)]
        for day, bands in zip(selectors.WEEKDAYS, data.grid, strict=True)
        for band, hours in zip(selectors.BANDS, bands, strict=True)
    ]
    return header, rows


def _bookings_csv(data):
    header = [_("Kind"), _("Item"), _("Number of bookings"), _("Share (%)")]
    rows = [[_("Channel"), line.label, line.bookings, _percent(line.share)] for line in data.channels]
    rows += [[_("Cancellation"), label, count, ""] for label, count in data.cancellations]
    rows.append([_("No-shows"), _("Ended without a key lent or a use report"), data.no_shows, ""])
    return header, rows


def _money_csv(data):
    header = [_("Kind"), _("Item"), _("Count"), _("Yen")]
    rows = [
        [_("Payments"), _("Amount"), data.payments, data.paid],
        [_("Payments"), _("Carried over from an earlier booking"), "", data.carried],
        [_("Payments"), _("Taken"), "", data.taken],
    ]
    rows += [[_("Refunds"), label, count, amount] for label, count, amount in data.refunds]
    rows.append([_("Refunds"), _("Total"), data.refund_count, data.refunded])
    rows.append([_("Net"), _("Taken less refunds"), "", data.net])
    return header, rows


def _lottery_csv(data):
    header = [_("Facility"), _("Applications"), _("Withdrawn"), _("Won"), _("Not drawn"), _("Win rate (%)")]
    rows = [
        [
            line.facility.name if line.facility else _("All facilities"),
            line.applications,
            line.withdrawn,
            line.won,
            line.lost,
            _percent(line.win_rate),
        ]
        for line in data.lottery
    ]
    return header, rows


TABLE_WRITERS = {
    "units": _units_csv,
    "weekdays": _weekdays_csv,
    "bookings": _bookings_csv,
    "money": _money_csv,
    "lottery": _lottery_csv,
}


# Charts: coordinates computed here, drawn by the template as SVG ------------------------------------------------

BAR_WIDTH = 400  # px of a 100 % bar (the channels' bar)
FACILITY_BAR_WIDTH = 480


def charts(data) -> dict:
    facilities = [
        {
            "name": line.facility.name,
            "percent": _percent(line.hours.occupancy) or "—",
            "width": round(FACILITY_BAR_WIDTH * (line.hours.occupancy or 0) / 100),
            "y": 4 + index * 36,
        }
        for index, line in enumerate(data.facility_totals)
    ]
    cells = []
    for row, bands in enumerate(data.grid):
        for column, hours in enumerate(bands):
            rate = hours.occupancy
            cells.append(
                {
                    "x": 64 + column * 136,
                    "y": 28 + row * 30,
                    "opacity": f"{0.08 + 0.92 * (rate or 0) / 100:.2f}",
                    "label": "—" if rate is None else f"{rate:.1f}%",
                    "dark": rate is not None and rate >= 55,
                }
            )
    offset = 0
    shares = []
    for index, line in enumerate(data.channels):
        width = round(BAR_WIDTH * (line.share or 0) / 100)
        shares.append(
            {"label": line.label, "x": offset, "width": width, "shade": index, "percent": _percent(line.share)}
        )
        offset += width
    return {
        "facilities": facilities,
        "facilities_height": 8 + 36 * len(facilities),
        "cells": cells,
        "shares": shares,
    }
