"""Scheduled jobs of the fees app (django-q2), scheduled in config/schedules.py.

``send_payment_reminders``: two days before a booking's payment deadline (S-PAY-2: the end of D-7 in Shiroi;
T-PAY-1/T-PAY-3: 15 days after the application, or the same day, in Tamba) its user is e-mailed how much to pay,
by when, and where (S-PAY-4: the payment places that take that facility's fees). Unpaid bookings are cancelled
when the deadline passes (reservations.services.cancel_unpaid_bookings), so the reminder is the last chance.

- Which bookings: active and unpaid (provisional or awaiting payment, no ``Payment``), with a deadline, and
  ``pay_by - 2 days <= now < pay_by`` (``pay_by`` is the first late instant). Kodaira's bookings have no
  deadline (paid on the day, K-USE-2) and are never reminded.
- Once: the outbox's event key ``payment_due:<booking>:<deadline>`` is unique, so a second run, two workers or a
  retried task send nothing more. A booking whose deadline moves (a new deadline) may be reminded again.
- Catching up: each run takes every booking inside its 2-day window, not only those that entered it since the
  last run, so after an outage the next run reminds everyone whose deadline is still ahead. A booking whose
  deadline passed meanwhile is not reminded (it is cancelled, and told so, by the unpaid job).
- A booking paid or cancelled meanwhile is re-checked under its row lock (a payment being recorded at the same
  moment locks the same row: fees.services.record_payment), so it is never reminded.

Every 15 minutes on a grid anchored at midnight, like the other deadline jobs (reservations/jobs.py): a Shiroi
deadline falls at 00:00, so its reminder goes out in the run at 00:00 two days before. A booking made less than
2 days before its deadline is reminded by the next run, at most 15 minutes later.

The logic lives here rather than in fees/services/ while that package is being reworked; it is one function.
"""

import datetime as dt
import logging

from django.db import transaction

from accounts.models import Notice
from accounts.notify import notify
from config import clock
from facilities.models import BookingState
from reservations.models import Reservation

from .models import Payment, PaymentPlace

logger = logging.getLogger(__name__)

REMIND_BEFORE = dt.timedelta(days=2)
UNPAID = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT)


def reminder_key(reservation: Reservation) -> str:
    # Japan time, so the key is the same whichever time zone the deadline was read in (the database gives UTC).
    return f"payment_due:{reservation.pk}:{clock.localtime(reservation.pay_by).isoformat()}"


def _is_due(reservation: Reservation, now: dt.datetime) -> bool:
    return (
        reservation.state in UNPAID
        and reservation.pay_by is not None
        and reservation.pay_by - REMIND_BEFORE <= now < reservation.pay_by
        and not Payment.objects.filter(reservation_id=reservation.pk).exists()
    )


def _places_taking_fees_of(facility, cache: dict) -> list[PaymentPlace]:
    """The municipality's payment places that take this facility's fees (S-PAY-4); read once per facility."""
    if facility.pk not in cache:
        cache[facility.pk] = list(PaymentPlace.objects.taking_fees_of(facility).with_closed_days())
    return cache[facility.pk]


def send_payment_reminders(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Remind every unpaid booking whose deadline is less than 2 days ahead, once. Returns {"reminded": n}."""
    now = now or clock.now()
    candidates = list(
        Reservation.objects.filter(
            state__in=UNPAID, pay_by__gt=now, pay_by__lte=now + REMIND_BEFORE, payment__isnull=True
        ).only("pk", "pay_by")
    )
    # Skip, in one query, the bookings already reminded: most runs find only those.
    told = set(Notice.objects.filter(key__in=[reminder_key(r) for r in candidates]).values_list("key", flat=True))
    places_cache: dict = {}
    reminded = 0
    for candidate in candidates:
        if reminder_key(candidate) in told:
            continue
        with transaction.atomic():
            reservation = (
                Reservation.objects.select_for_update(of=("self",))
                .select_related("unit__facility", "user")
                .get(pk=candidate.pk)
            )
            if not _is_due(reservation, now):
                continue
            facility = reservation.unit.facility
            notice = notify(
                reservation.user,
                kind=Notice.Kind.PAYMENT_DUE,
                key=reminder_key(reservation),
                template="payment_due",
                context={
                    "reservation": reservation,
                    "unit": reservation.unit,
                    "facility": facility,
                    "starts_at": clock.localtime(reservation.starts_at),
                    "ends_at": clock.localtime(reservation.ends_at),
                    "amount": reservation.fee_total or 0,
                    "deadline": clock.localtime(reservation.pay_by_last_minute),
                    "rule_id": reservation.pay_by_rule_id,
                    "places": _places_taking_fees_of(facility, places_cache),
                },
            )
            reminded += notice is not None
    logger.info(
        "send_payment_reminders at %s: %d reminder(s) (S-PAY-2, T-PAY-1)", clock.localtime(now).isoformat(), reminded
    )
    return {"reminded": reminded}
