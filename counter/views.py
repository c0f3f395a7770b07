"""The counter console (窓口, issue #7): pages for a municipality's clerks.

Every view is wrapped in ``counter.staff.clerk_view``: anonymous → log-in page, anyone but this municipality's
staff → 404. Thin, like the resident's pages: parse the address and the form, call one selector
(``counter.selectors``) or one service, render. Every POST that changed something redirects (Post/Redirect/Get),
so the back button and a refresh never book or lend twice; a refused booking re-renders its page with the rule
ids (422), a slot just taken with a plain message (409), never a 500. Forms are plain GET/POST forms: the console
works without JavaScript and from the keyboard.
"""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from config import clock
from counter.staff import clerk_view, refusal_messages
from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, describe_slot, parse_day, parse_span
from facilities.models import Channel, Phase
from fees.models import PaymentPlace
from lottery import services as lottery_services
from reservations import rules, services
from reservations import walk_in as walk_ins
from reservations.models import Reservation

from . import selectors

CHANNELS = [(Channel.COUNTER, Channel.COUNTER.label), (Channel.PHONE, Channel.PHONE.label)]


def _url(name: str, municipality, *args, **query) -> str:
    url = reverse(f"counter:{name}", args=[municipality.slug, *args])
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def _day_param(data, name: str = "date") -> dt.date:
    text = data.get(name, "")
    return parse_day(text) if text else clock.today()


def _unit_param(request, municipality, data):
    """The unit chosen in the form (404 for another municipality's, or a facility outside the clerk's counter
    scope), or None when none is chosen yet."""
    text = data.get("unit", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise BadInput(_("“%(text)s” is not a unit number.") % {"text": text[:20]})
    unit = facility_selectors.get_unit(municipality=municipality, unit_id=int(text))
    selectors.check_served(request.user, unit.facility)
    return unit


def _span(data, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``span=HHMM-HHMM`` (one slot's button), or ``start=HHMM`` and ``end=HHMM`` (a run of hours, T-USE-1)."""
    span = data.get("span") or f"{data.get('start', '')}-{data.get('end', '')}"
    return parse_span(day, span)


# 1. Home and user search ------------------------------------------------------------------------------------


def _channels(municipality) -> list:
    """The staff channels the profile has windows for (S-*: the counter only; T-APP-1: counter and telephone):
    a channel the profile does not have is not offered (issue #22, item 3)."""
    profile_rules = rules.ProfileRules.find(municipality)
    if profile_rules is None:
        return CHANNELS[:1]
    have = {w.channel for w in profile_rules.windows if w.phase != Phase.LOTTERY}
    return [c for c in CHANNELS if c[0] in have] or CHANNELS[:1]


def _person_param(municipality, data):
    text = data.get("user", "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise BadInput(_("“%(text)s” is not a user number.") % {"text": text[:20]})
    return selectors.get_resident(municipality=municipality, user_id=int(text))


@clerk_view
@require_http_methods(["GET", "HEAD"])
def home(request, municipality):
    """The console's home: the day's board (units × slots of the clerk's facilities, issue #22 item 2) under the
    user search. ``?date=`` any day, ``?facility=`` one facility, ``?user=`` the person slots are chosen for."""
    from counter import board

    query = request.GET.get("q", "").strip()[:100]
    found = selectors.search_users(municipality=municipality, query=query) if query else []
    try:
        day = _day_param(request.GET)
        person = _person_param(municipality, request.GET)
    except BadInput as error:
        return bad_request(request, str(error))
    code = request.GET.get("facility", "")
    facilities = board.board_facilities(municipality=municipality, clerk=request.user, code=code)
    if code and not facilities:
        raise Http404(_("This municipality has no such facility."))
    profile = getattr(rules.ProfileRules.find(municipality), "profile", None)
    return render(
        request,
        "counter/home.html",
        {
            "municipality": municipality,
            "query": query,
            "found": found[: selectors.SEARCH_LIMIT],
            "more": len(found) > selectors.SEARCH_LIMIT,
            "facilities": selectors.facilities_with_units(municipality=municipality, clerk=request.user),
            "board": board.day_board(municipality=municipality, facilities=facilities, day=day),
            "code": code,
            "person": person,
            "day": day,
            "today": clock.today(),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
            "walk_in_rule_id": getattr(profile, "walk_in_rule_id", ""),
            "card_numbers": getattr(profile, "card_numbers", False),
        },
    )


@clerk_view
@require_http_methods(["GET", "HEAD"])
def user_detail(request, municipality, user_id):
    person = selectors.get_resident(municipality=municipality, user_id=user_id)
    return render(
        request,
        "counter/user.html",
        {
            "municipality": municipality,
            "person": person,
            "page": selectors.user_page(municipality=municipality, user=person, clerk=request.user),
        },
    )


# 2. Booking on behalf of a user; 3. lottery applications entered by the clerk -----------------------------


def _slots_page(request, municipality, person, *, lottery: bool, status=200, refusals=(), just_taken=False):
    data = request.POST if request.method == "POST" else request.GET
    unit = _unit_param(request, municipality, data)
    day = _day_param(data)
    channels = _channels(municipality)
    channel = data.get("channel", channels[0][0]) if not lottery else Channel.COUNTER
    if channel not in (Channel.COUNTER, Channel.PHONE):
        raise BadInput(_("Choose the counter or the telephone."))
    if request.method != "POST" and channel not in dict(channels):
        channel = channels[0][0]  # a channel the profile does not have is not offered
    slots = None
    if unit is not None:
        slots = selectors.day_slots(
            unit=unit, day=day, user=person, channel=channel, lottery_clerk=request.user if lottery else None
        )
    return render(
        request,
        "counter/slots.html",
        {
            "municipality": municipality,
            "person": person,
            "unit": unit,
            "day": day,
            "channel": channel,
            "payment_places": PaymentPlace.objects.open_first(unit.facility, clock.today())
            if unit is not None and not lottery
            else [],
            "channels": channels,
            "slots": slots,
            "lottery": lottery,
            "refusals": refusals,
            "just_taken": just_taken,
            "facilities": selectors.facilities_with_units(municipality=municipality, clerk=request.user),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
        status=status,
    )


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def book(request, municipality, user_id):
    person = selectors.get_resident(municipality=municipality, user_id=user_id)
    try:
        if request.method != "POST":
            return _slots_page(request, municipality, person, lottery=False)
        data = request.POST
        unit, day, channel = _unit_param(request, municipality, data), _day_param(data), data.get("channel", "")
        if unit is None:
            raise BadInput(_("Choose a unit."))
        if channel not in (Channel.COUNTER, Channel.PHONE):
            raise BadInput(_("Choose the counter or the telephone."))
        starts_at, ends_at = _span(data, day)
    except BadInput as error:
        return bad_request(request, str(error))
    paying = bool(data.get("receipt_number", "").strip())
    try:
        if paying:  # paid with the booking: required from D-6 in Shiroi (S-FC-3) and from D-21 in Tamba (T-PAY-3)
            reservation = _book_and_pay(request, municipality, person, unit, starts_at, ends_at, channel)
        else:
            reservation = services.book(
                user=person, unit=unit, starts_at=starts_at, ends_at=ends_at, channel=channel, booked_by=request.user
            )
    except BadInput as error:
        return bad_request(request, str(error))
    except services.SlotTaken as error:
        return _slots_page(
            request, municipality, person, lottery=False, status=409, refusals=error.refusals, just_taken=True
        )
    except services.BookingError as error:
        return _slots_page(request, municipality, person, lottery=False, status=422, refusals=error.refusals)
    messages.success(
        request,
        _("Booked for %(user)s: %(facility)s, %(unit)s, %(date)s %(start)s–%(end)s (booking no. %(id)s).")
        % {**describe_slot(unit, reservation.starts_at, reservation.ends_at), "id": reservation.id, "user": person},
    )
    if paying:
        return redirect("counter:money_booking", municipality=municipality.slug, booking_id=reservation.pk)
    return redirect("counter:user", municipality=municipality.slug, user_id=person.pk)


def _payment_fields(request, municipality) -> tuple[int, PaymentPlace]:
    """The amount and payment place of a booking paid at once (BadInput when malformed)."""
    data = request.POST
    amount, place_id = data.get("amount", "").strip(), data.get("place", "").strip()
    if not amount.isdigit() or len(amount) > 9:
        raise BadInput(_("Enter the amount received in whole yen."))
    place = PaymentPlace.objects.of(municipality).filter(pk=int(place_id)).first() if place_id.isdigit() else None
    if place is None:
        raise BadInput(_("Choose the payment place."))
    return int(amount), place


def _book_and_pay(request, municipality, person, unit, starts_at, ends_at, channel):
    """The booking and its payment in one step (fees.services.book_and_pay); the counter only."""
    from fees import services as fee_services

    data = request.POST
    if channel != Channel.COUNTER:
        raise BadInput(_("A payment is taken at the counter, not by telephone."))
    amount, place = _payment_fields(request, municipality)
    reservation, _payment = fee_services.book_and_pay(
        user=person,
        unit=unit,
        starts_at=starts_at,
        ends_at=ends_at,
        staff=request.user,
        amount=amount,
        place=place,
        receipt_number=data["receipt_number"],
        payer_name=data.get("payer_name", ""),
        payer_relation=data.get("payer_relation", ""),
    )
    return reservation


# 2b. A person without registration (S-FC-3): name, phone, paid at once -------------------------------------


RESIDENCIES = [
    ("resident", gettext_lazy("Lives, works or studies here")),
    ("non_resident", gettext_lazy("Non-resident")),
]


def _walk_in_page(request, municipality, *, status=200, refusals=(), errors=None, just_taken=False):
    """The walk-in booking page: the unit, day and residency chosen (GET), the day's slots as the rules answer
    them for a person without registration at the counter, and, once a slot is chosen (``span``), the form with
    name, phone and the payment, the fee filled in."""
    data = request.POST if request.method == "POST" else request.GET
    unit, day = _unit_param(request, municipality, data), _day_param(data)
    residency = data.get("residency", "resident")
    if residency not in dict(RESIDENCIES):
        raise BadInput(_("Choose whether the person lives, works or studies here."))
    profile_rules = rules.ProfileRules.find(municipality)
    refusal = rules.walk_in_refusal(profile_rules, Channel.COUNTER) if profile_rules else rules.no_profile_refusal()
    payer = walk_ins.WalkIn(name="", phone="", resident=residency == "resident")
    slots = chosen = None
    if unit is not None:
        slots = selectors.day_slots(unit=unit, day=day, user=None, channel=Channel.COUNTER, walk_in=payer)
        span = data.get("span", "")
        chosen = next(
            (row for row in slots.rows if row.span == span and row.answer == selectors.SlotAnswer.PAY_NOW), None
        )
    return render(
        request,
        "counter/walk_in.html",
        {
            "municipality": municipality,
            "unit": unit,
            "day": day,
            "residency": residency,
            "residencies": RESIDENCIES,
            "refusal": refusal,
            "rule_id": profile_rules.profile.walk_in_rule_id if profile_rules else "",
            "slots": slots,
            "chosen": chosen,
            "refusals": refusals,
            "errors": errors or {},
            "just_taken": just_taken,
            "values": {k: data.get(k, "") for k in ("walk_in_name", "walk_in_phone", "receipt_number")},
            "payment_places": PaymentPlace.objects.open_first(unit.facility, clock.today()) if unit is not None else [],
            "facilities": selectors.facilities_with_units(municipality=municipality, clerk=request.user),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
        status=status,
    )


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def walk_in(request, municipality):
    """S-FC-3: a booking for a person without registration, where the profile takes them: name and phone, the
    counter only, the fee paid at once (fees.services.book_and_pay). The booking has no account; the clerk lands
    on its money page with the use permit. A profile without walk-ins (Kodaira K-REG-1, Tamba T-REG-1) refuses
    with its registration rule id."""
    from fees import services as fee_services

    try:
        if request.method != "POST":
            return _walk_in_page(request, municipality)
        data = request.POST
        unit, day = _unit_param(request, municipality, data), _day_param(data)
        if unit is None:
            raise BadInput(_("Choose a unit."))
        starts_at, ends_at = _span(data, day)
        residency = data.get("residency", "resident")
        if residency not in dict(RESIDENCIES):
            raise BadInput(_("Choose whether the person lives, works or studies here."))
        try:
            person = walk_ins.clean(
                name=data.get("walk_in_name", ""),
                phone=data.get("walk_in_phone", ""),
                resident=residency != "non_resident",
            )
        except walk_ins.WalkInInvalid as invalid:
            return _walk_in_page(
                request,
                municipality,
                status=422,
                errors=invalid.errors,
                # The fields say what is wrong beside them; above the form, one sentence (no field names).
                refusals=[rules.Refusal("form", _("Nothing was booked: correct the fields marked below."))],
            )
        amount, place = _payment_fields(request, municipality)
        reservation, _payment = fee_services.book_and_pay(
            user=None,
            walk_in=person,
            unit=unit,
            starts_at=starts_at,
            ends_at=ends_at,
            staff=request.user,
            amount=amount,
            place=place,
            receipt_number=data.get("receipt_number", ""),
        )
    except BadInput as error:
        return bad_request(request, str(error))
    except services.SlotTaken as error:
        return _walk_in_page(request, municipality, status=409, refusals=error.refusals, just_taken=True)
    except services.BookingError as error:  # a rule (S-FC-3, K-REG-1, …), the amount, the place (S-PAY-4)
        return _walk_in_page(request, municipality, status=422, refusals=error.refusals)
    messages.success(
        request,
        _(
            "Booked for %(user)s (without registration): %(facility)s, %(unit)s, %(date)s "
            "%(start)s–%(end)s (booking no. %(id)s)."
        )
        % {
            **describe_slot(unit, reservation.starts_at, reservation.ends_at),
            "id": reservation.id,
            "user": person.name,
        },
    )
    return redirect("counter:money_booking", municipality=municipality.slug, booking_id=reservation.pk)


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def lottery_apply(request, municipality, user_id):
    """K-LOT-1: lottery applications entered by staff at the counter, for residents without a PC."""
    person = selectors.get_resident(municipality=municipality, user_id=user_id)
    try:
        if request.method != "POST":
            return _slots_page(request, municipality, person, lottery=True)
        data = request.POST
        unit, day = _unit_param(request, municipality, data), _day_param(data)
        if unit is None:
            raise BadInput(_("Choose a unit."))
        starts_at, ends_at = _span(data, day)
    except BadInput as error:
        return bad_request(request, str(error))
    try:
        application = lottery_services.apply(
            user=person,
            unit=unit,
            starts_at=starts_at,
            ends_at=ends_at,
            channel=Channel.COUNTER,
            entered_by=request.user,
        )
    except lottery_services.LotteryError as error:
        return _slots_page(request, municipality, person, lottery=True, status=422, refusals=error.refusals)
    messages.success(
        request,
        _(
            "Lottery application entered for %(user)s: %(facility)s, %(unit)s, %(date)s "
            "%(start)s–%(end)s (application no. %(id)s)."
        )
        % {**describe_slot(unit, starts_at, ends_at), "id": application.id, "user": person},
    )
    return redirect("counter:user", municipality=municipality.slug, user_id=person.pk)


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def lottery_withdraw(request, municipality, application_id):
    """K-LOT-1, S-LOT-1: the clerk withdraws a resident's application while the counter's lottery window is open.
    GET asks (with the refusal and its rule id when it can no longer be withdrawn), POST withdraws
    (lottery.services.withdraw with the counter channel and the clerk: audited) and goes back to the user's page.
    404 for another municipality's application or one of a facility outside the clerk's counter scope."""
    row = selectors.get_application(municipality=municipality, application_id=application_id, clerk=request.user)
    application = row.application
    status, refusals = 200, []
    if request.method == "POST":
        try:
            lottery_services.withdraw(
                user=application.user, application_id=application.pk, channel=Channel.COUNTER, entered_by=request.user
            )
        except lottery_services.LotteryError as error:
            status, refusals = 422, error.refusals
            row = selectors.get_application(
                municipality=municipality, application_id=application_id, clerk=request.user
            )
        else:
            messages.success(
                request,
                _(
                    "Lottery application withdrawn for %(user)s: %(facility)s, %(unit)s, %(date)s "
                    "%(start)s–%(end)s (application no. %(id)s)."
                )
                % {
                    **describe_slot(application.unit, application.starts_at, application.ends_at),
                    "id": application.pk,
                    "user": application.user,
                },
            )
            return redirect(_url("user", municipality, application.user_id) + "#applications")
    return render(
        request,
        "counter/lottery_withdraw.html",
        {
            "municipality": municipality,
            "row": row,
            "person": row.application.user,
            "when": describe_slot(application.unit, application.starts_at, application.ends_at),
            "refusals": refusals or ([row.withdraw_refusal] if row.withdraw_refusal else []),
        },
        status=status,
    )


# 4. The day sheet: keys and use reports ---------------------------------------------------------------------


def _day_sheet_url(municipality, booking: Reservation) -> str:
    day = clock.localtime(booking.starts_at).date()
    return (
        _url("day_sheet", municipality, facility=booking.unit.facility.code, date=day.isoformat())
        + f"#booking-{booking.pk}"
    )


@clerk_view
@require_http_methods(["GET", "HEAD"])
def day_sheet(request, municipality):
    try:
        day = _day_param(request.GET)
    except BadInput as error:
        return bad_request(request, str(error))
    code = request.GET.get("facility", "")
    sheet = (
        selectors.day_sheet(
            municipality=municipality,
            facility=selectors.get_facility(municipality=municipality, code=code, clerk=request.user),
            day=day,
        )
        if code
        else None
    )
    return render(
        request,
        "counter/day_sheet.html",
        {
            "municipality": municipality,
            "sheet": sheet,
            "day": day,
            "code": code,
            "facilities": selectors.facilities_with_units(municipality=municipality, clerk=request.user),
            "previous_day": day - dt.timedelta(days=1),
            "next_day": day + dt.timedelta(days=1),
        },
    )


KEY_ACTIONS = {
    "lent": (services.lend_key, gettext_lazy("Key lent: booking no. %(id)s.")),
    "returned": (services.return_key, gettext_lazy("Key returned: booking no. %(id)s.")),
}


@clerk_view
@require_POST
def key(request, municipality, booking_id, action):
    if action not in KEY_ACTIONS:
        raise Http404
    row = selectors.get_booking(municipality=municipality, booking_id=booking_id, clerk=request.user)
    service, done = KEY_ACTIONS[action]
    try:
        service(reservation_id=row.reservation.pk, municipality_id=municipality.pk, staff=request.user)
    except services.BookingError as error:
        refusal_messages(request, error.refusals)
    else:
        messages.success(request, str(done) % {"id": row.reservation.pk})
    return redirect(_day_sheet_url(municipality, row.reservation))


def _time_on(day: dt.date, text: str, label: str) -> dt.datetime:
    try:
        moment = dt.time.fromisoformat(text)
    except ValueError:
        raise BadInput(
            _("%(field)s: “%(text)s” is not a time. Use the form HH:MM, e.g. 09:30.")
            % {"field": label, "text": text[:10]}
        ) from None
    return clock.at(day, moment)


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def use_report(request, municipality, booking_id):
    """K-USE-1: the use report (attendance, actual start and end), entered by staff after use."""
    row = selectors.get_booking(municipality=municipality, booking_id=booking_id, clerk=request.user)
    reservation = row.reservation
    report = row.report
    values = {
        "attendance": report.attendance if report else "",
        "actual_start": f"{clock.localtime(report.actual_start if report else reservation.starts_at):%H:%M}",
        "actual_end": f"{clock.localtime(report.actual_end if report else reservation.ends_at):%H:%M}",
        "note": report.note if report else "",
    }
    status, refusals = 200, []
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        try:
            if not values["attendance"].isdigit() or len(values["attendance"]) > 6:
                raise BadInput(_("Attendance: give a number of people."))
            # Actual times are on the use date (a report crossing midnight is not a case: slots end by 24:00).
            start = _time_on(row.day, values["actual_start"], _("Actual start"))
            end = _time_on(row.day, values["actual_end"], _("Actual end"))
            if values["actual_end"] in ("24:00", "00:00"):
                end = clock.at(row.day + dt.timedelta(days=1), dt.time(0))
            services.record_use_report(
                reservation_id=reservation.pk,
                municipality_id=municipality.pk,
                staff=request.user,
                attendance=int(values["attendance"]),
                actual_start=start,
                actual_end=end,
                note=values["note"],
            )
        except BadInput as error:
            status, refusals = 422, [services.rules.Refusal("bad_input", str(error))]
        except services.BookingError as error:
            status, refusals = 422, error.refusals
        else:
            messages.success(request, _("Use report recorded: booking no. %(id)s.") % {"id": reservation.pk})
            return redirect(_day_sheet_url(municipality, reservation))
    return render(
        request,
        "counter/use_report.html",
        {
            "municipality": municipality,
            "row": row,
            "values": values,
            "refusals": refusals,
            "back_url": _day_sheet_url(municipality, reservation),
        },
        status=status,
    )


# 5. Overrides: granted outside the windows (T-APP-5), blocks for maintenance or a municipal event ---------


OVERRIDE_KINDS = Reservation.OverrideKind.choices
# T-USE-1: a grant that starts before the opening hours (stored as a grant with the profile's rule id).
EARLY_START = "early_start"


def _override_kinds(municipality):
    """The form's kinds: grant, early start (only where the profile has early starts, T-USE-1), the blocks."""
    profile_rules = rules.ProfileRules.find(municipality)
    profile = profile_rules.profile if profile_rules else None
    kinds = list(OVERRIDE_KINDS)
    if profile is not None and profile.early_start_from is not None:
        label = _("Early start for sports from %(time)s (%(rule)s)") % {
            "time": f"{profile.early_start_from:%H:%M}",
            "rule": profile.early_start_rule_id,
        }
        kinds.insert(1, (EARLY_START, label))
    return kinds


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def override(request, municipality):
    data = request.POST if request.method == "POST" else request.GET
    values = {
        "kind": data.get("kind", Reservation.OverrideKind.GRANT),
        "user": data.get("user", "").strip(),
        "unit": data.get("unit", ""),
        "date": data.get("date", "") or clock.today().isoformat(),
        "start": data.get("start", "").strip(),
        "end": data.get("end", "").strip(),
        "rule_id": data["rule_id"].strip() if "rule_id" in data else selectors.grant_rule_id(municipality),
        "reason": data.get("reason", "").strip(),
    }
    person = None
    if values["user"]:
        if not values["user"].isdigit() or len(values["user"]) > 18:
            return bad_request(request, _("“%(text)s” is not a user number.") % {"text": values["user"][:20]})
        person = selectors.get_resident(municipality=municipality, user_id=int(values["user"]))
    status, refusals, just_taken = 200, [], False
    if request.method == "POST":
        try:
            unit, day = _unit_param(request, municipality, data), _day_param(data)
            if unit is None:
                raise BadInput(_("Choose a unit."))
            starts_at, ends_at = _span(data, day)
            if values["kind"] in (Reservation.OverrideKind.GRANT, EARLY_START):
                if person is None:
                    raise BadInput(_("Choose the user the booking is granted to."))
                if values["kind"] == EARLY_START:
                    reservation = services.book_early_start(
                        user=person,
                        unit=unit,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        reason=values["reason"],
                        staff=request.user,
                    )
                else:
                    reservation = services.book_override(
                        user=person,
                        unit=unit,
                        starts_at=starts_at,
                        ends_at=ends_at,
                        reason=values["reason"],
                        rule_id=values["rule_id"],
                        staff=request.user,
                    )
            else:
                reservation = services.block_slot(
                    unit=unit,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    reason=values["reason"],
                    kind=values["kind"],
                    staff=request.user,
                )
        except BadInput as error:
            status, refusals = 422, [services.rules.Refusal("bad_input", str(error))]
        except services.SlotTaken as error:
            status, refusals, just_taken = 409, error.refusals, True
        except services.BookingRefused as error:
            status, refusals = 422, error.refusals
        else:
            messages.success(
                request,
                _("Override recorded: booking no. %(id)s (%(kind)s).")
                % {"id": reservation.pk, "kind": reservation.get_override_kind_display()},
            )
            return redirect(_day_sheet_url(municipality, reservation))
    return render(
        request,
        "counter/override.html",
        {
            "municipality": municipality,
            "values": values,
            "person": person,
            "kinds": _override_kinds(municipality),
            "refusals": refusals,
            "just_taken": just_taken,
            "facilities": selectors.facilities_with_units(municipality=municipality, clerk=request.user),
        },
        status=status,
    )


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def release_block(request, municipality, booking_id):
    """A block for maintenance or a municipal event (``services.block_slot``) released before it starts: GET asks,
    with an optional reason; POST releases (``services.release_block``: the slots are free again, audited) and goes
    back to the day sheet. 404 for a booking that is not a block, another municipality's, or one of a facility
    outside the clerk's counter scope."""
    row = selectors.get_block(municipality=municipality, booking_id=booking_id, clerk=request.user)
    reservation = row.reservation
    reason = request.POST.get("reason", "").strip()[:300] if request.method == "POST" else ""
    status, refusals = 200, []
    if request.method == "POST":
        try:
            services.release_block(
                reservation_id=reservation.pk, municipality_id=municipality.pk, staff=request.user, reason=reason
            )
        except services.BookingError as error:
            status, refusals = 422, error.refusals
            row = selectors.get_block(municipality=municipality, booking_id=booking_id, clerk=request.user)
        else:
            messages.success(
                request, _("Block released: booking no. %(id)s; its slots are free again.") % {"id": reservation.pk}
            )
            return redirect(_day_sheet_url(municipality, reservation).split("#")[0])
    refusal = services.block_release_refusal(row.reservation, clock.now())
    return render(
        request,
        "counter/release_block.html",
        {
            "municipality": municipality,
            "row": row,
            "reason": reason,
            "when": describe_slot(reservation.unit, reservation.starts_at, reservation.ends_at),
            "refusals": refusals or ([refusal] if refusal else []),
            "back_url": _day_sheet_url(municipality, reservation),
        },
        status=status,
    )


# 6. Several slots for one person from the board: one form, one payment, one permit (issue #22, item 3) ------


@dataclass
class ChosenSlot:
    unit: object
    slot: object
    value: str  # "unit|HHMM-HHMM", the board's checkbox value
    decision: object = None
    quote: object = None

    @property
    def refusals(self):
        return self.decision.refusals if self.decision is not None else []


MAX_CHOSEN = 20


def _chosen_slots(request, municipality, data, day: dt.date) -> list[ChosenSlot]:
    """The slots chosen on the board (``slot=<unit>|<HHMM-HHMM>``, repeated): real slots of units the clerk
    serves, in time order; BadInput for a malformed or unknown one."""
    from facilities.slots import unit_slots

    values = list(dict.fromkeys(v for v in data.getlist("slot") if v))[: MAX_CHOSEN + 1]
    if len(values) > MAX_CHOSEN:
        raise BadInput(_("Choose at most %(count)s slots at once.") % {"count": MAX_CHOSEN})
    chosen, units = [], {}
    for value in values:
        unit_text, _sep, span = value.partition("|")
        if not unit_text.isdigit() or len(unit_text) > 18:
            raise BadInput(_("“%(text)s” is not a slot of the board.") % {"text": value[:30]})
        if unit_text not in units:
            unit = facility_selectors.get_unit(municipality=municipality, unit_id=int(unit_text))
            selectors.check_served(request.user, unit.facility)
            units[unit_text] = unit
        unit = units[unit_text]
        starts_at, ends_at = parse_span(day, span)
        slot = next((s for s in unit_slots(unit, day) if (s.starts_at, s.ends_at) == (starts_at, ends_at)), None)
        if slot is None:
            raise BadInput(_("“%(text)s” is not a slot of the board.") % {"text": value[:30]})
        chosen.append(ChosenSlot(unit, slot, value))
    return sorted(chosen, key=lambda c: (c.slot.starts_at, c.unit.sort_order, c.unit.code))


def _quote(person, chosen: list[ChosenSlot], channel: str) -> None:
    """Each chosen slot with what the rules say now (limits of all the chosen slots are checked by the booking
    itself, one after the other) and its fee, line by line."""
    from fees.rules import LOOK_UP, exemption_on, quote_or_none

    now = clock.now()
    exemption = LOOK_UP
    for item in chosen:
        profile_rules = rules.ProfileRules.find(item.unit.municipality_id)
        if profile_rules is None:
            item.decision = rules.Decision(refusals=[rules.no_profile_refusal()])
            continue
        walk_in = isinstance(person, walk_ins.WalkIn)
        item.decision = rules.evaluate(
            rules=profile_rules,
            user=None if walk_in else person,
            unit=item.unit,
            slots=[item.slot],
            channel=channel,
            now=now,
            paying_now=None,
        )
        if walk_in:
            exemption = None  # no account, no exemption (S-FC-3)
        elif exemption is LOOK_UP:
            exemption = exemption_on(
                user=person, municipality=item.unit.municipality_id, day=clock.localtime(now).date()
            )
        item.quote = quote_or_none(
            user=person, unit=item.unit, slots=[item.slot], booked_on=clock.localtime(now).date(), exemption=exemption
        )


def _default_place(clerk, places: list, facilities) -> object:
    """The clerk's own counter: the place of the clerk's last payment when it takes these fees, else a place at
    one of the clerk's facilities, else the first open one (``open_first``)."""
    from fees.models import Payment

    if not places:
        return None
    by_pk = {p.pk: p for p in places}
    last = Payment.objects.filter(recorded_by=clerk).order_by("-recorded_at", "-id").values_list("place_id", flat=True)
    last_place = by_pk.get(next(iter(last[:1]), None))
    if last_place is not None and last_place.open_on_day:
        return last_place
    scope = selectors.served_facility_ids(clerk)
    if scope:
        own = [p for p in places if p.open_on_day and {f.pk for f in p.facilities.all()} & scope]
        if own:
            return own[0]
    return places[0]


def _walk_in_param(data):
    """``walk_in=1``: the slots are for a person without registration (S-FC-3); their name, phone and residency
    as typed (checked by ``walk_ins.clean`` when booking)."""
    if data.get("walk_in") != "1":
        return None
    return walk_ins.WalkIn(
        name=data.get("walk_in_name", "").strip(),
        phone=data.get("walk_in_phone", "").strip(),
        resident=data.get("residency", "resident") != "non_resident",
    )


def _book_slots_page(request, municipality, *, status=200, refusals=(), values=None, errors=None):
    data = request.POST if request.method == "POST" else request.GET
    day = _day_param(data)
    chosen = _chosen_slots(request, municipality, data, day)
    person = _person_param(municipality, data)
    profile_rules = rules.ProfileRules.find(municipality)
    walk_in_refused = (
        rules.walk_in_refusal(profile_rules, Channel.COUNTER) if profile_rules else rules.no_profile_refusal()
    )
    payer = _walk_in_param(data) if person is None and walk_in_refused is None else None
    channels = _channels(municipality)
    if payer is not None:  # a person without registration: at the counter only (S-FC-3)
        channels = [c for c in channels if c[0] == Channel.COUNTER]
    channel = data.get("channel", channels[0][0])
    if channel not in dict(channels):
        channel = channels[0][0]
    query = data.get("q", "").strip()[:100]
    found = selectors.search_users(municipality=municipality, query=query)[:20] if query and person is None else []
    places, place = [], None
    if (person or payer) is not None and chosen:
        _quote(person or payer, chosen, channel)
        places = PaymentPlace.objects.open_first(chosen[0].unit.facility, clock.today())
        place = _default_place(request.user, places, {c.unit.facility for c in chosen})
    total = sum(c.quote.total for c in chosen if c.quote is not None)
    values = values or {}
    return render(
        request,
        "counter/book_slots.html",
        {
            "municipality": municipality,
            "day": day,
            "chosen": chosen,
            "person": person,
            "walk_in": payer,
            "walk_ins_taken": walk_in_refused is None,
            "walk_in_rule_id": profile_rules.profile.walk_in_rule_id if profile_rules else "",
            "residencies": RESIDENCIES,
            "pay_needed": payer is not None
            or any(c.decision is not None and c.decision.paid_at_booking for c in chosen),
            "channels": channels,
            "channel": channel,
            "has_counter": Channel.COUNTER in dict(channels),
            "query": query,
            "found": found,
            "payment_places": places,
            "place": values.get("place") or (place.pk if place else None),
            "total": total,
            "any_refused": any(c.refusals for c in chosen),
            "values": values,
            "errors": errors or {},
            "refusals": refusals,
            "board_url": _url("home", municipality, date=day.isoformat(), user=person.pk if person else None),
        },
        status=status,
    )


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def book_slots(request, municipality):
    """One or several slots chosen on the board, for one person: GET finds the person (``?q=``) and shows the
    form — every slot with what the rules say and its fee line by line, the total, the payment (amount filled
    in, the clerk's own counter chosen); POST books them all and, with a receipt number, pays them with one
    payment and one permit (``fees.services.book_several``), or books none and says why for each slot."""
    from fees import services as fee_services

    try:
        if request.method != "POST":
            return _book_slots_page(request, municipality)
        data = request.POST
        day = _day_param(data)
        chosen = _chosen_slots(request, municipality, data, day)
        person = _person_param(municipality, data)
        payer = _walk_in_param(data) if person is None else None
        channel = data.get("channel", "")
        if not chosen:
            raise BadInput(_("Choose at least one slot on the board."))
        if person is None and payer is None:
            raise BadInput(_("Choose the person the booking is for."))
        if channel not in (Channel.COUNTER, Channel.PHONE):
            raise BadInput(_("Choose the counter or the telephone."))
    except BadInput as error:
        return bad_request(request, str(error))
    values = {k: data.get(k, "").strip() for k in ("amount", "receipt_number", "place", "payer_name")}
    errors = {}
    amount = place = None
    paying = bool(values["receipt_number"])
    if paying:
        if not values["amount"].isdigit() or len(values["amount"]) > 9:
            errors["amount"] = _("Enter the amount received in whole yen, e.g. 1260.")
        else:
            amount = int(values["amount"])
        if values["place"].isdigit():
            place = PaymentPlace.objects.of(municipality).filter(pk=int(values["place"])).first()
        if place is None:
            errors["place"] = _("Choose the payment place.")
    elif values["amount"] and values["amount"] != "0":
        errors["receipt_number"] = _(
            "Enter the receipt number of the payment, or empty the amount to book without paying."
        )
    if payer is not None:
        if not paying:
            errors["receipt_number"] = _("A booking without registration is paid when it is made: enter the receipt.")
        try:
            payer = walk_ins.clean(name=payer.name, phone=payer.phone, resident=payer.resident)
        except walk_ins.WalkInInvalid as invalid:
            errors.update(invalid.errors)
    if errors:
        return _book_slots_page(
            request,
            municipality,
            status=422,
            values=values,
            errors=errors,
            refusals=[rules.Refusal("form", _("Nothing was booked: correct the fields marked below."))],
        )
    try:
        booked, combined = fee_services.book_several(
            user=person,
            slots=[(c.unit, c.slot.starts_at, c.slot.ends_at) for c in chosen],
            channel=channel,
            staff=request.user,
            amount=amount,
            place=place,
            receipt_number=values["receipt_number"],
            payer_name=values["payer_name"],
            walk_in=payer,
        )
    except services.BookingError as error:
        return _book_slots_page(request, municipality, status=422, values=values, refusals=error.refusals)
    if payer is not None:
        person = _("%(name)s (without registration)") % {"name": payer.name}
    if combined is not None:
        messages.success(
            request,
            _("Booked and paid for %(user)s: %(count)s slots, %(amount)s yen, permit %(number)s.")
            % {
                "user": person,
                "count": len(booked),
                "amount": f"{combined.amount:,}",
                "number": combined.permit_number,
            },
        )
        return redirect("fees:permit", municipality=municipality.slug, booking_id=booked[0].pk)
    messages.success(
        request,
        _("Booked for %(user)s: %(count)s slots (booking no. %(ids)s).")
        % {"user": person, "count": len(booked), "ids": ", ".join(str(r.pk) for r in booked)},
    )
    return redirect("counter:user", municipality=municipality.slug, user_id=person.pk)
