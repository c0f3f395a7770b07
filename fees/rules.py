"""The fee rules, pure reads: what a booking costs (``quote``) and what a cancellation gives back (``refund``).

All numbers are the municipality's data (fees.models); yen are integers and fractions are cut off (fees.money).

Which schedule prices a booking: **the one in force on the booking date** (Japan time), not on the use date.
The seeds fix the fee at the application: Shiroi's fee is paid with the application or by D-7 (S-PAY-1/2, S-FC-3),
Tamba's within 15 days of the application and before a permit is issued (T-PAY-1); Japanese fee ordinances
amended from April 1 keep the former fee for applications made before (経過措置: 従前の例による). So a schedule
starting April 1 prices bookings made from April 1 on, whatever their use date, and a booking made in March for
April keeps the March price. The booking stores the breakdown (``FeeBreakdown.as_dict()``), so the price never
moves afterwards either.
"""

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.db import connection

from config import clock, sql
from config.tenancy import pk_of
from facilities import cache, daterules

from . import money
from .breakdown import FeeBreakdown, FeeLine, LineKind
from .models import Cause, Charge, FeeExemption, FeeRate, FeeSchedule, Per, RefundRule

HOUR = 60


class SlotLike(Protocol):
    starts_at: dt.datetime
    ends_at: dt.datetime


class FeeError(Exception):
    """No price can be computed; ``code`` says why (for messages and logs)."""

    code = "fee_error"


class NoFeeSchedule(FeeError):
    code = "no_fee_schedule"


class NoFeeRate(FeeError):
    code = "no_fee_rate"


@dataclass
class FeeTables:
    """A municipality's schedules with their prices, and its refund rules; cached per process (facilities.cache)."""

    schedules: list[FeeSchedule]
    refund_rules: list[RefundRule]
    # best_rate's answers, kept with the tables they come from: every booking asks for the same few.
    _rates: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, municipality) -> "FeeTables":
        municipality_id = pk_of(municipality)
        return cache.cached(("fees", municipality_id), lambda: cls.load(municipality_id))

    @classmethod
    def load(cls, municipality_id: int) -> "FeeTables":
        return cls(
            schedules=list(FeeSchedule.objects.of(municipality_id).prefetch_related("rates")),
            refund_rules=list(RefundRule.objects.of(municipality_id).order_by("order", "id")),
        )

    def schedule_on(self, day: dt.date) -> FeeSchedule | None:
        return next((schedule for schedule in self.schedules if schedule.covers(day)), None)

    def best_rate(self, schedule: FeeSchedule, charge: str, unit, fee_category: str) -> FeeRate | None:
        """``best_rate`` of one of these schedules, remembered per unit and fee category."""
        key = (schedule.pk, charge, unit.pk, unit.facility_id, unit.kind, fee_category)
        try:
            return self._rates[key]
        except KeyError:
            rate = self._rates[key] = best_rate(schedule, charge, unit, fee_category)
            return rate


def best_rate(schedule: FeeSchedule, charge: str, unit, fee_category: str) -> FeeRate | None:
    """The most specific price of ``schedule`` for ``charge`` at ``unit`` (FeeRate.specificity)."""
    matching = [rate for rate in schedule.rates.all() if rate.charge == charge and rate.matches(unit, fee_category)]
    return max(matching, key=FeeRate.specificity, default=None)


def _started_hours(minutes: int) -> int:
    return -(-minutes // HOUR)  # every started hour counts


def _minutes(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, int((end - start).total_seconds()) // 60)


def _quantity(per: str, slots: Sequence[SlotLike]) -> int:
    if per == Per.HOUR:
        return _started_hours(sum(_minutes(slot.starts_at, slot.ends_at) for slot in slots))
    return len(slots)


def lit_hours(slots: Sequence[SlotLike], lit_from: dt.time) -> int:
    """Started hours of use after ``lit_from`` (S-HRS-2: at 南山 ground a 17:00–19:00 slot is 2 hours of lighting)."""
    minutes = 0
    for slot in slots:
        start = clock.localtime(slot.starts_at)
        dark = clock.at(start.date(), lit_from)
        minutes += _minutes(max(slot.starts_at, dark), slot.ends_at)
    return _started_hours(minutes)


LOOK_UP = object()  # quote(exemption=…) default: read the user's exemption of the booking day


def quote(
    *, user, unit, slots: Sequence[SlotLike], booked_on: dt.date | None = None, exemption=LOOK_UP
) -> FeeBreakdown:
    """The fee of ``user`` booking ``slots`` (one slot, or a run of Tamba hours) of ``unit`` on ``booked_on``
    (default: today in Japan), from the schedule in force that day. Raises NoFeeSchedule or NoFeeRate.

    Lines, in order: the use fee; the non-resident surcharge (S-FEE-1: applies to prices marked multiplied,
    never to Shiroi's lighting); lighting per started hour after dark at units with night lights (S-HRS-2); an
    exemption of the user's group (K-USE-2), which reduces everything above.
    """
    if not slots:
        raise ValueError("a quote needs at least one slot")
    booked_on = booked_on or clock.today()
    use_date = clock.localtime(slots[0].starts_at).date()
    tables = FeeTables.of(unit.municipality_id)
    schedule = tables.schedule_on(booked_on)
    if schedule is None:
        raise NoFeeSchedule(f"no fee schedule of municipality {unit.municipality_id} on {booked_on}")
    category = user.fee_category
    base_rate = tables.best_rate(schedule, Charge.BASE, unit, category)
    if base_rate is None:
        raise NoFeeRate(f"no use fee for unit {unit.pk} ({category}) in schedule {schedule.pk}")

    quantity = _quantity(base_rate.per, slots)
    base = FeeLine(
        LineKind.BASE, base_rate.price * quantity, base_rate.rule_id, base_rate.price, quantity, base_rate.per
    )
    multiplied = base.amount if base_rate.non_resident_multiplied else 0
    lines = [base]

    lighting = None
    lighting_rate = tables.best_rate(schedule, Charge.LIGHTING, unit, category) if unit.has_night_lights else None
    if lighting_rate is not None:
        hours = lit_hours(slots, lighting_rate.lit_from)
        if hours:
            lighting = FeeLine(
                LineKind.LIGHTING,
                lighting_rate.price * hours,
                lighting_rate.rule_id,
                lighting_rate.price,
                hours,
                Per.HOUR,
            )
            multiplied += lighting.amount if lighting_rate.non_resident_multiplied else 0

    percent = schedule.non_resident_percent
    if not user.is_resident and percent != 100 and multiplied:
        surcharge = money.share(multiplied, percent) - multiplied
        lines.append(FeeLine(LineKind.MULTIPLIER, surcharge, schedule.non_resident_rule_id, percent=percent))
    if lighting is not None:
        lines.append(lighting)

    if exemption is LOOK_UP:  # a page quoting many slots for one user reads it once and passes it in
        exemption = exemption_on(user=user, municipality=unit.municipality_id, day=booked_on)
    if exemption is not None:
        subtotal = sum(line.amount for line in lines)
        remaining = money.share(subtotal, 100 - exemption.percent)  # what is still charged, fraction cut off
        if subtotal != remaining:
            lines.append(
                FeeLine(LineKind.EXEMPTION, remaining - subtotal, exemption.rule_id, percent=exemption.percent)
            )

    return FeeBreakdown(
        lines=tuple(lines),
        priced_on=booked_on,
        use_date=use_date,
        schedule_id=schedule.pk,
        schedule_name_ja=schedule.name_ja,
        schedule_name_en=schedule.name_en,
        schedule_valid_from=schedule.valid_from,
        fee_category=category,
        resident=user.is_resident,
        is_sample=schedule.is_sample,
    )


def quote_or_none(
    *, user, unit, slots: Sequence[SlotLike], booked_on: dt.date | None = None, exemption=LOOK_UP
) -> FeeBreakdown | None:
    """``quote``, or None when the municipality has no fee table (or no price) for this unit: pages and bookings
    then say the fee is not set, never a wrong figure."""
    try:
        return quote(user=user, unit=unit, slots=slots, booked_on=booked_on, exemption=exemption)
    except FeeError:
        return None


def exemption_on(*, user, municipality, day: dt.date) -> FeeExemption | None:
    """The user's exemption in force on ``day`` (K-USE-2), or None; the earliest started if several are.

    Not cached: it is per user. Plain SQL, built once (config.sql): every booking asks, and building the ORM
    query (``FeeExemption.objects.of(…).in_force_on(day).filter(user=user).first()``, which also joins the
    municipality for the model's ordering) cost 0.8 ms of CPU per booking, twenty times this statement."""
    municipality_id = pk_of(municipality)
    day = connection.ops.adapt_datefield_value(day)
    instance, _extras = sql.fetch_one(FeeExemption, _exemption_sql(), [municipality_id, pk_of(user), day, day])
    return instance


@functools.cache
def _exemption_sql() -> str:
    return (
        f"SELECT {sql.model_columns(FeeExemption)} FROM {connection.ops.quote_name(FeeExemption._meta.db_table)} m"
        " WHERE m.municipality_id = %s AND m.user_id = %s AND m.valid_from <= %s"
        " AND (m.valid_until IS NULL OR m.valid_until >= %s) ORDER BY m.valid_from, m.id LIMIT 1"
    )


def breakdown_from_dict(data: dict) -> FeeBreakdown:
    """The breakdown a booking stored with ``FeeBreakdown.as_dict()``."""
    return FeeBreakdown.from_dict(data)


# Refunds ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refund:
    amount: int  # yen, never above what was paid
    percent: int
    rule_id: str  # the rule applied; "no_refund_rule" when the profile has none for the cause
    cancellable: bool  # False: the booking can no longer be cancelled at all (S-CAN-1)
    cause: str
    deadline: dt.datetime | None = None  # the first instant this rule no longer applies; None: whenever

    def as_dict(self) -> dict:
        return {
            "amount": self.amount,
            "percent": self.percent,
            "rule_id": self.rule_id,
            "cancellable": self.cancellable,
            "cause": self.cause,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }


def refund(
    *,
    municipality,
    paid: int,
    use_date: dt.date,
    cause: str = Cause.OWN,
    now: dt.datetime | None = None,
    starts_at: dt.datetime | None = None,
    facility=None,
) -> Refund:
    """What a cancellation of a booking paid ``paid`` yen, for use on ``use_date``, returns at ``now``.

    The profile's refund rules of the cause are read in order; the first whose deadline (``until``, e.g.
    ``D-7 23:59``: that whole minute still counts) is ahead of ``now`` decides. ``starts_at`` (the booked slot's
    start) is needed only for a ``start`` deadline and defaults to the use date's midnight (the earliest start);
    ``facility`` only for a ``first-open`` one.
    """
    if isinstance(paid, bool) or not isinstance(paid, int) or paid < 0:
        raise ValueError("the paid amount is a non-negative integer of yen")
    if cause not in Cause.values:
        raise ValueError(f"unknown cause {cause!r}")
    now = now or clock.now()
    slot_start = starts_at or clock.at(use_date, dt.time(0))
    for rule in FeeTables.of(municipality).refund_rules:
        if rule.cause != cause:
            continue
        deadline = None
        if rule.until:
            deadline = daterules.closes_at(
                daterules.parse(rule.until), use_date=use_date, slot_start=slot_start, facility=facility
            )
            if deadline is None or now >= deadline:
                continue
        if not rule.cancellable:
            return Refund(0, 0, rule.rule_id, False, cause, deadline)
        amount = min(paid, money.refund_share(paid, rule.percent))
        return Refund(amount, rule.percent, rule.rule_id, True, cause, deadline)
    return Refund(0, 0, "no_refund_rule", True, cause, None)
