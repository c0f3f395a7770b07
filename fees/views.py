"""Money pages (issue #5): the counter's page of one booking (payment, cancellation with refund, rain or heat),
the municipality's closure of a facility (T-CAN-2), and the use permit that resident and clerk can print.

Thin: parse the form, call one service of fees/services.py, render; Post/Redirect/Get after every change, so a
refresh or the back button never records a payment or a refund twice (and the services refuse a second one).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.staff import clerk_view, refusal_messages
from config import clock
from facilities.models import Facility, Municipality, RuleProfile, Unit
from reservations.models import Reservation

from . import services
from .forms import CancelForm, ChangeForm, ClosureForm, PaymentForm, TransferForm, WeatherForm
from .models import Cause, Payment, PaymentPlace, WeatherClaim, WeatherPolicy


def _booking(municipality, booking_id: int) -> Reservation:
    return get_object_or_404(
        Reservation.objects.of(municipality).select_related("unit__facility", "user", "booked_by"), pk=booking_id
    )


def _payment(reservation: Reservation) -> Payment | None:
    return Payment.objects.filter(reservation=reservation).select_related("place", "recorded_by", "refund").first()


def _claim(reservation: Reservation) -> WeatherClaim | None:
    return WeatherClaim.objects.filter(reservation=reservation).select_related("transferred_to", "refund").first()


def _places_for(reservation: Reservation):
    return PaymentPlace.objects.taking_fees_of(reservation.unit.facility)


def _payment_warnings(request, reservation, payment, places, now):
    """What would stop a payment now (a passed deadline, a closed place …), shown above the form; the amount is
    the clerk's to enter, so its refusal is left out."""
    place = places.first()
    if payment is not None or place is None:
        return []
    refusals = services.payment_refusals(reservation, amount=reservation.fee_total or 0, place=place,
                                         staff=request.user, now=now)
    return [r for r in refusals if r.code != "wrong_amount"]


def _booking_url(municipality, reservation) -> str:
    return reverse("money:booking", args=[municipality.slug, reservation.pk])


def _page(request, municipality, reservation, *, status=200, payment_form=None, cancel_cause=None):
    payment, claim = _payment(reservation), _claim(reservation)
    places = _places_for(reservation)
    cause = cancel_cause or request.GET.get("cause", Cause.OWN)
    if cause not in Cause.values:
        cause = Cause.OWN
    quote = services.cancellation_quote(reservation, cause=cause)
    now = clock.now()
    return render(request, "fees/counter/booking.html", {
        "municipality": municipality, "reservation": reservation, "person": reservation.user,
        "payment": payment, "claim": claim, "quote": quote, "cause": cause,
        "payment_form": payment_form or PaymentForm(places=places, initial={"amount": reservation.fee_total}),
        "payment_refusals": _payment_warnings(request, reservation, payment, places, now),
        "cancel_form": CancelForm(places=places, initial={"cause": cause, "expected_refund": quote.refund}),
        "weather_policy": WeatherPolicy.objects.filter(municipality=municipality).first(),
        "weather_form": WeatherForm(),
        "change_form": ChangeForm(units=_units_like(reservation), places=places, initial={"unit": reservation.unit_id}),
        "transfer_form": TransferForm(units=_units_like(reservation), initial={"unit": reservation.unit_id}) if claim else None,
        "started": reservation.starts_at <= now,
    }, status=status)


@clerk_view
@require_http_methods(["GET", "HEAD"])
def booking(request, municipality, booking_id):
    """Everything money about one booking: its fee, payment or the form to record it, the permit, the refund
    a cancellation would give (shown before the clerk confirms), rain or heat."""
    return _page(request, municipality, _booking(municipality, booking_id))


@clerk_view
@require_POST
def pay(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id)
    form = PaymentForm(request.POST, places=_places_for(reservation))
    if not form.is_valid():
        return _page(request, municipality, reservation, status=400, payment_form=form)
    data = form.cleaned_data
    try:
        payment = services.record_payment(
            reservation_id=reservation.pk, amount=data["amount"], place=data["place"],
            receipt_number=data["receipt_number"], payer_name=data["payer_name"], payer_relation=data["payer_relation"],
            staff=request.user,
        )
    except services.PaymentRefused as error:
        refusal_messages(request, error.refusals)
        return _page(request, municipality, reservation, status=422, payment_form=form)
    messages.success(request, _("Payment recorded: use permit %(number)s.") % {"number": payment.permit_number})
    return redirect("fees:permit", municipality=municipality.slug, booking_id=reservation.pk)


@clerk_view
@require_POST
def cancel(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id)
    form = CancelForm(request.POST, places=_places_for(reservation))
    if not form.is_valid():
        messages.error(request, _("Not done: the form was incomplete. Check the refund and confirm again."))
        return redirect(_booking_url(municipality, reservation))
    data = form.cleaned_data
    try:
        _cancelled, refund = services.cancel_at_counter(
            reservation_id=reservation.pk, municipality_id=municipality.pk, staff=request.user, cause=data["cause"],
            reason=data["reason"], expected_refund=data["expected_refund"], place=data["place"],
        )
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
        return redirect(f"{_booking_url(municipality, reservation)}?cause={data['cause']}#cancel")
    if refund is not None and refund.amount:
        messages.success(request, _("Booking cancelled. Pay back %(amount)s yen (%(rule)s).") % {
            "amount": f"{refund.amount:,}", "rule": refund.rule_id})
    else:
        messages.success(request, _("Booking cancelled. Nothing is paid back."))
    return redirect(_booking_url(municipality, reservation))


@clerk_view
@require_POST
def weather(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id)
    form = WeatherForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not done: choose rain or heat and give the minutes of use."))
        return redirect(_booking_url(municipality, reservation) + "#weather")
    try:
        services.mark_weather(reservation_id=reservation.pk, municipality_id=municipality.pk, staff=request.user,
                              **form.cleaned_data)
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
    else:
        messages.success(request, _("Recorded: the user may transfer this booking or take a full refund."))
    return redirect(_booking_url(municipality, reservation) + "#weather")


@clerk_view
@require_POST
def weather_refund(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id)
    claim = get_object_or_404(WeatherClaim, reservation=reservation)
    place = PaymentPlace.objects.of(municipality).filter(pk=request.POST.get("place") or 0).first()
    try:
        refund = services.refund_weather_claim(claim_id=claim.pk, municipality_id=municipality.pk, staff=request.user,
                                               place=place)
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
    else:
        messages.success(request, _("Refund recorded: pay back %(amount)s yen.") % {"amount": f"{refund.amount:,}"})
    return redirect(_booking_url(municipality, reservation) + "#weather")


def _units_like(reservation: Reservation):
    """Units a transfer may go to: the same kind in the same municipality (a court for a court)."""
    return (Unit.objects.filter(municipality_id=reservation.municipality_id, kind=reservation.unit.kind, is_active=True)
            .select_related("facility").order_by("facility__sort_order", "facility_id", "sort_order", "id"))


@clerk_view
@require_POST
def weather_transfer(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id)
    claim = get_object_or_404(WeatherClaim, reservation=reservation)
    form = TransferForm(request.POST, units=_units_like(reservation))
    if not form.is_valid() or form.cleaned_data["unit_obj"] is None:
        messages.error(request, _("Not done: choose a unit, a date and the times of the new slot."))
        return redirect(_booking_url(municipality, reservation) + "#weather")
    data = form.cleaned_data
    try:
        new = services.transfer_weather_claim(
            claim_id=claim.pk, municipality_id=municipality.pk, unit=data["unit_obj"], staff=request.user,
            starts_at=clock.at(data["date"], data["start"]), ends_at=clock.at(data["date"], data["end"]),
        )
    except services.BookingError as error:
        refusal_messages(request, error.refusals)
        return redirect(_booking_url(municipality, reservation) + "#weather")
    messages.success(request, _("Transferred without a new payment: booking no. %(id)s.") % {"id": new.pk})
    return redirect(_booking_url(municipality, new))


@clerk_view
@require_POST
def change(request, municipality, booking_id):
    """Another date or slot at the counter, keeping the payment (the difference settled)."""
    reservation = _booking(municipality, booking_id)
    form = ChangeForm(request.POST, units=_units_like(reservation), places=_places_for(reservation))
    if not form.is_valid() or form.cleaned_data["unit_obj"] is None:
        messages.error(request, _("Not done: choose a unit, a date and the times of the new slot."))
        return redirect(_booking_url(municipality, reservation) + "#change")
    data = form.cleaned_data
    try:
        new, _payment, refund = services.change_at_counter(
            reservation_id=reservation.pk, municipality_id=municipality.pk, unit=data["unit_obj"], staff=request.user,
            starts_at=clock.at(data["date"], data["start"]), ends_at=clock.at(data["date"], data["end"]),
            extra_amount=data["extra_amount"] or 0, place=data["place"], receipt_number=data["receipt_number"],
        )
    except services.BookingError as error:
        refusal_messages(request, error.refusals)
        return redirect(_booking_url(municipality, reservation) + "#change")
    messages.success(request, _("Changed: booking no. %(id)s.") % {"id": new.pk})
    if refund is not None:
        messages.success(request, _("Pay back the difference: %(amount)s yen.") % {"amount": f"{refund.amount:,}"})
    return redirect(_booking_url(municipality, new))


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def closure(request, municipality):
    """T-CAN-2 and any profile: close units for days. GET shows the form; a POST without ``confirm`` lists the
    bookings it would cancel with their refunds; a POST with ``confirm`` cancels them all in one step."""
    facilities = list(Facility.objects.filter(municipality=municipality).prefetch_related("units").order_by("sort_order", "id"))
    form = ClosureForm(request.POST or None, facilities=facilities)
    affected = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirm") == "yes":
            try:
                done = services.cancel_for_facility(
                    municipality_id=municipality.pk, units=data["units"], date_from=data["date_from"],
                    date_to=data["date_to"], staff=request.user, reason=data["reason"])
            except services.CancellationRefused as error:
                refusal_messages(request, error.refusals)
            else:
                refunded = sum(refund.amount for _r, refund in done if refund)
                messages.success(request, _("%(count)s booking(s) cancelled; %(amount)s yen to pay back; every user has been told.") % {
                    "count": len(done), "amount": f"{refunded:,}"})
                return redirect("money:closure", municipality=municipality.slug)
        bookings = services.bookings_in_period(municipality_id=municipality.pk, units=data["units"],
                                               date_from=data["date_from"], date_to=data["date_to"], now=clock.now())
        affected = [(r, services.cancellation_quote(r, cause=Cause.FACILITY)) for r in bookings]
    return render(request, "fees/counter/closure.html", {
        "municipality": municipality, "form": form, "affected": affected,
    }, status=400 if request.method == "POST" and not form.is_valid() else 200)


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def permit(request, municipality, booking_id):
    """The use permit (利用許可書 / 施設使用許可書) of a paid booking, printable on A4 or a receipt printer
    (``?paper=receipt``). Its user and the municipality's staff may see it; anyone else gets 404."""
    muni = get_object_or_404(Municipality, slug=municipality)
    reservation = _booking(muni, booking_id)
    if reservation.user_id != request.user.pk and not request.user.is_clerk_of(muni.pk):
        raise Http404
    payment = _payment(reservation)
    if payment is None:
        raise Http404
    return render(request, "fees/permit.html", {
        "municipality": muni, "reservation": reservation, "payment": payment,
        "receipt": request.GET.get("paper") == "receipt", "is_clerk": request.user.is_clerk_of(muni.pk),
        "permit_title": getattr(RuleProfile.objects.filter(municipality=muni).first(), "permit_title", ""),
    })
