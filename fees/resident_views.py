"""The pages of a booking's user about its money: the use permit (which the municipality's clerks may print too)
and the transfer after rain or heat (S-WX-1 振替 online). The counter's money pages are in counter/money_views.py.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from config import clock
from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, parse_day, parse_month, parse_span
from facilities.models import Municipality, RuleProfile, Unit
from reservations import rules as booking_rules
from reservations import services as booking_services
from reservations.models import Reservation
from reservations.rules import Refusal

from . import booked_selectors, services
from . import transfer_selectors as fee_selectors
from .models import Payment


def _booking(municipality, booking_id: int) -> Reservation:
    """The booking of this municipality (404 for another's)."""
    return get_object_or_404(
        Reservation.objects.of(municipality).select_related("unit__facility", "user", "booked_by"), pk=booking_id
    )


def _payment(reservation: Reservation) -> Payment | None:
    return Payment.objects.filter(reservation=reservation).select_related("place", "recorded_by", "refund").first()


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def permit(request, municipality, booking_id):
    """The use permit (利用承認書 / 施設使用許可書) of a confirmed booking, printable on A4 or a receipt printer
    (``?paper=receipt``): the fee, a fee exemption (K-USE-2) and the payment when there is one. Its user and the
    municipality's staff may see it; anyone else — and anyone before the booking is due its permit
    (``services.permit_refusal``: S-PAY-1 and T-PAY-1 not before payment) — gets 404."""
    muni = get_object_or_404(Municipality, slug=municipality)
    reservation = _booking(muni, booking_id)
    if reservation.user_id != request.user.pk and not request.user.serves_facility(reservation.unit.facility):
        raise Http404  # neither its user nor a clerk whose counter serves the facility (issue #7)
    issued = services.permit_for(reservation)
    if issued is None:
        raise Http404
    breakdown = reservation.fee_breakdown
    combined = issued.combined if issued.combined_id else None
    together = (
        list(
            Reservation.objects.filter(permit__combined=combined)
            .select_related("unit__facility", "payment")
            .order_by("starts_at", "unit__sort_order", "id")
        )
        if combined is not None
        else []
    )
    return render(
        request,
        "fees/permit.html",
        {
            "combined": combined,  # one payment and one permit for several bookings (issue #22, item 3)
            "together": together,
            "municipality": muni,
            "reservation": reservation,
            "permit": issued,
            "payment": _payment(reservation),
            "exemption": next((line for line in breakdown.lines if line.kind == "exemption"), None)
            if breakdown
            else None,
            "receipt": request.GET.get("paper") == "receipt",
            "is_clerk": request.user.is_clerk_of(muni.pk),
            "permit_title": getattr(RuleProfile.objects.filter(municipality=muni).first(), "permit_title", ""),
        },
    )


# The completion page of a booking (issue #21 item 5) -------------------------------------------------------------


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def booked(request, municipality, booking_id):
    """Step ③ of booking: the booking just made and what happens next (payment deadline, where to pay and when
    those places are open, the use permit, cancelling). The booking POST redirects here (Post/Redirect/Get), so
    reloading it or going back books nothing again. The user's own bookings only (404 otherwise)."""
    muni = facility_selectors.get_municipality(municipality)
    steps = booked_selectors.next_steps(municipality=muni, user=request.user, booking_id=booking_id)
    return render(request, "fees/booked.html", {"municipality": muni, "next": steps, "row": steps.row, "step": 3})


# The resident's transfer after rain or heat (S-WX-1 振替 online) ----------------------------------------------------


def _no_claim(request, muni, reservation, policy):
    """The user's own booking without a rain/heat stop: nothing to transfer, said with the rule (409)."""
    refusal = Refusal(
        policy.rule_id,
        _(
            "No rain or heat stop is recorded for this booking, so it cannot be transferred. Staff record a stop on "
            "the day of use, and not after %(limit)s minutes of use."
        )
        % {"limit": policy.used_minutes_limit},
    )
    return render(
        request,
        "fees/transfer_refused.html",
        {"municipality": muni, "reservation": reservation, "refusals": [refusal]},
        status=409,
    )


def _transfer_unit(request, reservation, unit_id) -> Unit:
    """A unit the booking may move to (same kind, same facility); 404 for any other."""
    for unit in fee_selectors.transfer_units(reservation):
        if str(unit.pk) == str(unit_id):
            return unit
    raise Http404(_("This unit does not take transfers of this booking."))


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def my_transfer(request, municipality, booking_id):
    """The free slots the user may move a rained-off or heat-stopped booking to, a month at a time (no JavaScript:
    the unit and the month are links and a GET form), and the alternative: a full refund at the counter."""
    muni = facility_selectors.get_municipality(municipality)
    reservation, claim, policy = fee_selectors.my_weather_claim(
        municipality=muni, user=request.user, booking_id=booking_id
    )
    if claim is None:
        return _no_claim(request, muni, reservation, policy)
    try:
        month = None
        if request.GET.get("month"):
            year, number = parse_month(request.GET["month"])
            month = dt.date(year, number, 1)
    except BadInput as error:
        return bad_request(request, str(error))
    unit = _transfer_unit(request, reservation, request.GET.get("unit") or reservation.unit_id)
    choice = fee_selectors.transfer_choice(claim=claim, policy=policy, user=request.user, unit=unit, month=month)
    return render(
        request,
        "fees/transfer.html",
        {
            "municipality": muni,
            "reservation": reservation,
            "claim": claim,
            "choice": choice,
        },
        status=409 if choice.refusal is not None else 200,
    )


def _transfer_url(muni, reservation, unit, starts_at, ends_at) -> str:
    day = clock.localtime(starts_at).date()
    return reverse(
        "fees:transfer_confirm",
        args=[muni.slug, reservation.pk, unit.pk, day.isoformat(), facility_selectors.span_param(starts_at, ends_at)],
    )


def _same_slot(claim, unit, starts_at, ends_at) -> bool:
    new = claim.transferred_to
    return new is not None and new.unit_id == unit.pk and new.starts_at == starts_at and new.ends_at == ends_at


def _already_done(request, muni, claim):
    """The same form sent again (back button, double click): the first POST made the transfer."""
    messages.info(request, _("Already transferred: booking no. %(id)s.") % {"id": claim.transferred_to_id})
    return redirect(reverse("reservations:my_bookings", args=[muni.slug]) + f"#booking-{claim.transferred_to_id}")


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def my_transfer_confirm(request, municipality, booking_id, unit_id, day, span):
    """GET: the old booking and the new slot, with the rules' answer; POST: transfer (Post/Redirect/Get)."""
    muni = facility_selectors.get_municipality(municipality)
    try:
        use_date = parse_day(day)
        starts_at, ends_at = parse_span(use_date, span)
    except BadInput as error:
        return bad_request(request, str(error))
    reservation, claim, policy = fee_selectors.my_weather_claim(
        municipality=muni, user=request.user, booking_id=booking_id
    )
    if claim is None:
        return _no_claim(request, muni, reservation, policy)
    unit = _transfer_unit(request, reservation, unit_id)
    if _same_slot(claim, unit, starts_at, ends_at):
        return _already_done(request, muni, claim)
    status, refusals, taken = 200, [], False
    if request.method == "POST":
        try:
            new = services.transfer_weather_claim_online(
                reservation_id=reservation.pk, user=request.user, unit=unit, starts_at=starts_at, ends_at=ends_at
            )
        except services.BookingError as error:
            claim.refresh_from_db()
            if _same_slot(claim, unit, starts_at, ends_at):
                return _already_done(request, muni, claim)
            refusals = error.refusals
            taken = isinstance(error, booking_services.SlotTaken)
            status = 409 if taken or any(r.code == "claim_settled" for r in refusals) else 422
        else:
            messages.success(
                request,
                _(
                    "Transferred without a new payment: booking no. %(id)s, %(date)s %(start)s–%(end)s. The new use "
                    "permit is below."
                )
                % {
                    "id": new.pk,
                    "date": date_format(use_date, "DATE_FORMAT"),
                    "start": f"{clock.localtime(new.starts_at):%H:%M}",
                    "end": f"{clock.localtime(new.ends_at):%H:%M}",
                },
            )
            return redirect(reverse("reservations:my_bookings", args=[muni.slug]) + f"#booking-{new.pk}")
    else:
        refusals, taken = _transfer_check(claim, policy, request.user, unit, starts_at, ends_at)
        if refusals:
            status = 409 if taken or any(r.code == "claim_settled" for r in refusals) else 422
    return render(
        request,
        "fees/transfer_confirm.html",
        {
            "municipality": muni,
            "reservation": reservation,
            "claim": claim,
            "unit": unit,
            "day": use_date,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "refusals": refusals,
            "taken": taken,
            "policy": policy,
            "back_url": reverse("fees:transfer", args=[muni.slug, reservation.pk])
            + f"?unit={unit.pk}&month={use_date:%Y-%m}",
        },
        status=status,
    )


def _transfer_check(claim, policy, user, unit, starts_at, ends_at) -> tuple[list, bool]:
    """What the POST would answer, without writing: the slot's shape, the rules, whether someone holds it."""
    from reservations.models import SlotHold

    try:
        slots = booking_rules.resolve_slots(unit, starts_at, ends_at)
    except booking_rules.SlotRequestError as error:
        settled = services.transfer_refusal(claim, policy)
        return ([settled] if settled else []) + [error.refusal], False
    refusals = services.transfer_slot_refusals(claim, policy, user=user, unit=unit, slots=slots, now=clock.now())
    if SlotHold.objects.filter(unit=unit, starts_at__in=[s.starts_at for s in slots]).exists():
        return [*refusals, booking_services.SlotTaken().refusals[0]], True
    return refusals, False
