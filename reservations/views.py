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
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, describe_slot, parse_until, slot_address
from facilities.models import Channel, Municipality, Unit

from . import selectors, services
from .models import Reservation


def _week_url(municipality: Municipality, unit: Unit, start: dt.date, changing: Reservation | None = None) -> str:
    url = reverse("facilities:unit_week", args=[municipality.slug, unit.id, start.isoformat()])
    return f"{url}?change={changing.pk}" if changing else url


def _confirm_url(municipality: Municipality, unit: Unit, day: dt.date, span: str, week: dt.date, changing=None) -> str:
    url = reverse("reservations:confirm", args=[municipality.slug, unit.id, day.isoformat(), span])
    return f"{url}?week={week.isoformat()}" + (f"&change={changing.pk}" if changing else "")


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


def _render_confirm(request, municipality, unit, booking, week, *, status=200, just_taken=False):
    changing = booking.replacing
    return render(
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
        },
        status=status,
    )


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
            return redirect(_confirm_url(muni, unit, use_date, span, week, changing))
    except BadInput as error:
        return bad_request(request, str(error))

    if request.method == "POST":
        if changing is not None:
            return _change(request, muni, unit, starts_at, ends_at, week, changing)
        return _book(request, muni, unit, starts_at, ends_at, week)

    booking = selectors.booking_request(
        unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at, replacing=changing
    )
    if booking.mine is not None:
        # Back from "my bookings" lands here: there is nothing left to confirm, so show the week with the slot
        # as the resident's own (a redirect, so going back further still works).
        messages.info(request, _("You have booked this slot (booking no. %(id)s).") % {"id": booking.mine})
        return redirect(_week_url(muni, unit, week))
    return _render_confirm(request, muni, unit, booking, week)


def _book(request, muni, unit, starts_at, ends_at, week):
    try:
        reservation = services.book(
            user=request.user, unit=unit, starts_at=starts_at, ends_at=ends_at, channel=Channel.ONLINE
        )
    except services.SlotTaken:
        booking = selectors.booking_request(unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at)
        if booking.mine is not None:
            # The same form sent twice (a double click, a resubmitted page): the first one booked it.
            messages.info(request, _("This slot is already yours (booking no. %(id)s).") % {"id": booking.mine})
            return redirect("reservations:my_bookings", municipality=muni.slug)
        booking.taken = True
        return _render_confirm(request, muni, unit, booking, week, status=409, just_taken=True)
    except services.BookingRefused as error:
        booking = selectors.booking_request(unit=unit, user=request.user, starts_at=starts_at, ends_at=ends_at)
        booking.decision = None  # what the booking itself answered wins over a fresh look
        booking.refusals = error.refusals
        return _render_confirm(request, muni, unit, booking, week, status=422)
    messages.success(
        request,
        _("Booked: %(facility)s, %(unit)s, %(date)s %(start)s–%(end)s (booking no. %(id)s).")
        % {**describe_slot(unit, reservation.starts_at, reservation.ends_at), "id": reservation.id},
    )
    return redirect("reservations:my_bookings", municipality=muni.slug)


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
