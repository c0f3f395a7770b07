"""Reads for the resident's transfer after rain or heat (S-WX-1 振替 online): the user's own claim, the units a
booking may move to, and the free slots of a month (fees/resident_views.py). The counter's money reports read
through counter/report_selectors.py.
"""

import datetime as dt
from dataclasses import dataclass, field

from config import clock
from reservations.models import Reservation


@dataclass
class TransferSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    span: str  # HHMM-HHMM, as in the confirm page's address


@dataclass
class TransferDay:
    date: dt.date
    slots: list[TransferSlot]  # each free and takeable as the transfer


@dataclass
class TransferChoice:
    """What the transfer page shows for one unit and one month: the claim, the refund alternative, the free
    slots that the user may take (free, not started, on an open day, not in a month still in its lottery, up to
    ``claim.transfer_until``), and the months one may page through."""

    claim: object  # fees.models.WeatherClaim
    policy: object  # fees.models.WeatherPolicy
    refusal: object | None  # why no transfer at all (settled, period over, registration), or None
    units: list
    unit: object
    month: dt.date  # first day of the month shown
    first_day: dt.date
    last_day: dt.date
    days: list[TransferDay] = field(default_factory=list)
    previous_month: dt.date | None = None
    next_month: dt.date | None = None
    places: list = field(default_factory=list)  # where the full refund is paid (S-PAY-4)

    @property
    def slot_count(self) -> int:
        return sum(len(day.slots) for day in self.days)


def my_weather_claim(*, municipality, user, booking_id: int):
    """The user's own booking ``booking_id`` in this municipality with its claim (None when no stop was recorded),
    and the municipality's weather policy. Http404 for anyone else's booking, or where there is no such scheme."""
    from django.http import Http404
    from django.utils.translation import gettext as _

    from .models import WeatherClaim, WeatherPolicy

    policy = WeatherPolicy.objects.of(municipality).first()
    reservation = (
        Reservation.objects.of(municipality)
        .for_user(user)
        .visible_to_resident(clock.now())
        .select_related("unit__facility", "payment")
        .filter(pk=booking_id)
        .first()
    )
    if policy is None or reservation is None:
        raise Http404(_("You have no such booking here."))
    claim = (
        WeatherClaim.objects.filter(reservation=reservation)
        .select_related(
            "transferred_to__unit__facility", "refund", "reservation__unit__facility", "reservation__payment"
        )
        .first()
    )
    return reservation, claim, policy


def transfer_units(reservation):
    """Units a resident may move a prevented booking to: the same kind at the same facility (its own first)."""
    from facilities.models import Unit

    units = (
        Unit.objects.filter(facility_id=reservation.unit.facility_id, kind=reservation.unit.kind, is_active=True)
        .select_related("facility", "slot_scheme")
        .order_by("sort_order", "id")
    )
    return sorted(units, key=lambda u: u.pk != reservation.unit_id)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def transfer_choice(*, claim, policy, user, unit, month: dt.date | None = None) -> TransferChoice:
    """The free slots of ``unit`` in ``month`` (default: the first month with days left) that ``user`` may take as
    the transfer of ``claim``. A constant handful of queries: the closure rules, the holds, the lottery facts."""
    from facilities import selectors as facility_selectors
    from facilities.selectors import SlotState
    from reservations import rules as booking_rules

    from . import services
    from .models import PaymentPlace

    now = clock.now()
    today = clock.localtime(now).date()
    reservation = claim.reservation
    first_day, last_day = today, claim.transfer_until
    refusal = services.transfer_refusal(claim, policy)
    if refusal is None:
        refusal = next(iter(services.transfer_account_refusals(user, reservation.municipality_id, now=now)), None)
    if refusal is None and first_day > last_day:
        from django.utils.formats import date_format
        from django.utils.translation import gettext as _

        refusal = booking_rules.Refusal(
            policy.rule_id,
            _("The transfer could be made to a day until %(day)s.") % {"day": date_format(last_day, "DATE_FORMAT")},
        )
    first_month, last_month = first_day.replace(day=1), last_day.replace(day=1)
    month = month or first_month
    month = min(max(month, first_month), max(last_month, first_month))
    choice = TransferChoice(
        claim=claim,
        policy=policy,
        refusal=refusal,
        units=transfer_units(reservation),
        unit=unit,
        month=month,
        first_day=first_day,
        last_day=last_day,
        previous_month=_add_months(month, -1) if month > first_month else None,
        next_month=_add_months(month, 1) if month < last_month else None,
        places=list(PaymentPlace.objects.taking_fees_of(reservation.unit.facility)),
    )
    if refusal is not None:
        return choice
    start = max(month, first_day)
    end = min(_add_months(month, 1) - dt.timedelta(days=1), last_day)
    if end < start:
        return choice
    count = (end - start).days + 1
    days = facility_selectors.unit_days(unit=unit, first=start, count=count)
    window_start, window_end = clock.at(start, dt.time(0)), clock.at(end + dt.timedelta(days=1), dt.time(0))
    holds = facility_selectors.holds_between(unit=unit, start=window_start, end=window_end)
    lottery = facility_selectors.lottery_cells(unit, start, end + dt.timedelta(days=1), user)
    for day in days:
        if day.is_closed:
            continue
        free = [
            slot
            for slot in day.slots
            if facility_selectors.slot_cell(slot, holds=holds, now=now, user_id=user.pk, lottery=lottery).state
            == SlotState.OPEN
        ]
        if free:
            choice.days.append(
                TransferDay(
                    day.date,
                    [
                        TransferSlot(
                            slot.starts_at, slot.ends_at, facility_selectors.span_param(slot.starts_at, slot.ends_at)
                        )
                        for slot in free
                    ],
                )
            )
    return choice
