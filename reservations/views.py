"""The resident's booking pages: confirm a slot, my bookings, cancel a booking.

Thin: parse the address, call a selector (reads) or a service (writes), render. Every POST answers with a
redirect when it changed something (Post/Redirect/Get), so the back button and a refresh never book twice;
a refused or lost booking re-renders the confirm page with the reasons (422, 409), never a 500.
Pages are ``never_cache``: going back to a grid or a confirm page fetches it again and shows the slot as it is.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config import clock
from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, describe_slot, parse_until, slot_address
from facilities.models import Channel, Municipality, Unit

from . import rules, selectors, services
from .forms import FIELD_OF_CODE, BookingForm
from .models import Reservation


def _week_url(municipality: Municipality, unit: Unit, start: dt.date, changing: Reservation | None = None) -> str:
    url = reverse("facilities:unit_week", args=[municipality.slug, unit.id, start.isoformat()])
    return f"{url}?change={changing.pk}" if changing else url


def _confirm_url(
    municipality: Municipality, unit: Unit, day: dt.date, span: str, week: dt.date, changing=None, prefill=None
) -> str:
    url = reverse("reservations:confirm", args=[municipality.slug, unit.id, day.isoformat(), span])
    url = f"{url}?week={week.isoformat()}" + (f"&change={changing.pk}" if changing else "")
    return url + (f"&{urlencode(prefill)}" if prefill else "")


def booking_being_changed(request, municipality: Municipality) -> Reservation | None:
    """The booking named by ?change= (the resident is moving it, K-FC-4, S-PAY-3), or None without the parameter.
    BadInput when malformed; 404 when it is not the user's; the booking is returned even when it can no longer
    be changed, and the change itself then answers with the rule id."""
    text = request.GET.get("change", "")
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise BadInput(_("“%(text)s” is not a booking number.") % {"text": text[:20]})
    if not request.user.is_authenticated:
        return None
    reservation, _refusal = selectors.booking_to_change(
        municipality=municipality, user=request.user, booking_id=int(text)
    )
    return reservation


def _render_confirm(request, municipality, unit, booking, week, *, status=200, just_taken=False, form=None, problem=""):
    changing = booking.replacing
    form = form if form is not None else BookingForm(initial=_prefill(request.GET))
    # The end-time select's htmx request (JavaScript on): ?until= on this address, answered by the same page (the
    # redirect to the chosen range, then its page, from which htmx takes the range, fee and button). Its only
    # difference: the status line announcing the new range and fee to screen readers.
    range_query = {name: request.GET[name] for name in ("week", "change") if request.GET.get(name)}
    response = render(
        request,
        "reservations/confirm.html",
        {
            "municipality": municipality,
            "unit": unit,
            "booking": booking,
            "week": week,
            "week_url": _week_url(municipality, unit, week, changing),
            "just_taken": just_taken,
            "changing": changing,
            "changing_when": describe_slot(changing.unit, changing.starts_at, changing.ends_at) if changing else None,
            "form": form,
            "problem": problem,  # why nothing was booked although the form was sent: the range or fee changed
            "step": 2,
            "range_url": f"{request.path}?{urlencode(range_query)}" if range_query else request.path,
            "live_update": request.headers.get("HX-Request") == "true",
        },
        status=status,
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def _prefill(query) -> dict:
    """The booking form's answers carried in the address (a page of another range keeps what was typed)."""
    return {name: query[name] for name in ("purpose", "headcount", "terms") if query.get(name)}


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, municipality, unit_id, day, span):
    try:
        muni, unit, use_date, starts_at, ends_at, week = slot_address(request, municipality, unit_id, day, span)
        changing = booking_being_changed(request, muni)
        if request.method != "POST" and "until" in request.GET:
            # The no-JavaScript end-time picker (Tamba, T-USE-1): go to the canonical address of that run.
            ends_at = parse_until(use_date, starts_at, request.GET["until"])
            span = facility_selectors.span_param(starts_at, ends_at)
            return redirect(_confirm_url(muni, unit, use_date, span, week, changing, _prefill(request.GET)))
    except BadInput as error:
        return bad_request(request, str(error))

    if request.method == "POST":
        other_range = _other_range_chosen(request, muni, unit, use_date, starts_at, ends_at, week, changing)
        if other_range is not None:
            return other_range
        if changing is not None:
            return _change(request, muni, unit, starts_at, ends_at, week, changing)
        return _book(request, muni, unit, starts_at, ends_at, week)

    booking = selectors.booking_request(
        unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at, replacing=changing
    )
    if booking.mine is not None:
        # Back from the completion page or "my bookings" lands here: there is nothing left to confirm, so show the
        # week with the slot as the resident's own (a redirect, so going back further still works).
        messages.info(request, _("You have booked this slot (booking no. %(id)s).") % {"id": booking.mine})
        return redirect(_week_url(muni, unit, week))
    return _render_confirm(request, muni, unit, booking, week)


def _other_range_chosen(request, muni, unit, use_date, starts_at, ends_at, week, changing):
    """Another end time in the form's select than the page showed (no JavaScript: the page still shows the old
    one): nothing is booked; a redirect to the confirm page of the chosen range, which shows its fee first.
    None when the select agrees with the page (or there is none); a 400 page for a malformed time."""
    until = request.POST.get("until", "")
    if not until:
        return None
    try:
        chosen_end = parse_until(use_date, starts_at, until)
    except BadInput as error:
        return bad_request(request, str(error))
    if chosen_end == ends_at:
        return None
    messages.warning(
        request,
        _(
            "You chose %(start)s–%(end)s. Nothing is booked yet: check the time and the fee below, then press the "
            "booking button again."
        )
        % {"start": clock.localtime(starts_at).strftime("%H:%M"), "end": describe_end(chosen_end)},
    )
    span = facility_selectors.span_param(starts_at, chosen_end)
    prefill = BookingForm(request.POST).prefill()
    return redirect(_confirm_url(muni, unit, use_date, span, week, changing, prefill))


def _book(request, muni, unit, starts_at, ends_at, week):
    """Book exactly the range the confirm page showed, with its fee, or nothing (issue #21 item 2): another end
    time chosen in the form shows the confirm page of that range first; a range or fee that differs from what
    the page showed, a slot taken, a rule's refusal or a missing answer re-render the page saying so."""
    form = BookingForm(request.POST)
    shown_span = facility_selectors.span_param(starts_at, ends_at)
    booking = selectors.booking_request(unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at)
    if booking.mine is not None:
        # The same form sent twice (a double click, a resubmitted page): the first one booked it.
        messages.info(request, _("This slot is already yours (booking no. %(id)s).") % {"id": booking.mine})
        return redirect("reservations:my_bookings", municipality=muni.slug)
    form.is_valid()
    shown = form.cleaned_data.get("shown") or shown_span
    fee_now = booking.fee.total if booking.fee else None
    fee_shown = form.cleaned_data.get("fee_shown")
    problem = ""
    if shown != shown_span:
        problem = _(
            "The form was for %(shown)s, but this page is for %(asked)s. Nothing was booked: check the time and the "
            "fee below, then press the booking button again."
        ) % {"shown": _span_words(shown), "asked": _span_words(shown_span)}
    elif "fee_shown" in request.POST and fee_shown != fee_now and booking.allowed:
        problem = _(
            "The fee changed since the page was shown (now %(now)s). Nothing was booked: check it below, then "
            "press the booking button again."
        ) % {"now": _("%(total)s yen") % {"total": f"{fee_now:,}"} if fee_now is not None else _("not set")}
    if problem:
        return _render_confirm(request, muni, unit, booking, week, status=409, form=form, problem=problem)
    answered = form.is_valid()
    if answered and booking.allowed:  # the answers beside their fields (the booking itself checks them again)
        for refusal in rules.details_refusals(booking.profile, form.details()):
            form.add_error(FIELD_OF_CODE.get(refusal.code), refusal.message)
            answered = False
    if not answered:
        return _render_confirm(request, muni, unit, booking, week, status=422, form=form)
    try:
        reservation = services.book(
            user=request.user,
            unit=unit,
            starts_at=starts_at,
            ends_at=ends_at,
            channel=Channel.ONLINE,
            details=form.details(),
        )
    except services.SlotTaken:
        booking = selectors.booking_request(unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at)
        if booking.mine is not None:
            messages.info(request, _("This slot is already yours (booking no. %(id)s).") % {"id": booking.mine})
            return redirect("reservations:my_bookings", municipality=muni.slug)
        booking.taken = True
        return _render_confirm(request, muni, unit, booking, week, status=409, just_taken=True, form=form)
    except services.BookingRefused as error:
        booking = selectors.booking_request(unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at)
        booking.decision = None  # what the booking itself answered wins over a fresh look
        booking.refusals = error.refusals
        return _render_confirm(request, muni, unit, booking, week, status=422, form=form)
    # Post/Redirect/Get to the completion page: reloading it or going back books nothing again.
    return redirect("fees:booked", municipality=muni.slug, booking_id=reservation.id)


def describe_end(ends_at: dt.datetime) -> str:
    end = clock.localtime(ends_at)
    return "24:00" if end.time() == dt.time(0) else end.strftime("%H:%M")


def _span_words(span: str) -> str:
    """0900-1200 → 09:00–12:00 (as the page shows a range); anything else as it came, shortened."""
    if len(span) == 9 and span[4] == "-" and (span[:4] + span[5:]).isdigit():
        return f"{span[:2]}:{span[2:4]}–{span[5:7]}:{span[7:]}"
    return span[:20]


def _change(request, muni, unit, starts_at, ends_at, week, changing):
    try:
        reservation = services.change_online(
            user=request.user, reservation_id=changing.pk, unit=unit, starts_at=starts_at, ends_at=ends_at
        )
    except (services.SlotTaken, services.BookingRefused) as error:
        booking = selectors.booking_request(
            unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at, replacing=changing
        )
        taken = isinstance(error, services.SlotTaken)
        booking.taken = booking.taken or taken
        if not taken:
            booking.decision = None  # what the change itself answered wins over a fresh look
            booking.refusals = error.refusals
        return _render_confirm(request, muni, unit, booking, week, status=409 if taken else 422, just_taken=taken)
    except Reservation.DoesNotExist:  # gone between the page and the lock
        messages.error(request, _("This booking no longer exists."))
        return redirect("reservations:my_bookings", municipality=muni.slug)
    messages.success(
        request,
        _(
            "Changed: booking no. %(old)s is now %(facility)s, %(unit)s, %(date)s %(start)s–%(end)s (booking no. "
            "%(id)s)."
        )
        % {**describe_slot(unit, reservation.starts_at, reservation.ends_at), "id": reservation.id, "old": changing.pk},
    )
    return redirect("reservations:my_bookings", municipality=muni.slug)


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def my_bookings(request, municipality):
    muni = facility_selectors.get_municipality(municipality)
    # ?page=N pages the upcoming bookings (plain links, the back button works); a bad number gives page 1 or the
    # last page, never an error.
    bookings = selectors.my_bookings(municipality=muni, user=request.user, page=request.GET.get("page"))
    return render(request, "reservations/my_bookings.html", {"municipality": muni, "bookings": bookings})


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request, municipality, booking_id):
    muni = facility_selectors.get_municipality(municipality)
    row = selectors.get_my_booking(municipality=muni, user=request.user, booking_id=booking_id)
    if request.method == "POST":
        reservation = row.reservation
        try:
            services.cancel_online(user=request.user, reservation_id=reservation.id)
        except services.BookingRefused as error:
            for refusal in error.refusals:
                messages.error(
                    request,
                    _("Not cancelled: %(message)s (%(code)s)") % {"message": refusal.message, "code": refusal.code},
                )
        except Reservation.DoesNotExist:  # gone between the look-up and the lock
            messages.error(request, _("This booking no longer exists."))
        else:
            messages.success(
                request,
                _("Cancelled: %(facility)s, %(unit)s, %(date)s %(start)s–%(end)s (booking no. %(id)s).")
                % {**describe_slot(reservation.unit, reservation.starts_at, reservation.ends_at), "id": reservation.id},
            )
        return redirect("reservations:my_bookings", municipality=muni.slug)
    return render(request, "reservations/cancel.html", {"municipality": muni, "row": row})
