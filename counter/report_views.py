"""The counter's money reports (issue #5 item 7), under ``/<municipality>/counter/reports/`` (counter/report_urls.py).

Staff of the municipality only (``clerk_view``: anyone else gets the 404 of an address that does not exist).
Each report is a page and the same figures as CSV for Excel (config/csvexport.py: UTF-8 with a byte-order mark,
CRLF, yen as plain integers, formula-like text quoted), with a header row in the user's language.

Thin: parse the date or month (a malformed one is a 400 page that shows the expected form), call one selector
of counter/report_selectors.py, render.
"""

import datetime as dt

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config import clock
from config.csvexport import csv_response, when
from facilities.addresses import BadInput, bad_request, parse_day, parse_month

from . import report_selectors as selectors
from .staff import clerk_view

GET_ONLY = require_http_methods(["GET", "HEAD"])


# The daily takings per payment place ---------------------------------------------------------------------------


@clerk_view
@GET_ONLY
def index(request, municipality):
    today = clock.today()
    return render(
        request, "counter/reports/index.html", {"municipality": municipality, "today": today, "section": "reports"}
    )


@clerk_view
@GET_ONLY
def takings_pick(request, municipality):
    """The no-JavaScript date form submits ?date=; send it to the day's own address (bookmarks, back button)."""
    try:
        day = parse_day(request.GET["date"]) if request.GET.get("date") else clock.today()
    except BadInput as error:
        return bad_request(request, str(error))
    return redirect("counter:reports_takings", municipality=municipality.slug, day=day.isoformat())


@clerk_view
@GET_ONLY
def takings(request, municipality, day, as_csv=False):
    try:
        day = parse_day(day)
    except BadInput as error:
        return bad_request(request, str(error))
    report = selectors.daily_takings(municipality=municipality, day=day)
    if as_csv:
        return csv_response(
            f"takings-{municipality.slug}-{day.isoformat()}.csv", _takings_header(), _takings_rows(report)
        )
    return render(
        request,
        "counter/reports/takings.html",
        {
            "municipality": municipality,
            "report": report,
            "day": day,
            "section": "reports",
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


def _takings_header() -> list[str]:
    return [
        _("Payment place"),
        _("Kind"),
        _("Recorded at"),
        _("Permit number"),
        _("Booking no."),
        _("User"),
        _("Facility"),
        _("Amount (yen)"),
        _("Carried over (yen)"),
        _("Cash taken (yen)"),
        _("Refunded (yen)"),
        _("Net (yen)"),
    ]


def _place_name(place) -> str:
    return place.name if place is not None else _("No place recorded")


def _takings_rows(report: selectors.DailyTakings):
    """One row per payment and per refund, a total row per place, the day's total last."""
    for block in report.places:
        place = _place_name(block.place)
        for p in block.payments:
            r = p.reservation
            yield [
                place,
                _("Payment"),
                when(p.recorded_at),
                p.permit_number,
                r.pk,
                r.holder_name,
                f"{r.unit.facility.name} {r.unit.name}",
                p.amount,
                p.carried_amount,
                p.taken,
                0,
                p.taken,
            ]
        for refund in block.refunds:
            r = refund.payment.reservation
            yield [
                place,
                _("Refund"),
                when(refund.recorded_at),
                refund.payment.permit_number,
                r.pk,
                r.holder_name,
                f"{r.unit.facility.name} {r.unit.name}",
                None,
                None,
                None,
                refund.amount,
                -refund.amount,
            ]
        yield [
            place,
            _("Total of the place"),
            None,
            None,
            None,
            None,
            None,
            block.amount,
            block.carried,
            block.taken,
            block.refunded,
            block.net,
        ]
    yield [
        _("All places"),
        _("Total of the day"),
        None,
        None,
        None,
        None,
        None,
        report.amount,
        report.carried,
        report.taken,
        report.refunded,
        report.net,
    ]


# The monthly fees per facility --------------------------------------------------------------------------------


@clerk_view
@GET_ONLY
def monthly_pick(request, municipality):
    """The no-JavaScript month form submits ?month=; send it to the month's own address."""
    try:
        year, month = (
            parse_month(request.GET["month"]) if request.GET.get("month") else (clock.today().year, clock.today().month)
        )
    except BadInput as error:
        return bad_request(request, str(error))
    return redirect("counter:reports_monthly", municipality=municipality.slug, month=f"{year:04d}-{month:02d}")


def _other_month(year: int, month: int, step: int) -> str:
    index = year * 12 + month - 1 + step
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@clerk_view
@GET_ONLY
def monthly(request, municipality, month, as_csv=False):
    try:
        year, month_number = parse_month(month)
    except BadInput as error:
        return bad_request(request, str(error))
    report = selectors.monthly_fees(municipality=municipality, year=year, month=month_number)
    if as_csv:
        filename = f"fees-{municipality.slug}-{year:04d}-{month_number:02d}.csv"
        return csv_response(filename, _monthly_header(), _monthly_rows(report))
    return render(
        request,
        "counter/reports/monthly.html",
        {
            "municipality": municipality,
            "report": report,
            "section": "reports",
            "previous_month": _other_month(year, month_number, -1),
            "next_month": _other_month(year, month_number, 1),
        },
    )


def _monthly_header() -> list[str]:
    return [
        _("Facility"),
        _("Kind"),
        _("Unit"),
        _("Booking no."),
        _("Use date"),
        _("Time"),
        _("User"),
        _("State"),
        _("Fee (yen)"),
        _("Paid (yen)"),
        _("Carried over (yen)"),
        _("Refunded (yen)"),
        _("Unpaid (yen)"),
        _("Net (yen)"),
    ]


def _monthly_rows(report: selectors.MonthlyFees):
    """One row per booking, a total row per facility, the month's total last."""
    for block in report.facilities:
        facility = block.facility.name
        for row in block.rows:
            r = row.reservation
            starts, ends = clock.localtime(r.starts_at), clock.localtime(r.ends_at)
            yield [
                facility,
                _("Booking"),
                r.unit.name,
                r.pk,
                starts.date().isoformat(),
                f"{starts:%H:%M}–{ends:%H:%M}",
                r.holder_name,
                r.get_state_display(),
                row.fee,
                row.paid,
                row.carried,
                row.refunded,
                row.unpaid,
                row.net,
            ]
        yield [
            facility,
            _("Total of the facility"),
            None,
            None,
            None,
            None,
            None,
            None,
            block.fee,
            block.paid,
            block.carried,
            block.refunded,
            block.unpaid,
            block.net,
        ]
    yield [
        _("All facilities"),
        _("Total of the month"),
        None,
        None,
        None,
        None,
        None,
        None,
        report.fee,
        report.paid,
        report.carried,
        report.refunded,
        report.unpaid,
        report.net,
    ]
