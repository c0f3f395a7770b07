"""Public pages: municipality list, facility list, facility page, a unit's week and month of slots.

Thin: parse the URL, call a selector, render. Anyone may view availability without logging in (S-FC-1); a
logged-in resident's week grid also says, slot by slot, whether they may book it (reservations.rules).
"""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.views.decorators.cache import never_cache

from config import clock

from . import calendars, selectors
from .addresses import BadInput, bad_request, parse_day, parse_month


def not_found(request, exception=None):
    # Our own Http404s carry a message for the user; the URL resolver's carry a dict of patterns.
    message = ""
    if exception is not None and exception.args and isinstance(exception.args[0], (str, Promise)):
        message = str(exception.args[0])
    return render(request, "404.html", {"message": message}, status=404)


def home(request):
    return render(
        request,
        "facilities/home.html",
        {
            "municipalities": selectors.list_municipalities(),
            "announcements": selectors.current_announcements(municipality=None),
        },
    )


def municipality_home(request, municipality):
    muni = selectors.get_municipality(municipality)
    facilities = selectors.list_facilities(municipality=muni)
    return render(
        request,
        "facilities/municipality.html",
        {
            "municipality": muni,
            "facilities": facilities,
            "announcements": selectors.current_announcements(municipality=muni),
        },
    )


def facility_detail(request, municipality, facility_code):
    muni = selectors.get_municipality(municipality)
    facility = selectors.get_facility(municipality=muni, code=facility_code)
    today = clock.today()
    return render(
        request,
        "facilities/facility.html",
        {
            "municipality": muni,
            "facility": facility,
            "closure_days": selectors.closure_days(facility=facility, year=today.year, month=today.month),
            "today": today,
            "announcements": selectors.current_announcements(municipality=muni),
        },
    )


@never_cache  # bookings change it: going back to the grid must fetch it again, not show a stale copy
def unit_week(request, municipality, unit_id, day=None):
    muni = selectors.get_municipality(municipality)
    unit = selectors.get_unit(municipality=muni, unit_id=unit_id)
    # ?change=<booking>: the resident is choosing a new time for that booking (K-FC-4, S-PAY-3). Imported here:
    # an upward import (facilities below reservations), listed in .importlinter.
    from reservations.views import booking_being_changed

    try:
        changing = booking_being_changed(request, muni)
        if day is None and request.GET.get("date"):
            # The no-JavaScript date picker submits ?date=; send it to the canonical URL (back button, bookmarks).
            jump = parse_day(request.GET["date"])
            url = reverse("facilities:unit_week", args=[muni.slug, unit.id, jump.isoformat()])
            return redirect(f"{url}?change={changing.pk}" if changing else url)
        start = parse_day(day) if day else clock.today()
    except BadInput as error:
        return bad_request(request, str(error))
    # The week of the asked day, from its Sunday (calendars.week_first_day); the asked day keeps the date picker
    # and the month link where the resident was.
    grid = selectors.unit_week(unit=unit, start=calendars.week_first_day(start), user=request.user)
    return render(
        request,
        "facilities/unit_week.html",
        {"municipality": muni, "unit": unit, "grid": grid, "asked": start, "changing": changing},
    )


@never_cache  # bookings change it, as the week grid
def unit_month(request, municipality, unit_id, month=None):
    muni = selectors.get_municipality(municipality)
    unit = selectors.get_unit(municipality=muni, unit_id=unit_id)
    try:
        year, month_number = parse_month(month) if month else (clock.today().year, clock.today().month)
    except BadInput as error:
        return bad_request(request, str(error))
    view = selectors.unit_month(unit=unit, year=year, month=month_number, user=request.user)
    return render(request, "facilities/unit_month.html", {"municipality": muni, "unit": unit, "view": view})


@never_cache  # like the week grid: bookings change it, the back button must fetch it again
def facility_board(request, municipality, facility_code, day=None, view=selectors.BOARD_WEEK):
    """A facility's board (issue #21 item 4): all its units × a week, or × the slots of one day. GET only."""
    muni = selectors.get_municipality(municipality)
    facility = selectors.get_facility(municipality=muni, code=facility_code)
    try:
        if day is None and request.GET.get("date"):
            # The no-JavaScript date picker submits ?date=&view=; send it to the canonical URL (back button).
            jump = parse_day(request.GET["date"])
            name = "facilities:board_day" if request.GET.get("view") == selectors.BOARD_DAY else "facilities:board_week"
            return redirect(reverse(name, args=[muni.slug, facility.code, jump.isoformat()]))
        start = parse_day(day) if day else clock.today()
    except BadInput as error:
        return bad_request(request, str(error))
    first = calendars.week_first_day(start) if view == selectors.BOARD_WEEK else start  # weeks from Sunday
    board = selectors.facility_board(facility=facility, start=first, view=view, user=request.user)
    return render(
        request,
        "facilities/board.html",
        {"municipality": muni, "facility": facility, "board": board, "asked": start},
    )
