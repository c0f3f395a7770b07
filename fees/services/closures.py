"""Closing a facility (T-CAN-2, any profile).

- ``cancel_for_facility``: every booking of some units over some days (``bookings_in_period``), full refunds, one
  notice each, all in one transaction.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from accounts import audit
from accounts.models import Notice
from accounts.notify import notify
from config import clock
from fees.models import Cause, Refund
from reservations.models import Reservation
from reservations.rules import Refusal
from reservations.services import release

from .cancellation import cancellation_quote
from .common import (
    CancellationRefused,
    _booking_context,
    _check_staff,
    _locked_booking,
    _payment_of,
    _record_refund,
    _refund_facts,
)


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
