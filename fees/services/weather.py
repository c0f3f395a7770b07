"""Writes of the fees app (issue #5): payments, cancellations with refunds, facility closures, rain and heat.

- ``record_payment`` (S-PAY-1/2/4, T-PAY-1/2, S-REG-5) is one transaction: the booking's row is locked, every
  check is made against the locked row, the ``Payment`` row is written with a use-permit number, and the booking
  becomes confirmed. A second payment of the same booking is refused by the checks, and in a race by the
  database (one payment per booking, OneToOne).
- ``cancel_at_counter`` (S-CAN-1/2, T-CAN-1/2, K-FC-4): the refund the rules give is shown to the clerk first
  (``cancellation_quote``) and recorded with the cancellation; if the figure changed in between (midnight of
  D-7 passed) the cancellation is refused, so the amount paid back is always the one the clerk confirmed.
- ``cancel_for_facility`` (T-CAN-2, any profile): every booking of some units over some days, full refunds,
  one notice each, all in one transaction.
- ``mark_weather`` / ``refund_weather_claim`` (S-WX-1): a prevented booking may be transferred within a year or
  refunded in full within five. ``mark_weather_day`` marks a site's stop (a period of one day) on every paid
  booking it prevented, after ``weather_day`` has shown the clerk which.

Every amount paid back is a ``Refund`` row (who, when, why, how much), one per payment, and the database checks
that it never exceeds what was paid.
"""

import datetime as dt

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Notice
from accounts.notify import notify
from config import clock
from facilities import daterules
from facilities.models import ACTIVE_STATES, BookingState, Channel, Phase, Unit
from reservations import rules as booking_rules
from reservations.models import Reservation
from reservations.rules import Refusal, staff_refusal, when
from reservations import services as booking_services
from reservations.services import BookingError, release

from .. import rules
from ..models import Cause, Payment, PaymentPlace, Permit, PermitCounter, Refund, WeatherClaim, WeatherPolicy


class PaymentRefused(BookingError):
    """A payment that may not be recorded; ``refusals`` say why, each with its rule id or a short code."""


def already_paid() -> Refusal:
    return Refusal("already_paid", _("This booking is already paid or no longer active: no payment can be recorded."))


def not_found() -> Refusal:
    return Refusal("not_found", _("There is no such booking."))


def fiscal_year(day: dt.date) -> int:
    """The Japanese fiscal year (年度) of a day: April to March."""
    return day.year if day.month >= 4 else day.year - 1


def next_permit_number(municipality, day: dt.date) -> str:
    """The next use-permit number of the municipality in the fiscal year of ``day``: "S-2027-000123".

    Inside a transaction: the counter row is locked FOR UPDATE until the payment is committed, so concurrent
    counters wait for each other and never share a number (the unique constraint on the payment is the backstop)."""
    year = fiscal_year(day)
    PermitCounter.objects.get_or_create(municipality=municipality, year=year)  # savepoint: safe in a race
    counter = PermitCounter.objects.select_for_update().get(municipality=municipality, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{municipality.slug[:1].upper()}-{year}-{counter.last:06d}"


# Use permits ------------------------------------------------------------------------------------------------------


def issued_permit(reservation: Reservation) -> Permit | None:
    """The permit issued for the booking, or None (from select_related("permit") when the caller loaded it)."""
    try:
        return reservation.permit
    except Permit.DoesNotExist:
        return None


def issue_permit(reservation: Reservation, now: dt.datetime) -> Permit:
    """The booking's permit, numbered now when it has none yet. Inside a transaction holding the booking's row lock
    (a payment, a transfer, ``permit_for``), so one booking never gets two."""
    permit = Permit.objects.filter(reservation_id=reservation.pk).first()
    if permit is None:
        number = next_permit_number(reservation.municipality, clock.localtime(now).date())
        permit = Permit.objects.create(
            reservation=reservation, municipality_id=reservation.municipality_id, number=number, issued_at=now
        )
    return permit


def permit_refusal(
    reservation: Reservation, *, state: str | None = None, now: dt.datetime | None = None
) -> Refusal | None:
    """None when the booking is due its use permit now; else why not (the profile's confirmation rule).

    The permit belongs to the booking (K-USE-1: every lottery or first-come booking gets its 利用承認書; paying is
    a separate step, K-USE-2, and a fee-exempt group pays nothing at all): it is due once the booking is
    confirmed, whatever its fee. What confirms a booking is the profile's: in Shiroi and Tamba only the payment
    (S-PAY-1, T-PAY-1), and the profile's ``permit_after_payment`` keeps the permit of a booking confirmed otherwise
    (a grant outside the windows) until its fee is paid; in Kodaira the midnight after the booking day
    (K-FC-4) or the win itself (K-LOT-4) — but a lottery win's permit not before the results are out (K-LOT-3,
    S-LOT-5), so that nobody learns an outcome from it. ``state``: the booking's effective state, when the caller
    has it (My bookings)."""
    now = now or clock.now()
    if not reservation.is_active:
        return Refusal("not_active", _("This booking is no longer active."))
    profile_rules = booking_rules.ProfileRules.find(reservation.municipality_id)
    if state is None:
        state = booking_rules.effective_state(reservation, profile_rules, now) if profile_rules else reservation.state
    profile = profile_rules.profile if profile_rules else None
    code = (profile.confirm_rule_id if profile else "") or "not_confirmed"
    if state != BookingState.CONFIRMED:
        return Refusal(code, _("The use permit is issued once the booking is confirmed."))
    if (
        profile
        and profile.permit_after_payment
        and (reservation.fee_total or 0) > 0
        and _payment_of(reservation) is None
    ):
        # A booking confirmed without its payment (a grant outside the windows, T-APP-5): the permit still waits.
        return Refusal(code, _("The use permit is issued when the fee is paid."))
    if reservation.origin == Phase.LOTTERY:
        return _lottery_results_refusal(reservation, profile_rules, now)
    return None


def _lottery_results_refusal(reservation: Reservation, profile_rules, now: dt.datetime) -> Refusal | None:
    """A lottery win's permit not before its results moment (``Reservation.published_from``)."""
    if reservation.published(now):
        return None
    from lottery import services as lottery_services

    policy = lottery_services.policy_of(reservation.municipality_id)
    code = (policy.results_rule_id if policy else "") or "results_not_out"
    return Refusal(
        code, _("The lottery results are published at %(when)s.") % {"when": when(reservation.published_from)}
    )


def permit_for(reservation: Reservation, *, now: dt.datetime | None = None) -> Permit | None:
    """The booking's use permit as its user or a clerk opens it: the one issued, or — when the booking is due one
    (``permit_refusal``) — issued now, numbered under the booking's row lock. None: no permit (yet)."""
    now = now or clock.now()
    permit = Permit.objects.filter(reservation_id=reservation.pk).first()
    if permit is not None or permit_refusal(reservation, now=now) is not None:
        return permit
    with transaction.atomic():
        locked = (
            Reservation.objects.select_for_update(of=("self",)).select_related("municipality").get(pk=reservation.pk)
        )
        return issue_permit(locked, now)


def payment_refusals(
    reservation: Reservation, *, amount: int, place: PaymentPlace, staff, now: dt.datetime
) -> list[Refusal]:
    """Every reason not to record this payment now (empty: it may be recorded)."""
    refusals = []
    staff_only = staff_refusal(staff, reservation.municipality_id)
    if staff_only is not None:
        refusals.append(staff_only)
    if reservation.state == BookingState.WON:  # not a booking until its winner confirms it (S-LOT-5)
        return refusals + [_unconfirmed_win_refusal(reservation)]
    if reservation.state not in ACTIVE_STATES or _has_payment(reservation):
        return refusals + [already_paid()]
    if reservation.fee_total is None or reservation.fee_total <= 0:
        refusals.append(_no_fee_refusal(reservation))
    elif amount != reservation.fee_total:
        refusals.append(
            Refusal(
                "wrong_amount",
                _(
                    "The amount must be exactly the booking's fee of %(expected)s yen (entered: %(amount)s yen); partial "
                    "payments are not accepted."
                )
                % {"expected": f"{reservation.fee_total:,}", "amount": f"{amount:,}"},
            )
        )
    if reservation.pay_by is not None and now >= reservation.pay_by:
        deadline = when(reservation.pay_by_last_minute)
        refusals.append(
            Refusal(  # the rule that set the deadline: S-PAY-2, S-FC-3, T-PAY-1, T-PAY-3
                reservation.pay_by_rule_id or "payment_deadline",
                _("The payment deadline has passed (last minute: %(deadline)s).") % {"deadline": deadline},
            )
        )
    refusals += place_refusals(place, reservation.unit.facility, now=now)
    return refusals


def place_refusals(place: PaymentPlace, facility, *, now: dt.datetime) -> list[Refusal]:
    """Why ``place`` cannot take the fee of a booking at ``facility`` now: it does not take that facility's fees,
    or it is closed today (S-PAY-4: each payment place with its own closed days; T-PAY-1, K-USE-2 elsewhere). The
    code is the rule id of the municipality's payment places."""
    taking = PaymentPlace.objects.taking_fees_of(facility)
    if place.municipality_id != facility.municipality_id or not taking.filter(pk=place.pk).exists():
        rule_id = next((r for r in taking.values_list("rule_id", flat=True) if r), "payment_place")
        names = ", ".join(str(p.name) for p in taking) or "—"
        return [
            Refusal(
                rule_id,
                _("%(place)s does not take the fees of %(facility)s; they are paid at: %(places)s.")
                % {"place": place.name, "facility": facility.name, "places": names},
            )
        ]
    closing = place.closing_rule(clock.localtime(now).date())
    if closing is not None:
        return [
            Refusal(
                place.rule_id or "place_closed",
                _("%(place)s is closed today (%(closed_day)s).")
                % {"place": place.name, "closed_day": closing.describe()},
            )
        ]
    return []


def _no_fee_refusal(reservation: Reservation) -> Refusal:
    """Nothing to pay: a fee exemption cites its rule (K-USE-2 使用料免除); a booking without any fee a code."""
    breakdown = reservation.fee_breakdown
    exemption = next((line for line in breakdown.lines if line.kind == "exemption"), None) if breakdown else None
    if exemption is not None:
        return Refusal(
            exemption.rule_id or "no_fee", _("This booking is exempt from the fee: there is nothing to pay.")
        )
    return Refusal("no_fee", _("This booking has no fee to pay."))


def _has_payment(reservation: Reservation) -> bool:
    return Payment.objects.filter(reservation_id=reservation.pk).exists()


def record_payment(
    *,
    reservation_id: int,
    amount: int,
    place: PaymentPlace,
    receipt_number: str,
    payer_name: str = "",
    payer_relation: str = "",
    staff,
    now: dt.datetime | None = None,
) -> Payment:
    """Record the cash payment of a booking's whole fee at ``place`` (S-PAY-1, T-PAY-1): the booking becomes
    confirmed and the payment carries a use-permit number. Raises ``PaymentRefused`` otherwise."""
    now = now or clock.now()
    try:
        with transaction.atomic():
            try:
                reservation = (
                    Reservation.objects.select_for_update(of=("self",))
                    .select_related("unit__facility", "user")
                    .get(pk=reservation_id)
                )
            except Reservation.DoesNotExist:
                raise PaymentRefused([not_found()]) from None
            refusals = payment_refusals(reservation, amount=amount, place=place, staff=staff, now=now)
            if refusals:
                raise PaymentRefused(refusals)
            payment = Payment.objects.create(
                reservation=reservation,
                municipality_id=reservation.municipality_id,
                amount=amount,
                method=Payment.Method.CASH,
                receipt_number=receipt_number.strip(),
                payer_name=payer_name.strip(),
                payer_relation=payer_relation,
                place=place,
                recorded_by=staff,
                recorded_at=now,
                permit_number=issue_permit(reservation, now).number,  # Kodaira: the permit may be out already
            )
            if reservation.state != BookingState.CONFIRMED:  # Kodaira: confirmed before, paid on the day (K-USE-2)
                reservation.state = BookingState.CONFIRMED
                reservation.confirmed_at = now
            reservation.save(update_fields=["state", "confirmed_at"])
            audit.record(staff, "payment.record", payment, after=_payment_facts(payment), subject=reservation.user)
            # A walk-in (S-FC-3, no account) is told nothing: notify answers None for no user.
            notify(
                reservation.user,
                kind=Notice.Kind.PAID,
                key=f"paid:{payment.pk}",
                template="paid",
                context={**_booking_context(reservation), "payment": payment},
            )
    except IntegrityError as error:
        if Payment.objects.filter(reservation_id=reservation_id).exists():
            raise PaymentRefused([already_paid()]) from error
        raise
    return payment


def book_and_pay(
    *,
    user,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    staff,
    amount: int,
    place: PaymentPlace,
    receipt_number: str,
    payer_name: str = "",
    payer_relation: str = "",
    walk_in=None,
) -> tuple[Reservation, Payment]:
    """A counter booking paid in the same transaction: required where the window says so (S-FC-3: Shiroi from
    D-6; T-PAY-3: Tamba from D-21), allowed for any counter booking. Either both the booking and the payment are
    recorded, or neither: a wrong amount, a place that does not take the fee (S-PAY-4) or a taken slot leaves
    nothing behind. Raises BookingRefused, SlotTaken or PaymentRefused.

    ``user`` None with ``walk_in`` (reservations.walk_in.WalkIn): a person without registration, always paid at
    once (S-FC-3, where the profile allows walk-ins)."""

    def pay(reservation: Reservation) -> None:  # inside the booking's transaction: a refusal undoes both
        record_payment(
            reservation_id=reservation.pk,
            amount=amount,
            place=place,
            receipt_number=receipt_number,
            payer_name=payer_name,
            payer_relation=payer_relation,
            staff=staff,
        )

    reservation = booking_services.book(
        user=user,
        unit=unit,
        starts_at=starts_at,
        ends_at=ends_at,
        channel=Channel.COUNTER,
        booked_by=staff,
        paying_now=True,
        then=pay,
        walk_in=walk_in,
    )
    reservation.refresh_from_db()
    return reservation, reservation.payment


# Cancellation with a refund -----------------------------------------------------------------------------------


class CancellationRefused(BookingError):
    """A cancellation or refund that may not be made; ``refusals`` say why, each with its rule id or a code."""


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling a booking now would mean: the amount paid, the refund the rules give, or why not."""

    paid: int  # yen paid for the booking (0: not paid)
    refund: int  # yen paid back
    percent: int | None
    rule_id: str
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def _payment_of(reservation: Reservation) -> Payment | None:
    try:
        return reservation.payment
    except Payment.DoesNotExist:
        return None


def _unconfirmed_win_refusal(reservation: Reservation) -> Refusal:
    from lottery import services as lottery_services

    policy = lottery_services.policy_of(reservation.municipality_id)
    return Refusal(
        (policy.confirmation_rule_id if policy else "") or "S-LOT-5",
        _(
            "This lottery win is not confirmed yet: its winner confirms it or gives it up on the lottery page; only "
            "then is it a booking, with a fee to pay."
        ),
    )


def cancellation_quote(
    reservation: Reservation, *, cause: str = Cause.OWN, now: dt.datetime | None = None
) -> CancellationQuote:
    """The refund the municipality's rules give for cancelling ``reservation`` now for ``cause`` (fees.rules.refund):
    S-CAN-2 half until D-7 and no cancellation after (S-CAN-1); T-CAN-1 all until D-3, nothing after; T-CAN-2 and
    facility reasons in full. An unpaid booking is cancelled without money changing hands."""
    now = now or clock.now()
    if not reservation.is_active:
        return CancellationQuote(
            0, 0, None, "not_active", Refusal("not_active", _("This booking is no longer active."))
        )
    if cause == Cause.OWN and reservation.state == BookingState.WON:  # its winner confirms or forfeits it (S-LOT-5)
        refusal = _unconfirmed_win_refusal(reservation)
        return CancellationQuote(0, 0, None, refusal.code, refusal)
    if cause == Cause.OWN and reservation.starts_at <= now:
        return CancellationQuote(0, 0, None, "slot_past", Refusal("slot_past", _("This slot has already started.")))
    payment = _payment_of(reservation)
    if payment is None:
        return CancellationQuote(0, 0, None, "")
    use_date = clock.localtime(reservation.starts_at).date()
    answer = rules.refund(
        municipality=reservation.municipality_id,
        paid=payment.amount,
        use_date=use_date,
        cause=cause,
        now=now,
        starts_at=reservation.starts_at,
        facility=reservation.unit.facility,
    )
    if not answer.cancellable:
        return CancellationQuote(
            payment.amount,
            0,
            None,
            answer.rule_id,
            Refusal(
                answer.rule_id,
                _("A paid booking can no longer be cancelled or changed for the user's own reasons now."),
            ),
        )
    return CancellationQuote(payment.amount, answer.amount, answer.percent, answer.rule_id)


def _locked_booking(reservation_id: int, municipality_id: int) -> Reservation:
    try:
        return (
            Reservation.objects.select_for_update(of=("self",))
            .select_related("unit__facility", "user")
            .get(pk=reservation_id, municipality_id=municipality_id)
        )
    except Reservation.DoesNotExist:
        raise CancellationRefused([not_found()]) from None


def _check_staff(staff, municipality_id: int) -> None:
    refusal = staff_refusal(staff, municipality_id)
    if refusal is not None:
        raise CancellationRefused([refusal])


def _record_refund(
    payment: Payment,
    *,
    amount: int,
    percent,
    cause: str,
    rule_id: str,
    reason: str,
    staff,
    now,
    place=None,
    carried: int = 0,
) -> Refund:
    """The refund row of ``payment`` (one per payment: the database refuses a second)."""
    return Refund.objects.create(
        payment=payment,
        municipality_id=payment.municipality_id,
        paid=payment.amount,
        carried=carried,
        amount=amount,
        percent=percent,
        cause=cause,
        rule_id=rule_id,
        reason=reason.strip()[:300],
        place=place,
        recorded_by=staff,
        recorded_at=now,
    )


def _payment_facts(payment: Payment) -> dict:
    return {
        "booking": payment.reservation_id,
        "amount": payment.amount,
        "permit_number": payment.permit_number,
        "receipt_number": payment.receipt_number,
        "place": payment.place_id,
    }


def _refund_facts(refund: Refund | None) -> dict:
    return {} if refund is None else {"refund": refund.amount, "refund_rule_id": refund.rule_id}


def _booking_context(reservation: Reservation) -> dict:
    return {
        "reservation": reservation,
        "unit": reservation.unit,
        "facility": reservation.unit.facility,
        "starts_at": clock.localtime(reservation.starts_at),
        "ends_at": clock.localtime(reservation.ends_at),
    }


def cancel_at_counter(
    *,
    reservation_id: int,
    municipality_id: int,
    staff,
    cause: str = Cause.OWN,
    reason: str = "",
    expected_refund: int | None = None,
    place: PaymentPlace | None = None,
    now: dt.datetime | None = None,
) -> tuple[Reservation, Refund | None]:
    """Cancel a booking at the counter and pay back what the rules give (shown to the clerk before, as
    ``expected_refund``). Raises CancellationRefused with the rule id when the rules say no or the figure moved."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    try:
        with transaction.atomic():
            reservation = _locked_booking(reservation_id, municipality_id)
            quote = cancellation_quote(reservation, cause=cause, now=now)
            if not quote.allowed:
                raise CancellationRefused([quote.refusal])
            if expected_refund is not None and expected_refund != quote.refund:
                raise CancellationRefused(
                    [
                        Refusal(
                            "refund_changed",
                            _(
                                "The refund is now %(amount)s yen (%(rule)s), not the %(shown)s yen shown: check it with the user "
                                "and confirm again."
                            )
                            % {"amount": f"{quote.refund:,}", "rule": quote.rule_id, "shown": f"{expected_refund:,}"},
                        )
                    ]
                )
            payment = _payment_of(reservation)
            refund = None
            if payment is not None:
                Payment.objects.select_for_update().get(pk=payment.pk)  # one refund at a time per payment
                refund = _record_refund(
                    payment,
                    amount=quote.refund,
                    percent=quote.percent,
                    cause=cause,
                    rule_id=quote.rule_id,
                    reason=reason,
                    staff=staff,
                    now=now,
                    place=place,
                )
            by_user = cause == Cause.OWN
            before = audit.snapshot(reservation, ["state", "cancel_reason"])
            release(
                reservation,
                reason=Reservation.CancelReason.USER if by_user else Reservation.CancelReason.STAFF,
                now=now,
            )
            audit.record(
                staff,
                "booking.cancel",
                reservation,
                before=before,
                after={**audit.snapshot(reservation, ["state", "cancel_reason"]), **_refund_facts(refund)},
                reason=" ".join(filter(None, [quote.rule_id, reason.strip()])),
            )
            notify(
                reservation.user,
                kind=Notice.Kind.CANCELLED if by_user else Notice.Kind.CANCELLED_BY_STAFF,
                key=f"cancelled:{reservation.pk}",
                template="cancelled",
                context={**_booking_context(reservation), "refund": refund, "reason": reason, "by_user": by_user},
            )
            return reservation, refund
    except IntegrityError:
        raise CancellationRefused([Refusal("already_refunded", _("This payment has already been refunded."))]) from None


def bookings_in_period(*, municipality_id: int, units, date_from: dt.date, date_to: dt.date, now: dt.datetime):
    """Active bookings of ``units`` on the days date_from..date_to that have not ended: what a closure strands."""
    start, end = clock.at(date_from, dt.time(0)), clock.at(date_to + dt.timedelta(days=1), dt.time(0))
    return (
        Reservation.objects.of(municipality_id)
        .active()
        .filter(unit__in=units, starts_at__gte=start, starts_at__lt=end, ends_at__gt=now)
        .select_related("unit__facility", "user", "payment")
        .order_by("starts_at", "unit_id")
    )


def cancel_for_facility(
    *,
    municipality_id: int,
    units,
    date_from: dt.date,
    date_to: dt.date,
    staff,
    reason: str,
    now: dt.datetime | None = None,
) -> list[tuple[Reservation, Refund | None]]:
    """T-CAN-2 and any profile: the municipality cancels every booking of ``units`` on date_from..date_to for a
    reason of its own (repairs, an event, a warning): each is cancelled with a full refund of what was paid and a
    notice to its user, all in one transaction (all or none)."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if not reason.strip():
        raise CancellationRefused(
            [Refusal("reason_required", _("Give the reason: it is told to every user concerned."))]
        )
    if date_to < date_from:
        raise CancellationRefused([Refusal("bad_period", _("The last day is before the first."))])
    done = []
    with transaction.atomic():
        pks = list(
            bookings_in_period(
                municipality_id=municipality_id, units=units, date_from=date_from, date_to=date_to, now=now
            ).values_list("pk", flat=True)
        )
        for pk in pks:
            reservation = _locked_booking(pk, municipality_id)
            if not reservation.is_active:
                continue
            quote = cancellation_quote(reservation, cause=Cause.FACILITY, now=now)
            payment = _payment_of(reservation)
            refund = None
            if payment is not None:
                refund = _record_refund(
                    payment,
                    amount=quote.refund,
                    percent=quote.percent,
                    cause=Cause.FACILITY,
                    rule_id=quote.rule_id,
                    reason=reason,
                    staff=staff,
                    now=now,
                )
            release(reservation, reason=Reservation.CancelReason.STAFF, now=now)
            audit.record(
                staff,
                "booking.cancel_for_facility",
                reservation,
                before={"state": "active"},
                after={"state": reservation.state, **_refund_facts(refund)},
                reason=reason.strip(),
            )
            notify(
                reservation.user,
                kind=Notice.Kind.CANCELLED_BY_STAFF,
                key=f"cancelled:{reservation.pk}",
                template="cancelled",
                context={**_booking_context(reservation), "refund": refund, "reason": reason, "by_user": False},
            )
            done.append((reservation, refund))
    return done


def change_at_counter(
    *,
    reservation_id: int,
    municipality_id: int,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    staff,
    extra_amount: int = 0,
    place: PaymentPlace | None = None,
    receipt_number: str = "",
    now: dt.datetime | None = None,
) -> tuple[Reservation, Payment | None, Refund | None]:
    """Move a booking to another date or slot at the counter, keeping what was paid (issue #5 item 4).

    Allowed while the booking could be cancelled for the user's own reasons (S-CAN-1: a paid Shiroi booking until
    the end of D-7; K-FC-4 …); the new slot passes the counter's rules as a new booking, the old one left out of
    the limits. The payment is carried over to the new booking with a new permit number: a dearer slot needs the
    difference paid now (``extra_amount``, exactly), a cheaper one pays the difference back (a ``change``
    refund). One transaction: when anything is refused, the old booking and its payment stay as they were."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if unit.municipality_id != municipality_id:
        raise CancellationRefused([not_found()])
    try:
        with transaction.atomic():
            old = _locked_booking(reservation_id, municipality_id)
            quote = cancellation_quote(old, cause=Cause.OWN, now=now)
            if not quote.allowed:
                raise CancellationRefused([quote.refusal])
            paid = _payment_of(old)
            new = booking_services.replace(
                old,
                unit=unit,
                starts_at=starts_at,
                ends_at=ends_at,
                channel=Channel.COUNTER,
                now=now,
                booked_by=staff,
                paying_now=paid is not None,
            )
            settled = (
                (None, None)
                if paid is None
                else _carry_payment(
                    paid,
                    new,
                    extra_amount=extra_amount,
                    place=place,
                    receipt_number=receipt_number,
                    staff=staff,
                    now=now,
                )
            )
            audit.record(
                staff,
                "booking.change",
                old,
                before={"unit": old.unit_id, "starts_at": old.starts_at},
                after={"booking": new.pk, "unit": new.unit_id, "starts_at": new.starts_at, **_refund_facts(settled[1])},
            )
            return new, *settled
    except IntegrityError:
        raise booking_services.SlotTaken() from None


def _carry_payment(paid: Payment, new: Reservation, *, extra_amount: int, place, receipt_number: str, staff, now):
    """Inside change_at_counter's transaction: the new booking's payment from the old one, settling the difference."""
    total = new.fee_total or 0
    difference = total - paid.amount
    if extra_amount != max(difference, 0):
        raise PaymentRefused(
            [
                Refusal(
                    "wrong_amount",
                    _(
                        "The new slot costs %(total)s yen and %(paid)s yen was paid: take exactly %(due)s yen now (entered: "
                        "%(amount)s yen)."
                    )
                    % {
                        "total": f"{total:,}",
                        "paid": f"{paid.amount:,}",
                        "due": f"{max(difference, 0):,}",
                        "amount": f"{extra_amount:,}",
                    },
                )
            ]
        )
    carried = min(paid.amount, total)
    payment = refund = None
    if total > 0:
        payment = Payment.objects.create(
            reservation=new,
            municipality_id=new.municipality_id,
            amount=total,
            carried_amount=carried,
            carried_from=paid,
            method=Payment.Method.CASH if difference > 0 else Payment.Method.CARRIED,
            receipt_number=(receipt_number.strip() or paid.receipt_number),
            place=place or paid.place,
            recorded_by=staff,
            recorded_at=now,
            permit_number=issue_permit(new, now).number,
        )
        new.state, new.confirmed_at = BookingState.CONFIRMED, now
        new.save(update_fields=["state", "confirmed_at"])
    if difference < 0:
        refund = _record_refund(
            paid,
            amount=-difference,
            percent=None,
            cause=Refund.Cause.CHANGE,
            rule_id="",
            reason=_("Changed to booking no. %(id)s") % {"id": new.pk},
            staff=staff,
            now=now,
            place=place,
            carried=carried,
        )
    return payment, refund


# Rain and heat (S-WX-1) ---------------------------------------------------------------------------------------------


def weather_refusal(
    reservation: Reservation, policy: WeatherPolicy | None, *, used_minutes: int, now: dt.datetime
) -> Refusal | None:
    """Why this booking cannot be marked as prevented by rain or heat, or None."""
    if policy is None:
        return Refusal(
            "no_weather_scheme",
            _(
                "This municipality has no transfers or refunds for rain or heat; cancel "
                "for facility reasons instead if the facility could not be used."
            ),
        )
    if not reservation.is_active:
        return Refusal("not_active", _("This booking is no longer active."))
    if _payment_of(reservation) is None:
        return Refusal(policy.rule_id, _("Only a paid booking can be transferred or refunded after rain or heat."))
    if clock.localtime(now).date() < clock.localtime(reservation.starts_at).date():
        return Refusal(policy.rule_id, _("Rain or heat is recorded on the day of use or later, not in advance."))
    if used_minutes >= policy.used_minutes_limit:
        return Refusal(
            policy.rule_id,
            _(
                "The facility was used for %(used)s minutes: after %(limit)s minutes of use there is no transfer or refund."
            )
            % {"used": used_minutes, "limit": policy.used_minutes_limit},
        )
    return None


def mark_weather(
    *,
    reservation_id: int,
    municipality_id: int,
    kind: str,
    staff,
    used_minutes: int = 0,
    note: str = "",
    now: dt.datetime | None = None,
) -> WeatherClaim:
    """Staff record that rain or heat (WBGT ≥ 31) prevented a paid booking (S-WX-1): the user may then transfer it
    within the policy's months of the use date, or take a full refund within its years."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if kind not in WeatherClaim.Kind.values:
        raise CancellationRefused([Refusal("bad_kind", _("Choose rain or heat."))])
    if used_minutes < 0:
        raise CancellationRefused([Refusal("bad_minutes", _("The minutes of use cannot be negative."))])
    policy = WeatherPolicy.objects.filter(municipality_id=municipality_id).first()
    try:
        with transaction.atomic():
            reservation = _locked_booking(reservation_id, municipality_id)
            refusal = weather_refusal(reservation, policy, used_minutes=used_minutes, now=now)
            if refusal is None and WeatherClaim.objects.filter(reservation=reservation).exists():
                refusal = Refusal("already_marked", _("This booking is already marked as prevented by rain or heat."))
            if refusal is not None:
                raise CancellationRefused([refusal])
            use_date = clock.localtime(reservation.starts_at).date()
            claim = WeatherClaim.objects.create(
                reservation=reservation,
                municipality_id=municipality_id,
                kind=kind,
                note=note.strip()[:300],
                marked_by=staff,
                marked_at=now,
                transfer_until=daterules.months_later(use_date, policy.transfer_months),
                refund_until=daterules.months_later(use_date, 12 * policy.refund_years),
            )
            audit.record(
                staff,
                "weather.mark",
                reservation,
                after={"kind": kind, "used_minutes": used_minutes},
                reason=note.strip() or policy.rule_id,
            )
            notify(
                reservation.user,
                kind=Notice.Kind.WEATHER,
                key=f"weather:{reservation.pk}",
                template="weather",
                context={**_booking_context(reservation), "claim": claim, "policy": policy},
            )
            return claim
    except IntegrityError:
        raise CancellationRefused(
            [Refusal("already_marked", _("This booking is already marked as prevented by rain or heat."))]
        ) from None


# S-WX-1 and shiroi-sports-facilities.txt ■天候不良: a stop counts when rain, or a WBGT of 31 or more, falls "between
# one hour before the start and one hour before the end" of the booking (利用開始時刻の1時間前から利用終了時刻の1時間前),
# and nothing is made good once the facility was used for an hour (``WeatherPolicy.used_minutes_limit``). For a
# whole site's day the clerk gives the period of the stop; the minutes of use are those from the start of the
# booking until the stop began. The lead of the window is the seed's, not profile data yet.
WEATHER_WINDOW_LEAD = dt.timedelta(hours=1)


@dataclass(frozen=True)
class WeatherStop:
    """Rain or heat observed at a site on ``day`` from ``starts_at`` until ``ends_at`` (aware, Japan time);
    ``until_now``: no end was given and the stop runs until the present (today)."""

    day: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    until_now: bool = False


@dataclass
class WeatherDayRow:
    """One booking of the day and what marking the day does to it: ``mark`` (and the minutes of use counted),
    ``marked`` already (``claim``), or ``left_out`` with the reason (``refusal``: unpaid, outside the stop, an hour
    of use)."""

    MARK, MARKED, LEFT_OUT = "mark", "marked", "left_out"

    reservation: Reservation
    status: str
    used_minutes: int = 0
    refusal: Refusal | None = None
    claim: WeatherClaim | None = None


@dataclass
class WeatherDay:
    stop: WeatherStop
    rows: list[WeatherDayRow]
    marked: list[WeatherClaim]

    def of(self, status: str) -> list[WeatherDayRow]:
        return [row for row in self.rows if row.status == status]


def weather_policy(municipality_id: int) -> WeatherPolicy | None:
    return WeatherPolicy.objects.filter(municipality_id=municipality_id).first()


def weather_stop(
    *, day: dt.date, start: dt.time, end: dt.time | None, policy: WeatherPolicy, now: dt.datetime
) -> WeatherStop:
    """The period of a stop as instants, or CancellationRefused: not in advance (S-WX-1: on the day of use or
    later), not beginning now or later, not ending after now, and ending after it begins. Without ``end``, the
    stop runs until now on the day itself, until midnight on an earlier day."""
    today = clock.localtime(now).date()
    if day > today:
        raise CancellationRefused(
            [Refusal(policy.rule_id, _("Rain or heat is recorded on the day of use or later, not in advance."))]
        )
    starts_at = clock.at(day, start)
    if end is None:
        ends_at, until_now = (now, True) if day == today else (clock.at(day + dt.timedelta(days=1), dt.time(0)), False)
    else:
        ends_at, until_now = clock.at(day, end), False
    refusals = []  # S-WX-1: a stop is reported once it happened (same day or soon after), never ahead
    if starts_at >= now:
        refusals.append(
            Refusal(
                policy.rule_id,
                _("The stop cannot begin at %(time)s: it is only %(now)s now. Record what has already happened.")
                % {"time": f"{start:%H:%M}", "now": f"{clock.localtime(now):%H:%M}"},
            )
        )
    elif ends_at > now:
        refusals.append(
            Refusal(
                policy.rule_id,
                _(
                    "The stop cannot be recorded until %(time)s: it is only %(now)s now. Leave the end empty (until now) and "
                    "mark the day again later."
                )
                % {"time": f"{end:%H:%M}", "now": f"{clock.localtime(now):%H:%M}"},
            )
        )
    elif ends_at <= starts_at:
        refusals.append(Refusal("bad_period", _("The end of the stop must be after its start.")))
    if refusals:
        raise CancellationRefused(refusals)
    return WeatherStop(day=day, starts_at=starts_at, ends_at=ends_at, until_now=until_now)


def weather_day_rows(
    *, municipality_id: int, units, stop: WeatherStop, policy: WeatherPolicy, now: dt.datetime
) -> list[WeatherDayRow]:
    """What marking ``stop`` at ``units`` would do to each booking of the day (a read: the confirm step shows it).

    Active bookings of the day, and cancelled ones only when already marked. A booking is marked when it is paid,
    not yet marked, the stop overlaps [start − 1 h, end − 1 h) and the minutes from its start until the stop began
    are under the policy's limit (S-WX-1: 59 minutes of use granted, 60 refused)."""
    start, end = clock.at(stop.day, dt.time(0)), clock.at(stop.day + dt.timedelta(days=1), dt.time(0))
    bookings = (
        Reservation.objects.of(municipality_id)
        .filter(unit__in=units, starts_at__gte=start, starts_at__lt=end)
        .select_related("unit__facility", "user", "payment", "weather_claim__transferred_to", "weather_claim__refund")
        .order_by("starts_at", "unit__sort_order", "unit_id")
    )
    rows = []
    for reservation in bookings:
        claim = getattr(reservation, "weather_claim", None)  # the reverse one-to-one: None when not marked
        if claim is not None:
            rows.append(WeatherDayRow(reservation, WeatherDayRow.MARKED, claim=claim))
            continue
        if not reservation.is_active:
            continue
        window_start = reservation.starts_at - WEATHER_WINDOW_LEAD
        window_end = reservation.ends_at - WEATHER_WINDOW_LEAD
        used = max(0, int((stop.starts_at - reservation.starts_at).total_seconds() // 60))
        if not (stop.starts_at < window_end and stop.ends_at > window_start):
            refusal = Refusal(
                policy.rule_id,
                _(
                    "The stop (%(from)s–%(until)s) is not between an hour before the start (%(first)s) and an hour before "
                    "the end (%(last)s) of this booking."
                )
                % {
                    "from": f"{clock.localtime(stop.starts_at):%H:%M}",
                    "until": _clock_time(stop.ends_at, stop.day),
                    "first": f"{clock.localtime(window_start):%H:%M}",
                    "last": f"{clock.localtime(window_end):%H:%M}",
                },
            )
            rows.append(WeatherDayRow(reservation, WeatherDayRow.LEFT_OUT, used_minutes=used, refusal=refusal))
            continue
        refusal = weather_refusal(reservation, policy, used_minutes=used, now=now)
        status = WeatherDayRow.MARK if refusal is None else WeatherDayRow.LEFT_OUT
        rows.append(WeatherDayRow(reservation, status, used_minutes=used, refusal=refusal))
    return rows


def _clock_time(moment: dt.datetime, day: dt.date) -> str:
    """HH:MM of ``moment`` on ``day``; midnight after the day is 24:00."""
    local = clock.localtime(moment)
    return "24:00" if local.date() > day else f"{local:%H:%M}"


def weather_day(
    *,
    municipality_id: int,
    facility,
    day: dt.date,
    start: dt.time,
    end: dt.time | None = None,
    now: dt.datetime | None = None,
) -> WeatherDay:
    """The confirm step of marking a site's day: the stop and each booking's fate, nothing written."""
    now = now or clock.now()
    policy = _weather_policy_or_refuse(municipality_id)
    stop = weather_stop(day=day, start=start, end=end, policy=policy, now=now)
    rows = weather_day_rows(
        municipality_id=municipality_id, units=facility.units.all(), stop=stop, policy=policy, now=now
    )
    return WeatherDay(stop, rows, [])


def _weather_policy_or_refuse(municipality_id: int) -> WeatherPolicy:
    policy = weather_policy(municipality_id)
    if policy is None:
        raise CancellationRefused([weather_refusal(None, None, used_minutes=0, now=clock.now())])
    return policy


def mark_weather_day(
    *,
    municipality_id: int,
    facility,
    day: dt.date,
    kind: str,
    staff,
    start: dt.time,
    end: dt.time | None = None,
    note: str = "",
    only=None,
    now: dt.datetime | None = None,
) -> WeatherDay:
    """Staff mark a rained-off or heat-stopped period at a site (S-WX-1): every booking of ``facility`` on ``day``
    that ``weather_day_rows`` says to mark gets a claim (``mark_weather``: audited, its user told through the
    outbox), in one transaction. ``only``: the booking ids the clerk was shown and confirmed; others are left for a
    new look. Idempotent: a booking already marked is left as it is, so marking twice changes nothing. One audit
    entry for the day (on the facility) when anything was marked."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if facility.municipality_id != municipality_id:
        raise CancellationRefused([not_found()])
    if kind not in WeatherClaim.Kind.values:
        raise CancellationRefused([Refusal("bad_kind", _("Choose rain or heat."))])
    policy = _weather_policy_or_refuse(municipality_id)
    stop = weather_stop(day=day, start=start, end=end, policy=policy, now=now)
    period = f"{clock.localtime(stop.starts_at):%H:%M}–{_clock_time(stop.ends_at, day)}"
    claim_note = " ".join(filter(None, [period, note.strip()]))
    marked = []
    with transaction.atomic():
        rows = weather_day_rows(
            municipality_id=municipality_id, units=facility.units.all(), stop=stop, policy=policy, now=now
        )
        for row in rows:
            if row.status != WeatherDayRow.MARK or (only is not None and row.reservation.pk not in only):
                continue
            try:
                row.claim = mark_weather(
                    reservation_id=row.reservation.pk,
                    municipality_id=municipality_id,
                    kind=kind,
                    staff=staff,
                    used_minutes=row.used_minutes,
                    note=claim_note,
                    now=now,
                )
            except CancellationRefused as error:  # marked or cancelled by someone else meanwhile: left as it is
                row.status, row.refusal = WeatherDayRow.LEFT_OUT, error.refusals[0]
                continue
            row.status = WeatherDayRow.MARKED
            marked.append(row.claim)
        if marked:
            audit.record(
                staff,
                "weather.mark_day",
                facility,
                after={
                    "day": day,
                    "kind": kind,
                    "from": stop.starts_at,
                    "until": stop.ends_at,
                    "bookings": [claim.reservation_id for claim in marked],
                },
                reason=" ".join(filter(None, [policy.rule_id, note.strip()])),
            )
    return WeatherDay(stop, rows, marked)


def _locked_claim(claim_id: int, municipality_id: int) -> WeatherClaim:
    try:
        return (
            WeatherClaim.objects.select_for_update(of=("self",))
            .select_related("reservation__payment", "reservation__unit__facility", "reservation__user")
            .get(pk=claim_id, municipality_id=municipality_id)
        )
    except WeatherClaim.DoesNotExist:
        raise CancellationRefused([not_found()]) from None


def refund_weather_claim(
    *, claim_id: int, municipality_id: int, staff, place: PaymentPlace | None = None, now: dt.datetime | None = None
) -> Refund:
    """S-WX-1: no transfer made → the whole fee back, within the policy's years of the use date."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    try:
        with transaction.atomic():
            claim = _locked_claim(claim_id, municipality_id)
            policy = WeatherPolicy.objects.get(municipality_id=municipality_id)
            if not claim.is_open:
                raise CancellationRefused(
                    [Refusal("claim_settled", _("This claim is already settled (transferred or refunded)."))]
                )
            if clock.localtime(now).date() > claim.refund_until:
                raise CancellationRefused(
                    [
                        Refusal(
                            policy.rule_id,
                            _("The refund could be claimed until %(day)s.")
                            % {"day": date_format(claim.refund_until, "DATE_FORMAT")},
                        )
                    ]
                )
            payment = claim.reservation.payment
            refund = _record_refund(
                payment,
                amount=payment.amount,
                percent=100,
                cause=Refund.Cause.WEATHER,
                rule_id=policy.rule_id,
                reason=claim.get_kind_display(),
                staff=staff,
                now=now,
                place=place,
            )
            claim.refund = refund
            claim.save(update_fields=["refund"])
            audit.record(staff, "weather.refund", claim.reservation, after=_refund_facts(refund), reason=policy.rule_id)
            notify(
                claim.reservation.user,
                kind=Notice.Kind.REFUNDED,
                key=f"refund:{payment.pk}",
                template="refunded",
                context={**_booking_context(claim.reservation), "refund": refund},
            )
            return refund
    except IntegrityError:
        raise CancellationRefused([Refusal("already_refunded", _("This payment has already been refunded."))]) from None


def transfer_weather_claim(
    *,
    claim_id: int,
    municipality_id: int,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    staff,
    now: dt.datetime | None = None,
) -> Reservation:
    """S-WX-1 振替: the prevented booking's user gets another free slot, up to the policy's months after the use
    date, without paying again: a booking outside the windows (an override citing the rule) whose payment is the
    earlier one carried over, with a new permit number. X-3 holds (SlotTaken for a taken slot)."""
    now = now or clock.now()
    _check_staff(staff, municipality_id)
    if unit.municipality_id != municipality_id:
        raise CancellationRefused([not_found()])
    with transaction.atomic():
        claim = _locked_claim(claim_id, municipality_id)
        policy = WeatherPolicy.objects.get(municipality_id=municipality_id)
        refusal = transfer_refusal(claim, policy, starts_at=starts_at)
        if refusal is not None:
            raise CancellationRefused([refusal])
        old = claim.reservation
        new = booking_services.book_override(
            user=old.user,
            unit=unit,
            starts_at=starts_at,
            ends_at=ends_at,
            staff=staff,
            rule_id=policy.rule_id,
            reason=_transfer_reason(claim),
        )
        return _settle_by_transfer(claim, new, policy=policy, actor=staff, now=now)


def transfer_refusal(
    claim: WeatherClaim, policy: WeatherPolicy, *, starts_at: dt.datetime | None = None
) -> Refusal | None:
    """Why ``claim`` cannot be transferred (to a slot starting at ``starts_at``), or None: settled already, or a
    day after ``transfer_until`` (S-WX-1: within one year of the use date; a year and a day is refused)."""
    if not claim.is_open:
        return Refusal("claim_settled", _("This claim is already settled (transferred or refunded)."))
    if starts_at is not None and clock.localtime(starts_at).date() > claim.transfer_until:
        return Refusal(
            policy.rule_id,
            _("A transfer is possible to a day until %(day)s.")
            % {"day": date_format(claim.transfer_until, "DATE_FORMAT")},
        )
    return None


def _transfer_reason(claim: WeatherClaim) -> str:
    return _("Transfer of booking no. %(id)s (%(kind)s)") % {
        "id": claim.reservation_id,
        "kind": claim.get_kind_display(),
    }


def _settle_by_transfer(claim: WeatherClaim, new: Reservation, *, policy: WeatherPolicy, actor, now) -> Reservation:
    """Inside the transfer's transaction: the new booking takes the old fee and the old payment (carried over, no
    new charge, a new permit number); the claim is settled; audited and the user told (counter and online alike)."""
    old = claim.reservation
    new.fee, new.fee_total = old.fee, old.fee_total  # the fee paid once is the fee of the transfer
    new.save(update_fields=["fee", "fee_total"])
    carried = old.payment
    Payment.objects.create(
        reservation=new,
        municipality_id=claim.municipality_id,
        amount=carried.amount,
        carried_amount=carried.amount,
        carried_from=carried,
        method=Payment.Method.CARRIED,
        receipt_number=carried.receipt_number,
        place=carried.place,
        recorded_by=actor,
        recorded_at=now,
        permit_number=issue_permit(new, now).number,
    )
    claim.transferred_to = new
    claim.save(update_fields=["transferred_to"])
    audit.record(
        actor, "weather.transfer", old, after={"transferred_to": new.pk, "channel": new.channel}, reason=policy.rule_id
    )
    notify(
        new.user,
        kind=Notice.Kind.TRANSFERRED,
        key=f"transfer:{claim.pk}",
        template="transferred",
        context={**_booking_context(new), "old": old},
    )
    return new


def transfer_account_refusals(user, municipality_id: int, *, now: dt.datetime) -> list[Refusal]:
    """A resident account of the municipality whose registration is valid today (K-REG-3, S-REG-3, T-REG-1)."""
    from reservations import rules as booking_rules

    refusal = booking_rules.account_refusal(user, municipality_id)
    if refusal is not None:
        return [refusal]
    if not user.is_valid_on(clock.localtime(now).date()):
        profile_rules = booking_rules.ProfileRules.find(municipality_id)
        code = (profile_rules.profile.registration_rule_id if profile_rules else "") or "registration_expired"
        return [Refusal(code, _("Your registration is not valid today; renew it at a counter."))]
    return []


def transfer_slot_refusals(
    claim: WeatherClaim, policy: WeatherPolicy, *, user, unit: Unit, slots, now: dt.datetime
) -> list[Refusal]:
    """What keeps the user from taking these slots as the transfer of ``claim`` online (S-WX-1): the account and
    its registration, a unit of the same kind at the same facility, the year, and a month still in its lottery
    (its slots are drawn first: K-LOT-1, S-LOT-1). The booking windows and monthly limits do not apply: the slot
    replaces one already paid for. A taken slot is left to the insert (SlotTaken, 409)."""
    from lottery.selectors import LotteryCalendar  # lottery reads fees' neighbours; imported when used

    old = claim.reservation
    refusals = transfer_account_refusals(user, old.municipality_id, now=now)
    if refusals:
        return refusals
    if unit.facility_id != old.unit.facility_id or unit.kind != old.unit.kind or not unit.is_active:
        refusals.append(Refusal(policy.rule_id, _("A transfer goes to a unit of the same kind at the same facility.")))
    refusal = transfer_refusal(claim, policy, starts_at=slots[0].starts_at)
    if refusal is not None:
        refusals.append(refusal)
    if slots[0].starts_at <= now:
        refusals.append(Refusal("slot_past", _("This slot has already started.")))
    calendar = LotteryCalendar(old.municipality_id, now)
    if calendar.in_lottery(unit, slots[0].starts_at) is not None:
        from lottery import services as lottery_services

        windows = lottery_services.lottery_windows(calendar.profile_rules)
        code = next((w.opens_rule_id for w in windows if w.opens_rule_id), "") or "lottery"
        refusals.append(
            Refusal(
                code,
                _(
                    "This month's slots are still in the lottery: choose a slot of a month "
                    "whose lottery results are out."
                ),
            )
        )
    return refusals


def transfer_weather_claim_online(
    *,
    reservation_id: int,
    user,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime | None = None,
) -> Reservation:
    """S-WX-1 振替 asked by the user online: their prevented booking's open claim moves to a free slot of a unit of
    the same kind at the same facility, up to the policy's months after the use date, without paying again. The
    booking is an override citing the rule (booked by the user, channel online), the payment carried over with a
    new permit number, audited and e-mailed as at the counter.

    Raises CancellationRefused([not_found]) when the booking is not the user's or has no claim (the view answers
    404 or says so), CancellationRefused / BookingRefused with rule ids, SlotTaken (409) for a slot just taken."""
    now = now or clock.now()
    with transaction.atomic():
        claim_id = (
            WeatherClaim.objects.filter(reservation_id=reservation_id, reservation__user=user)
            .values_list("pk", flat=True)
            .first()
        )
        if claim_id is None:
            raise CancellationRefused([not_found()])
        municipality_id = unit.municipality_id
        claim = _locked_claim(claim_id, municipality_id)
        policy = WeatherPolicy.objects.get(municipality_id=municipality_id)
        try:
            slots = booking_services._override_slots(unit, starts_at, ends_at, now)
        except booking_services.BookingRefused as error:
            refusals = error.refusals
            settled = transfer_refusal(claim, policy)
            raise CancellationRefused(([settled] if settled else []) + refusals) from None
        refusals = transfer_slot_refusals(claim, policy, user=user, unit=unit, slots=slots, now=now)
        if refusals:
            raise CancellationRefused(refusals)
        new = booking_services._insert_override(
            user=user,
            unit=unit,
            slots=slots,
            kind=Reservation.OverrideKind.GRANT,
            rule_id=policy.rule_id,
            reason=_transfer_reason(claim),
            staff=user,
            now=now,
        )
        new.channel = Channel.ONLINE  # the user asked for it online; override_rule_id says why windows were skipped
        new.save(update_fields=["channel"])
        return _settle_by_transfer(claim, new, policy=policy, actor=user, now=now)
