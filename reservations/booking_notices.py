""" "Booked" and "confirmed" notices (issue #8 item 4): every booking a user holds is told on the notifications page
and by e-mail, in the user's language, through the outbox (accounts/notify.py).

Written by the minute job ``reservations.tell_booking_events``, not by the booking request: the 9:00 rush
(issue #3) pays for no template rendering, insert or mail server per booking. Each event is told once (notice
key ``booked:<id>`` / ``confirmed:<id>``), so a rerun, two workers or a restart after a crash send nothing twice;
a worker that was down catches up on the last ``LOOKBACK`` (older events are no longer news).

Not told here: lottery wins (the results e-mail, K-LOT-3, tells them), walk-ins (no account, S-FC-3), and
confirmations by payment (the "paid" notice with the permit tells them, S-PAY-1, T-PAY-1).
"""

import datetime as dt

from django.db.models import F

from accounts.models import Notice
from accounts.notify import notify
from config import clock
from facilities.models import BookingState, Phase

from .models import Reservation

LOOKBACK = dt.timedelta(days=2)


def _context(reservation: Reservation) -> dict:
    return {
        "reservation": reservation,
        "unit": reservation.unit,
        "facility": reservation.unit.facility,
        "starts_at": clock.localtime(reservation.starts_at),
        "ends_at": clock.localtime(reservation.ends_at),
        "confirm_at": clock.localtime(reservation.confirm_at) if reservation.confirm_at else None,
        "pay_by": clock.localtime(reservation.pay_by_last_minute) if reservation.pay_by else None,
    }


def _untold(queryset, prefix: str):
    rows = list(queryset.select_related("user", "unit__facility").order_by("id"))
    told = set(Notice.objects.filter(key__in=[f"{prefix}:{r.pk}" for r in rows]).values_list("key", flat=True))
    return [r for r in rows if f"{prefix}:{r.pk}" not in told]


def tell_booking_events(now: dt.datetime | None = None) -> dict[str, int]:
    """Record (and send after commit) the notices of bookings made or confirmed in the last ``LOOKBACK``."""
    now = now or clock.now()
    since = now - LOOKBACK
    held = Reservation.objects.filter(user__isnull=False).exclude(origin=Phase.LOTTERY)
    booked = _untold(held.filter(created_at__gte=since, created_at__lte=now), "booked")
    confirmed = _untold(
        held.filter(
            state=BookingState.CONFIRMED,
            confirmed_at__gte=since,
            confirmed_at__lte=now,
            confirmed_at__gt=F("created_at"),
            payment__isnull=True,
        ),
        "confirmed",
    )
    told = {"booked": 0, "confirmed": 0}
    for kind, template, rows in (
        (Notice.Kind.BOOKED, "booked", booked),
        (Notice.Kind.CONFIRMED, "confirmed", confirmed),
    ):
        for reservation in rows:
            if notify(
                reservation.user,
                kind=kind,
                key=f"{template}:{reservation.pk}",
                template=template,
                context=_context(reservation),
                municipality=reservation.municipality,
            ):
                told[template] += 1
    return told
