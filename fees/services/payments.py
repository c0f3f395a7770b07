"""Payments and use permits (S-PAY-1/2/4, T-PAY-1/2/3, S-REG-5, S-FC-3).

- ``record_payment`` (S-PAY-1/2/4, T-PAY-1/2, S-REG-5) is one transaction: the booking's row is locked, every
  check is made against the locked row, the ``Payment`` row is written with a use-permit number, and the booking
  becomes confirmed. A second payment of the same booking is refused by the checks, and in a race by the
  database (one payment per booking, OneToOne).
- ``book_and_pay`` (S-FC-3, T-PAY-3): a counter booking and its payment in one transaction.
- ``payment_refusals`` and ``place_refusals`` say why a payment cannot be recorded now, or at this place.
- ``permit_refusal`` and ``permit_for``: the use permit of a confirmed booking, numbered per municipality and fiscal
  year (``next_permit_number``).

The payment reminders and the unpaid-booking jobs are in fees/jobs.py.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Notice
from accounts.notify import notify
from config import clock
from facilities.models import ACTIVE_STATES, BookingState, Channel, Phase, Unit
from fees.models import CombinedPayment, Payment, PaymentPlace, Permit, PermitCounter
from reservations import rules as booking_rules
from reservations import services as booking_services
from reservations.models import Reservation
from reservations.rules import Refusal, staff_refusal, when
from reservations.services import BookingError

from .common import _booking_context, _payment_facts, _payment_of, _unconfirmed_win_refusal, not_found


class PaymentRefused(BookingError):
    """A payment that may not be recorded; ``refusals`` say why, each with its rule id or a short code."""


def already_paid() -> Refusal:
    return Refusal("already_paid", _("This booking is already paid or no longer active: no payment can be recorded."))


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
        return [*refusals, _unconfirmed_win_refusal(reservation)]
    if reservation.state not in ACTIVE_STATES or _has_payment(reservation):
        return [*refusals, already_paid()]
    if reservation.fee_total is None or reservation.fee_total <= 0:
        refusals.append(_no_fee_refusal(reservation))
    elif amount != reservation.fee_total:
        refusals.append(
            Refusal(
                "wrong_amount",
                _(
                    "The amount must be exactly the booking's fee of %(expected)s yen (entered: %(amount)s yen); "
                    "partial payments are not accepted."
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


# Several slots for one person, one payment, one permit (issue #22, item 3) ---------------------------------------


class SeveralRefused(BookingError):
    """Several slots booked together were refused as a whole: nothing was booked or paid. ``refusals`` say why,
    each message starting with its slot's date and time."""


def _slot_words(unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime) -> str:
    start, end = clock.localtime(starts_at), clock.localtime(ends_at)
    return _("%(facility)s %(unit)s, %(date)s %(start)s–%(end)s") % {
        "facility": unit.facility.name,
        "unit": unit.name,
        "date": _date_words(start.date()),
        "start": f"{start:%H:%M}",
        "end": "24:00" if end.time() == dt.time(0) and end.date() > start.date() else f"{end:%H:%M}",
    }


def _date_words(day: dt.date) -> str:
    from django.utils.formats import date_format

    return date_format(day, "DATE_FORMAT")


def _on_slot(words: str, refusals: list[Refusal]) -> list[Refusal]:
    return [Refusal(r.code, _("%(slot)s: %(message)s") % {"slot": words, "message": r.message}) for r in refusals]


def book_several(
    *,
    user,
    slots: list[tuple[Unit, dt.datetime, dt.datetime]],
    channel: str,
    staff,
    amount: int | None = None,
    place: PaymentPlace | None = None,
    receipt_number: str = "",
    payer_name: str = "",
    payer_relation: str = "",
    walk_in=None,
) -> tuple[list[Reservation], CombinedPayment | None]:
    """Book several slots for one person at the counter or by phone and, with ``receipt_number``, take their fees
    as one payment with one permit (a ``CombinedPayment``: each booking's ``Payment`` is its share, all with the
    same receipt and permit number). One transaction: either every slot is booked (and paid), or none is, and
    ``SeveralRefused`` lists every refusal, each starting with its slot's date and time.

    The rules are those of ``reservations.services.book`` for each slot in turn (the second slot counts the first
    against the monthly limits, K-FC-3, S-FC-4), and of ``payment_refusals`` for each share (S-PAY-4: the place
    takes the fees and is open today). ``amount`` must be the total of the fees.

    ``user`` None with ``walk_in`` (reservations.walk_in.WalkIn): several slots for a person without registration
    (S-FC-3, where the profile allows walk-ins), at the counter and always paid at once."""
    now = clock.now()
    paying = bool(receipt_number.strip())
    if walk_in is not None and not paying:
        raise SeveralRefused(
            [Refusal("walk_in_unpaid", _("A booking without registration is paid when it is made: enter the receipt."))]
        )
    if paying and channel != Channel.COUNTER:
        raise SeveralRefused([Refusal("counter_only", _("A payment is taken at the counter, not by telephone."))])
    refusals: list[Refusal] = []
    booked: list[Reservation] = []
    combined = None
    try:
        with transaction.atomic():
            for unit, starts_at, ends_at in slots:
                words = _slot_words(unit, starts_at, ends_at)
                try:
                    with transaction.atomic():
                        booked.append(
                            booking_services.book(
                                user=user,
                                unit=unit,
                                starts_at=starts_at,
                                ends_at=ends_at,
                                channel=channel,
                                booked_by=staff,
                                paying_now=paying,
                                walk_in=walk_in,
                            )
                        )
                except BookingError as error:
                    refusals += _on_slot(words, error.refusals)
            if refusals:
                raise SeveralRefused(refusals)
            if paying:
                combined = _pay_several(
                    booked,
                    amount=amount,
                    place=place,
                    receipt_number=receipt_number,
                    payer_name=payer_name,
                    payer_relation=payer_relation,
                    staff=staff,
                    now=now,
                )
    except IntegrityError as error:
        raise SeveralRefused([Refusal("already_paid", str(already_paid().message))]) from error
    return booked, combined


def _pay_several(booked, *, amount, place, receipt_number, payer_name, payer_relation, staff, now):
    """Inside ``book_several``'s transaction: one payment for the fees of ``booked``, each booking's share a
    ``Payment`` and its ``Permit`` with the one number."""
    total = sum(r.fee_total or 0 for r in booked)
    refusals: list[Refusal] = []
    if place is None:
        refusals.append(Refusal("payment_place", _("Choose the payment place.")))
    if amount != total:
        refusals.append(
            Refusal(
                "wrong_amount",
                _(
                    "The amount must be exactly the total of the fees, %(expected)s yen (entered: %(amount)s yen); "
                    "partial payments are not accepted."
                )
                % {"expected": f"{total:,}", "amount": f"{amount or 0:,}"},
            )
        )
    if total <= 0:
        refusals.append(Refusal("no_fee", _("These bookings have no fee to pay.")))
    if refusals:
        raise SeveralRefused(refusals)
    for reservation in booked:
        if reservation.fee_total:
            found = payment_refusals(reservation, amount=reservation.fee_total, place=place, staff=staff, now=now)
            refusals += _on_slot(_slot_words(reservation.unit, reservation.starts_at, reservation.ends_at), found)
    if refusals:
        # The place's refusal is the same for every slot: said once.
        unique = list({(r.code, r.message.split(": ", 1)[-1]): r for r in refusals}.values())
        raise SeveralRefused(unique)
    municipality = booked[0].municipality
    combined = CombinedPayment.objects.create(
        municipality=municipality,
        amount=total,
        receipt_number=receipt_number.strip(),
        place=place,
        recorded_by=staff,
        recorded_at=now,
        permit_number=next_permit_number(municipality, clock.localtime(now).date()),
    )
    for reservation in booked:
        Permit.objects.create(
            reservation=reservation,
            municipality_id=reservation.municipality_id,
            number=combined.permit_number,
            issued_at=now,
            combined=combined,
        )
        if not reservation.fee_total:
            continue
        payment = Payment.objects.create(
            reservation=reservation,
            municipality_id=reservation.municipality_id,
            amount=reservation.fee_total,
            method=Payment.Method.CASH,
            receipt_number=combined.receipt_number,
            payer_name=payer_name.strip(),
            payer_relation=payer_relation,
            place=place,
            recorded_by=staff,
            recorded_at=now,
            permit_number=combined.permit_number,
            combined=combined,
        )
        reservation.state = BookingState.CONFIRMED
        reservation.confirmed_at = now
        reservation.save(update_fields=["state", "confirmed_at"])
        audit.record(staff, "payment.record", payment, after=_payment_facts(payment), subject=reservation.user)
        notify(
            reservation.user,
            kind=Notice.Kind.PAID,
            key=f"paid:{payment.pk}",
            template="paid",
            context={**_booking_context(reservation), "payment": payment},
        )
    return combined
