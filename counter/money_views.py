"""Money pages (issue #5): the counter's page of one booking (payment, cancellation with refund, rain or heat),
the municipality's closure of a facility (T-CAN-2), and a whole site's rain or heat stop (S-WX-1). The use permit
that resident and clerk can print is fees/resident_views.py.

Thin: parse the form, call one service of fees/services/, render; Post/Redirect/Get after every change, so a
refresh or the back button never records a payment or a refund twice (and the services refuse a second one).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config import clock
from facilities.models import Facility, Unit
from fees import services
from fees.forms import CancelForm, ChangeForm, ClosureForm, PaymentForm, TransferForm, WeatherForm
from fees.models import Cause, Payment, PaymentPlace, WeatherClaim, WeatherPolicy
from fees.weather_forms import WeatherDayForm
from reservations.models import Reservation

from .staff import clerk_view, refusal_messages


def _booking(municipality, booking_id: int, clerk=None) -> Reservation:
    """The booking of this municipality; with ``clerk``, only when the clerk's counter serves its facility
    (``User.counter_facilities``, issue #7): another facility's booking is a 404, as one that does not exist."""
    reservation = get_object_or_404(
        Reservation.objects.of(municipality).select_related("unit__facility", "user", "booked_by"), pk=booking_id
    )
    if clerk is not None and not clerk.serves_facility(reservation.unit.facility):
        raise Http404
    return reservation


def _payment(reservation: Reservation) -> Payment | None:
    return Payment.objects.filter(reservation=reservation).select_related("place", "recorded_by", "refund").first()


def _claim(reservation: Reservation) -> WeatherClaim | None:
    return WeatherClaim.objects.filter(reservation=reservation).select_related("transferred_to", "refund").first()


def _places_for(reservation: Reservation):
    return PaymentPlace.objects.taking_fees_of(reservation.unit.facility).with_closed_days()


def _payment_warnings(request, reservation, payment, places, now):
    """What would stop a payment now (a passed deadline, a closed place …), shown above the form; the amount is
    the clerk's to enter, so its refusal is left out."""
    today = clock.localtime(now).date()
    place = next((p for p in places if p.is_open(today)), places.first())  # the form's first choice: an open one
    if payment is not None or place is None:
        return []
    refusals = services.payment_refusals(
        reservation, amount=reservation.fee_total or 0, place=place, staff=request.user, now=now
    )
    return [r for r in refusals if r.code != "wrong_amount"]


def _booking_url(municipality, reservation) -> str:
    return reverse("counter:money_booking", args=[municipality.slug, reservation.pk])


def _page(request, municipality, reservation, *, status=200, payment_form=None, cancel_cause=None):
    payment, claim = _payment(reservation), _claim(reservation)
    places = _places_for(reservation)
    cause = cancel_cause or request.GET.get("cause", Cause.OWN)
    if cause not in Cause.values:
        cause = Cause.OWN
    quote = services.cancellation_quote(reservation, cause=cause)
    now = clock.now()
    return render(
        request,
        "counter/money/booking.html",
        {
            "municipality": municipality,
            "reservation": reservation,
            "person": reservation.user,
            "payment": payment,
            "claim": claim,
            "quote": quote,
            "cause": cause,
            "payment_form": payment_form or PaymentForm(places=places, initial={"amount": reservation.fee_total}),
            "payment_refusals": _payment_warnings(request, reservation, payment, places, now),
            "cancel_form": CancelForm(places=places, initial={"cause": cause, "expected_refund": quote.refund}),
            "weather_policy": WeatherPolicy.objects.filter(municipality=municipality).first(),
            "weather_form": WeatherForm(),
            "change_form": ChangeForm(
                units=_units_like(reservation, request.user), places=places, initial={"unit": reservation.unit_id}
            ),
            "transfer_form": TransferForm(
                units=_units_like(reservation, request.user), initial={"unit": reservation.unit_id}
            )
            if claim
            else None,
            "started": reservation.starts_at <= now,
            "permit": services.issued_permit(reservation),
            "permit_refusal": services.permit_refusal(reservation, now=now),
        },
        status=status,
    )


@clerk_view
@require_http_methods(["GET", "HEAD"])
def booking(request, municipality, booking_id):
    """Everything money about one booking: its fee, payment or the form to record it, the permit, the refund
    a cancellation would give (shown before the clerk confirms), rain or heat."""
    return _page(request, municipality, _booking(municipality, booking_id, request.user))


@clerk_view
@require_POST
def pay(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id, request.user)
    form = PaymentForm(request.POST, places=_places_for(reservation))
    if not form.is_valid():
        return _page(request, municipality, reservation, status=400, payment_form=form)
    data = form.cleaned_data
    try:
        payment = services.record_payment(
            reservation_id=reservation.pk,
            amount=data["amount"],
            place=data["place"],
            receipt_number=data["receipt_number"],
            payer_name=data["payer_name"],
            payer_relation=data["payer_relation"],
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
    reservation = _booking(municipality, booking_id, request.user)
    form = CancelForm(request.POST, places=_places_for(reservation))
    if not form.is_valid():
        messages.error(request, _("Not done: the form was incomplete. Check the refund and confirm again."))
        return redirect(_booking_url(municipality, reservation))
    data = form.cleaned_data
    try:
        _cancelled, refund = services.cancel_at_counter(
            reservation_id=reservation.pk,
            municipality_id=municipality.pk,
            staff=request.user,
            cause=data["cause"],
            reason=data["reason"],
            expected_refund=data["expected_refund"],
            place=data["place"],
        )
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
        return redirect(f"{_booking_url(municipality, reservation)}?cause={data['cause']}#cancel")
    if refund is not None and refund.amount:
        messages.success(
            request,
            _("Booking cancelled. Pay back %(amount)s yen (%(rule)s).")
            % {"amount": f"{refund.amount:,}", "rule": refund.rule_id},
        )
    else:
        messages.success(request, _("Booking cancelled. Nothing is paid back."))
    return redirect(_booking_url(municipality, reservation))


@clerk_view
@require_POST
def weather(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id, request.user)
    form = WeatherForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not done: choose rain or heat and give the minutes of use."))
        return redirect(_booking_url(municipality, reservation) + "#weather")
    try:
        services.mark_weather(
            reservation_id=reservation.pk, municipality_id=municipality.pk, staff=request.user, **form.cleaned_data
        )
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
    else:
        messages.success(request, _("Recorded: the user may transfer this booking or take a full refund."))
    return redirect(_booking_url(municipality, reservation) + "#weather")


@clerk_view
@require_POST
def weather_refund(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id, request.user)
    claim = get_object_or_404(WeatherClaim, reservation=reservation)
    place = PaymentPlace.objects.of(municipality).filter(pk=request.POST.get("place") or 0).first()
    try:
        refund = services.refund_weather_claim(
            claim_id=claim.pk, municipality_id=municipality.pk, staff=request.user, place=place
        )
    except services.CancellationRefused as error:
        refusal_messages(request, error.refusals)
    else:
        messages.success(request, _("Refund recorded: pay back %(amount)s yen.") % {"amount": f"{refund.amount:,}"})
    return redirect(_booking_url(municipality, reservation) + "#weather")


def _scope(clerk) -> set[int] | None:
    """The facility ids a clerk's counter serves; None: every facility of the municipality (no scope set, or an
    administrator), as ``User.serves_facility`` says."""
    if clerk is None or clerk.staff_role == clerk.StaffRole.ADMINISTRATOR:
        return None
    return set(clerk.counter_facilities.values_list("pk", flat=True)) or None


def _units_like(reservation: Reservation, clerk=None):
    """Units a transfer or change may go to: the same kind in the same municipality (a court for a court), at the
    facilities the clerk serves."""
    units = (
        Unit.objects.filter(municipality_id=reservation.municipality_id, kind=reservation.unit.kind, is_active=True)
        .select_related("facility")
        .order_by("facility__sort_order", "facility_id", "sort_order", "id")
    )
    scope = _scope(clerk)
    return units if scope is None else units.filter(facility_id__in=scope)


@clerk_view
@require_POST
def weather_transfer(request, municipality, booking_id):
    reservation = _booking(municipality, booking_id, request.user)
    claim = get_object_or_404(WeatherClaim, reservation=reservation)
    form = TransferForm(request.POST, units=_units_like(reservation, request.user))
    if not form.is_valid() or form.cleaned_data["unit_obj"] is None:
        messages.error(request, _("Not done: choose a unit, a date and the times of the new slot."))
        return redirect(_booking_url(municipality, reservation) + "#weather")
    data = form.cleaned_data
    try:
        new = services.transfer_weather_claim(
            claim_id=claim.pk,
            municipality_id=municipality.pk,
            unit=data["unit_obj"],
            staff=request.user,
            starts_at=clock.at(data["date"], data["start"]),
            ends_at=clock.at(data["date"], data["end"]),
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
    reservation = _booking(municipality, booking_id, request.user)
    form = ChangeForm(request.POST, units=_units_like(reservation, request.user), places=_places_for(reservation))
    if not form.is_valid() or form.cleaned_data["unit_obj"] is None:
        messages.error(request, _("Not done: choose a unit, a date and the times of the new slot."))
        return redirect(_booking_url(municipality, reservation) + "#change")
    data = form.cleaned_data
    try:
        new, _payment, refund = services.change_at_counter(
            reservation_id=reservation.pk,
            municipality_id=municipality.pk,
            unit=data["unit_obj"],
            staff=request.user,
            starts_at=clock.at(data["date"], data["start"]),
            ends_at=clock.at(data["date"], data["end"]),
            extra_amount=data["extra_amount"] or 0,
            place=data["place"],
            receipt_number=data["receipt_number"],
        )
    except services.BookingError as error:
        refusal_messages(request, error.refusals)
        return redirect(_booking_url(municipality, reservation) + "#change")
    messages.success(request, _("Changed: booking no. %(id)s.") % {"id": new.pk})
    if refund is not None:
        messages.success(request, _("Pay back the difference: %(amount)s yen.") % {"amount": f"{refund.amount:,}"})
    return redirect(_booking_url(municipality, new))


def _served_facilities(clerk, municipality) -> list[Facility]:
    """The municipality's facilities the clerk's counter serves (issue #7: ``User.counter_facilities``), with units."""
    facilities = (
        Facility.objects.filter(municipality=municipality).prefetch_related("units").order_by("sort_order", "id")
    )
    scope = _scope(clerk)
    return list(facilities if scope is None else facilities.filter(pk__in=scope))


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def closure(request, municipality):
    """T-CAN-2 and any profile: close units for days. GET shows the form; a POST without ``confirm`` lists the
    bookings it would cancel with their refunds; a POST with ``confirm`` cancels them all in one step."""
    facilities = _served_facilities(request.user, municipality)
    # ?facility=&date_from=&date_to= fill the form in: the admin's refused closure-calendar edit links here (issue #7).
    form = ClosureForm(
        request.POST or None,
        facilities=facilities,
        initial={k: request.GET[k] for k in ("facility", "date_from", "date_to") if k in request.GET},
    )
    affected = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("confirm") == "yes":
            try:
                done = services.cancel_for_facility(
                    municipality_id=municipality.pk,
                    units=data["units"],
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    staff=request.user,
                    reason=data["reason"],
                )
            except services.CancellationRefused as error:
                refusal_messages(request, error.refusals)
            else:
                refunded = sum(refund.amount for _r, refund in done if refund)
                messages.success(
                    request,
                    _("%(count)s booking(s) cancelled; %(amount)s yen to pay back; every user has been told.")
                    % {"count": len(done), "amount": f"{refunded:,}"},
                )
                return redirect("counter:money_closure", municipality=municipality.slug)
        bookings = services.bookings_in_period(
            municipality_id=municipality.pk,
            units=data["units"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            now=clock.now(),
        )
        affected = [(r, services.cancellation_quote(r, cause=Cause.FACILITY)) for r in bookings]
    return render(
        request,
        "counter/money/closure.html",
        {
            "municipality": municipality,
            "form": form,
            "affected": affected,
            "weather_policy": services.weather_policy(municipality.pk),
        },
        status=400 if request.method == "POST" and not form.is_valid() else 200,
    )


# A whole site's rain or heat stop (S-WX-1) ------------------------------------------------------------------------


@clerk_view
@require_http_methods(["GET", "HEAD", "POST"])
def weather_day(request, municipality):
    """Mark a site's rained-off or heat-stopped period on every paid booking it prevented (S-WX-1).

    GET without ``kind``: the form (``?facility=&date=`` fill it in, e.g. from the day sheet). GET with the form's
    values: the confirm step, which lists the bookings to be marked, those already marked and those left out with
    the reason; nothing is written. POST: marks the bookings listed there (their ids come along) and redirects to
    the confirm step, where they now show as marked, so a refresh or the back button marks nothing twice.
    Municipalities without a rain/heat policy: 404. A facility the clerk's counter does not serve: a 400 form
    error, nothing marked."""
    policy = services.weather_policy(municipality.pk)
    if policy is None:
        raise Http404(_("This municipality has no transfers or refunds for rain or heat."))
    facilities = _served_facilities(request.user, municipality)
    if request.method == "POST":
        form = WeatherDayForm(request.POST, facilities=facilities)
        if not form.is_valid():
            return _weather_day_page(request, municipality, policy, form, status=400)
        data = form.cleaned_data
        try:
            done = services.mark_weather_day(
                municipality_id=municipality.pk,
                facility=data["facility_obj"],
                day=data["date"],
                kind=data["kind"],
                staff=request.user,
                start=data["start"],
                end=data["end"],
                note=data["note"],
                only=data["bookings"],
            )
        except services.CancellationRefused as error:
            return _weather_day_page(request, municipality, policy, form, refusals=error.refusals, status=422)
        if done.marked:
            messages.success(
                request,
                ngettext(
                    "%(count)s booking marked as prevented by rain or heat; its user has been told and may transfer "
                    "it or take a full refund (%(rule)s).",
                    "%(count)s bookings marked as prevented by rain or heat; each user has been told and may transfer "
                    "or take a full refund (%(rule)s).",
                    len(done.marked),
                )
                % {"count": len(done.marked), "rule": policy.rule_id},
            )
        else:
            messages.info(
                request, _("Nothing new was marked: the bookings shown are marked already or can no longer be marked.")
            )
        until = (
            clock.localtime(done.stop.ends_at).time().replace(second=0, microsecond=0) if done.stop.until_now else None
        )
        return redirect(
            reverse("counter:money_weather_day", args=[municipality.slug]) + f"?{form.query(end=until)}#result"
        )
    bound = "kind" in request.GET
    form = WeatherDayForm(
        request.GET if bound else None,
        facilities=facilities,
        initial={"facility": request.GET.get("facility", ""), "date": request.GET.get("date") or clock.today()},
    )
    if not bound:
        return _weather_day_page(request, municipality, policy, form)
    if not form.is_valid():
        return _weather_day_page(request, municipality, policy, form, status=400)
    data = form.cleaned_data
    try:
        day = services.weather_day(
            municipality_id=municipality.pk,
            facility=data["facility_obj"],
            day=data["date"],
            start=data["start"],
            end=data["end"],
        )
    except services.CancellationRefused as error:
        return _weather_day_page(request, municipality, policy, form, refusals=error.refusals, status=422)
    return _weather_day_page(request, municipality, policy, form, day=day)


def _weather_day_page(request, municipality, policy, form, *, day=None, refusals=(), status=200):
    rows = {} if day is None else {status_: day.of(status_) for status_ in ("mark", "marked", "left_out")}
    return render(
        request,
        "counter/money/weather_day.html",
        {
            "municipality": municipality,
            "policy": policy,
            "form": form,
            "day": day,
            "rows": rows,
            "refusals": refusals,
            "lead_minutes": int(services.WEATHER_WINDOW_LEAD.total_seconds() // 60),
        },
        status=status,
    )
