"""Rain and heat (S-WX-1): stops, claims, transfers and refunds of claims.

- ``mark_weather`` / ``refund_weather_claim``: a prevented booking may be transferred within a year or refunded
  in full within five. ``mark_weather_day`` marks a site's stop (a period of one day) on every paid booking it
  prevented, after ``weather_day`` has shown the clerk which.
- ``transfer_weather_claim`` (at the counter) and ``transfer_weather_claim_online`` (the resident) settle a claim
  by a new booking; ``transfer_refusal``, ``transfer_account_refusals`` and ``transfer_slot_refusals`` say why not.
- ``WEATHER_WINDOW_LEAD``: the lead of the window in which a stop counts.
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
from facilities.models import Channel, Unit
from fees.models import Payment, PaymentPlace, Refund, WeatherClaim, WeatherPolicy
from reservations import services as booking_services
from reservations.models import Reservation
from reservations.rules import Refusal

from .common import (
    CancellationRefused,
    _booking_context,
    _check_staff,
    _locked_booking,
    _payment_of,
    _record_refund,
    _refund_facts,
    not_found,
)
from .payments import issue_permit

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
                "The facility was used for %(used)s minutes: after %(limit)s minutes of use there is no transfer or "
                "refund."
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
# one hour before the start and one hour before the end" of the booking
# (利用開始時刻の1時間前から利用終了時刻の1時間前), and nothing is made good once the facility was used for an
# hour (``WeatherPolicy.used_minutes_limit``). For a whole site's day the clerk gives the period of the stop; the
# minutes of use are those from the start of the booking until the stop began. The lead of the window is the seed's,
# not profile data yet.
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
                    "The stop cannot be recorded until %(time)s: it is only %(now)s now. Leave the end empty (until "
                    "now) and mark the day again later."
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
                    "The stop (%(from)s–%(until)s) is not between an hour before the start (%(first)s) and an hour "
                    "before the end (%(last)s) of this booking."
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
