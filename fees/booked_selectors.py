"""What the completion page tells a resident after booking (issue #21 item 5): what happens next.

The payment deadline with its date, where to pay and when those places are open (S-PAY-4, T-PAY-1, K-USE-2), the
use permit and when it is issued (K-USE-1, S-PAY-1, T-PAY-1), and whether the booking can be cancelled online
(K-FC-4, S-PAY-3) or only at the counter (T-CAN-1). Reads only; the booking page redirects here after its POST.
"""

import datetime as dt
from dataclasses import dataclass, field

from config import clock
from facilities import daterules
from facilities.models import BookingState, Municipality
from reservations import selectors as booking_selectors
from reservations.selectors import BookingRow

from .models import Cause, PaymentPlace, RefundRule


@dataclass
class Place:
    name: str
    hours: str  # "08:30–17:15", or "" when the municipality states none
    closed_days: list[str]  # in words ("Every Monday (…)", "National holidays", …)
    open_on_deadline: bool | None  # None: no deadline to check against


@dataclass
class RefundTerm:
    """One row of the municipality's refund rules for an own-reason cancellation, with its date filled in."""

    until: dt.datetime | None  # the last minute it applies; None: whenever (after the rows before it)
    percent: int
    cancellable: bool
    rule_id: str


@dataclass
class NextSteps:
    row: BookingRow
    fee_total: int | None
    pay_by: dt.datetime | None  # the last minute of the deadline (S-PAY-2, T-PAY-1), None when none
    pay_on_the_day: bool  # a fee with no deadline: paid at the counter on the day of use (K-USE-2)
    places: list[Place] = field(default_factory=list)
    permit_title: str = ""
    permit_after_payment: bool = False
    refund_terms: list[RefundTerm] = field(default_factory=list)

    @property
    def to_pay(self) -> bool:
        return bool(self.fee_total) and self.row.state in (*booking_selectors.UNPAID_STATES, BookingState.CONFIRMED)

    @property
    def paid(self) -> bool:
        return getattr(self.row.reservation, "payment", None) is not None


def next_steps(*, municipality: Municipality, user, booking_id: int) -> NextSteps:
    """The user's booking (404 for anyone else's) and what happens next; the payment places taking its facility's
    fees, each with its hours, its closed days and whether it is open on the deadline's day. Five queries or so."""
    row = booking_selectors.get_my_booking(municipality=municipality, user=user, booking_id=booking_id)
    reservation = row.reservation
    pay_by = row.pay_by_last_minute
    fee_total = reservation.fee_total
    pay_on_the_day = bool(fee_total) and reservation.pay_by is None
    places = []
    if fee_total:
        deadline_day = clock.localtime(pay_by).date() if pay_by else None
        for place in PaymentPlace.objects.taking_fees_of(reservation.unit.facility).with_closed_days():
            places.append(
                Place(
                    name=place.name,
                    hours=place.hours,
                    closed_days=place.closed_days(),
                    open_on_deadline=place.is_open(deadline_day) if deadline_day else None,
                )
            )
    profile = row.profile
    use_date = clock.localtime(reservation.starts_at).date()
    terms = []
    for rule in RefundRule.objects.of(municipality).filter(cause=Cause.OWN).order_by("order", "id"):
        until = None
        if rule.until:
            deadline = daterules.closes_at(
                daterules.parse(rule.until),
                use_date=use_date,
                slot_start=reservation.starts_at,
                facility=reservation.unit.facility,
            )
            until = clock.localtime(deadline - dt.timedelta(minutes=1)) if deadline else None
        terms.append(RefundTerm(until, rule.percent, rule.cancellable, rule.rule_id))
    return NextSteps(
        row=row,
        fee_total=fee_total,
        pay_by=pay_by,
        pay_on_the_day=pay_on_the_day,
        places=places,
        permit_title=profile.permit_title if profile else "",
        permit_after_payment=bool(profile and profile.permit_after_payment),
        refund_terms=terms,
    )
