"""Reads for the counter's CSV exports (issue #7 item 5): a month's bookings, lottery applications and lottery
results of one municipality, shaped as the file's columns.

Each export is a list of columns — (header in the user's language, value of a row) — and one query read in
chunks (``iterator``), so a city's month of lottery applications streams out without being held in memory.
The CSV itself (BOM, CRLF, formula guard) is config/csvexport.py. The payments of a month (payments and refunds
recorded in it) are here too; the day's takings and the monthly fees are the money reports
(counter/report_selectors.py).
"""

import datetime as dt
import heapq

from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from config import clock
from config.csvexport import when
from facilities.models import BookingState
from fees.models import Payment, Refund
from lottery.models import Application, Draw, DrawResult
from reservations import rules
from reservations.models import Reservation

CHUNK = 2000
capfirst_lazy = lazy(capfirst, str)


def _date(moment: dt.datetime) -> str:
    return clock.localtime(moment).date().isoformat()


def _time(moment: dt.datetime) -> str:
    return f"{clock.localtime(moment):%H:%M}"


def _name(user) -> str:
    """Who entered it: a clerk's name (their account's str), empty when the resident did it online."""
    return str(user) if user else ""


def _paid(reservation) -> int:
    payment = getattr(reservation, "payment", None)  # the reverse one-to-one raises (an AttributeError) when unpaid
    return payment.amount if payment else 0


def header(columns) -> list[str]:
    return [str(title) for title, _value in columns]


def _rows(columns, objects):
    for obj in objects:
        yield [value(obj) for _title, value in columns]


# Bookings of a month of use -----------------------------------------------------------------------------------

BOOKING_COLUMNS = [
    (_("Booking no."), lambda r: r.pk),
    (_("Facility"), lambda r: r.unit.facility.name),
    (_("Unit"), lambda r: r.unit.name),
    (_("Use date"), lambda r: _date(r.starts_at)),
    (_("Start"), lambda r: _time(r.starts_at)),
    (_("End"), lambda r: _time(r.ends_at)),
    # A walk-in (S-FC-3) has no user ID: the name is the one the clerk recorded.
    (_("User ID"), lambda r: r.user.username if r.user_id else ""),
    (_("Name"), lambda r: r.user.display_name if r.user_id else r.walk_in_name),
    (_("State"), lambda r: BookingState(r.shown_state).label),
    (_("Origin"), lambda r: r.get_origin_display()),
    (_("Channel"), lambda r: r.get_channel_display()),
    (_("Entered by"), lambda r: _name(r.booked_by)),
    (_("Fee (yen)"), lambda r: r.fee_total),
    (_("Paid (yen)"), lambda r: _paid(r)),
    (_("Booked at"), lambda r: when(r.created_at)),
    (_("Cancelled at"), lambda r: when(r.cancelled_at)),
    (_("Cancellation reason"), lambda r: r.get_cancel_reason_display()),
    (_("Override"), lambda r: r.get_override_kind_display() if r.override_kind else ""),
    (_("Rule id of the override"), lambda r: r.override_rule_id),
    (_("Reason for the override"), lambda r: r.override_reason),
]


def bookings(*, municipality, year: int, month: int):
    """Every booking whose use starts in the month (Japan time), active or cancelled, staff blocks included. The
    state is the one the pages show (``rules.effective_state``: K-FC-4, a provisional booking past its
    confirmation instant is confirmed even before the midnight job has run)."""
    start = clock.at(dt.date(year, month, 1), dt.time(0))
    end = clock.at(dt.date(year + month // 12, month % 12 + 1, 1), dt.time(0))
    bookings = (
        Reservation.objects.of(municipality)
        .starting_between(start, end)
        .select_related("user", "booked_by", "unit__facility", "payment")
        .order_by("starts_at", "unit__facility__sort_order", "unit__sort_order", "id")
    )
    profile, now = rules.ProfileRules.find(municipality), clock.now()

    def shown(reservations):
        for reservation in reservations:
            reservation.shown_state = rules.effective_state(reservation, profile, now) if profile else reservation.state
            yield reservation

    return _rows(BOOKING_COLUMNS, shown(bookings.iterator(chunk_size=CHUNK)))


# Lottery applications of a month of use -----------------------------------------------------------------------

APPLICATION_COLUMNS = [
    (_("Application no."), lambda a: a.pk),
    (_("User ID"), lambda a: a.user.username),
    (_("Name"), lambda a: a.user.display_name),
    (_("Facility"), lambda a: a.unit.facility.name),
    (_("Unit"), lambda a: a.unit.name),
    (_("Use date"), lambda a: _date(a.starts_at)),
    (_("Start"), lambda a: _time(a.starts_at)),
    (_("End"), lambda a: _time(a.ends_at)),
    (_("State"), lambda a: a.get_state_display()),
    (_("Channel"), lambda a: a.get_channel_display()),
    (_("Entered by"), lambda a: _name(a.entered_by)),
    (_("Applied at"), lambda a: when(a.created_at)),
    (_("Withdrawn at"), lambda a: when(a.withdrawn_at)),
    (_("Booking no."), lambda a: a.reservation_id),
]


def applications(*, municipality, year: int, month: int):
    """Every application for the month of use, withdrawn ones included (their state says so)."""
    applications = (
        Application.objects.of(municipality)
        .filter(month=dt.date(year, month, 1))
        .select_related("user", "entered_by", "unit__facility")
        .order_by("starts_at", "unit__facility__sort_order", "unit__sort_order", "id")
    )
    return _rows(APPLICATION_COLUMNS, applications.iterator(chunk_size=CHUNK))


# Lottery results of a month of use ----------------------------------------------------------------------------


def draw(*, municipality, year: int, month: int) -> Draw | None:
    return Draw.objects.of(municipality).filter(month=dt.date(year, month, 1)).first()


def results_published(record: Draw | None) -> bool:
    """Staff see a draw's results from the results day on, like the applicants (K-LOT-3, S-LOT-5): a file handed
    out earlier would announce them before the municipality does."""
    return record is not None and record.seed_revealed(clock.now())


RESULT_COLUMNS = [
    (_("Slot's place in the draw order"), lambda r, n: r.slot_order),
    (_("Facility"), lambda r, n: r.application.unit.facility.name),
    (_("Unit"), lambda r, n: r.application.unit.name),
    (_("Use date"), lambda r, n: _date(r.application.starts_at)),
    (_("Start"), lambda r, n: _time(r.application.starts_at)),
    (_("End"), lambda r, n: _time(r.application.ends_at)),
    (_("Rank"), lambda r, n: r.position),
    (_("Applicants for the slot"), lambda r, n: n),
    (_("Outcome"), lambda r, n: r.get_outcome_display()),
    (_("Application no."), lambda r, n: r.application_id),
    (_("User ID"), lambda r, n: r.application.user.username),
    (_("Name"), lambda r, n: r.application.user.display_name),
    (_("Application state now"), lambda r, n: r.application.get_state_display()),
    (_("Booking no."), lambda r, n: r.reservation_id),
]


def results(*, record: Draw):
    """One row per application of the draw, as stored in ``DrawResult``: slot by slot in the draw order, each
    slot's applicants by rank, with how many applied for that slot. A slot's rows come together (ordered by the
    (draw, slot_order, position) index), so the count is known once the next slot starts: no second query."""
    stored = (
        DrawResult.objects.filter(draw=record)
        .select_related("application__user", "application__unit__facility")
        .order_by("slot_order", "position")
    )
    slot: list[DrawResult] = []
    for result in stored.iterator(chunk_size=CHUNK):
        if slot and result.slot_order != slot[0].slot_order:
            yield from _slot_rows(slot)
            slot = []
        slot.append(result)
    yield from _slot_rows(slot)


def _slot_rows(slot: list[DrawResult]):
    for result in slot:
        yield [value(result, len(slot)) for _title, value in RESULT_COLUMNS]


# Payments of a month (issue #7 item 5) ---------------------------------------------------------------------------
# One row per payment and one per refund *recorded* in the month (Japan time), in the order they were recorded:
# a refund is its own row with a negative amount, so a column sum is the month's net takings.


def _payer(payment: Payment) -> str:
    """Who paid: the name written on the payment (a family member, a group member), else the booking's holder."""
    if payment.payer_name:
        return payment.payer_name
    booking = payment.reservation
    return booking.user.display_name if booking.user_id else booking.walk_in_name


def _booking(row):
    return row.payment.reservation if isinstance(row, Refund) else row.reservation


def _payment(row) -> Payment:
    return row.payment if isinstance(row, Refund) else row


PAYMENT_COLUMNS = [
    # Headers share the money reports' wording (counter/report_views.py), so they read the same in Japanese.
    (_("Kind"), lambda r: _("Refund") if isinstance(r, Refund) else _("Payment")),
    (_("Recorded at"), lambda r: when(r.recorded_at)),
    (_("Permit number"), lambda r: _payment(r).permit_number),
    (_("Booking no."), lambda r: _booking(r).pk),
    (_("Facility"), lambda r: _booking(r).unit.facility.name),
    (_("Unit"), lambda r: _booking(r).unit.name),
    (_("Use date"), lambda r: _date(_booking(r).starts_at)),
    (_("User ID"), lambda r: _booking(r).user.username if _booking(r).user_id else ""),
    (_("Paid by"), lambda r: _payer(_payment(r))),
    # Yen; a refund is negative. The cash taken leaves out the part carried over from a replaced booking's payment.
    (_("Amount (yen)"), lambda r: -r.amount if isinstance(r, Refund) else r.amount),
    (_("Carried over (yen)"), lambda r: 0 if isinstance(r, Refund) else r.carried_amount),
    (_("Cash taken (yen)"), lambda r: -r.amount if isinstance(r, Refund) else r.taken),
    (capfirst_lazy(_("method")), lambda r: "" if isinstance(r, Refund) else r.get_method_display()),
    (_("Payment place"), lambda r: (r.place.name if r.place_id else "") if isinstance(r, Refund) else r.place.name),
    (_("Receipt number"), lambda r: _payment(r).receipt_number),
    (_("Cause"), lambda r: r.get_cause_display() if isinstance(r, Refund) else ""),
    (capfirst_lazy(_("rule id")), lambda r: r.rule_id if isinstance(r, Refund) else ""),
    (_("Reason"), lambda r: r.reason if isinstance(r, Refund) else ""),
    (_("Staff"), lambda r: _name(r.recorded_by)),
]


def payments(*, municipality, year: int, month: int, facility_ids: set[int] | None = None):
    """Payments and refunds recorded in the month, merged in the order recorded. ``facility_ids``: only the
    bookings of these facilities (the clerk's counter scope, ``counter.selectors.served_facility_ids``); None: all
    of the municipality's. Two queries, each read in chunks."""
    start = clock.at(dt.date(year, month, 1), dt.time(0))
    end = clock.at(dt.date(year + month // 12, month % 12 + 1, 1), dt.time(0))
    paid = (
        Payment.objects.of(municipality)
        .filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("reservation__user", "reservation__unit__facility", "place", "recorded_by")
        .order_by("recorded_at", "id")
    )
    refunded = (
        Refund.objects.of(municipality)
        .filter(recorded_at__gte=start, recorded_at__lt=end)
        .select_related("payment__reservation__user", "payment__reservation__unit__facility", "place", "recorded_by")
        .order_by("recorded_at", "id")
    )
    if facility_ids is not None:
        paid = paid.filter(reservation__unit__facility_id__in=facility_ids)
        refunded = refunded.filter(payment__reservation__unit__facility_id__in=facility_ids)
    merged = heapq.merge(
        paid.iterator(chunk_size=CHUNK),
        refunded.iterator(chunk_size=CHUNK),
        key=lambda row: (row.recorded_at, isinstance(row, Refund), row.pk),
    )
    return _rows(PAYMENT_COLUMNS, merged)
