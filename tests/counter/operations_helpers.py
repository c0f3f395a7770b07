"""Bookings, payments and refunds written straight to the database for the operations report's hand-built months
(tests/counter/test_operations_report.py, tests/e2e/test_admin_journey.py)."""

import datetime as dt

from fees.models import Payment, PaymentPlace, Refund
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import user

RESIDENT = {"shiroi": "shiroi-resident", "kodaira": "kodaira-group1", "tamba": "tamba-resident1"}


def booking(court, starts, *, channel="online", state="confirmed", hours=2, hold=True, reason="", who=None):
    municipality = court.municipality
    reservation = Reservation.objects.create(
        municipality=municipality,
        unit=court,
        user=who or user(RESIDENT[municipality.slug]),
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=hours),
        state=state,
        origin="first_come",
        channel=channel,
        created_at=starts - dt.timedelta(days=20),
        cancelled_at=starts - dt.timedelta(days=1) if state == "cancelled" else None,
        cancel_reason=reason,
    )
    if hold and state != "cancelled":
        SlotHold.objects.create(reservation=reservation, unit=court, starts_at=starts)
    return reservation


def payment(reservation, amount, at, number):
    return Payment.objects.create(
        reservation=reservation,
        municipality=reservation.municipality,
        amount=amount,
        receipt_number=f"R-{number}",
        place=counter_place(reservation.municipality),
        recorded_by=user(f"{reservation.municipality.slug}-clerk"),
        recorded_at=at,
        permit_number=f"TEST-{number}",
    )


def refund(paid, amount, at):
    return Refund.objects.create(
        payment=paid,
        municipality=paid.municipality,
        paid=paid.amount,
        amount=amount,
        percent=100 * amount // paid.amount,
        cause="own",
        recorded_by=user(f"{paid.municipality.slug}-clerk"),
        recorded_at=at,
    )


def counter_place(municipality):
    """Shiroi's 白井運動公園 (the report tests count it by name), else the municipality's first payment place."""
    places = PaymentPlace.objects.filter(municipality=municipality).order_by("pk")
    return places.filter(name_ja="白井運動公園").first() or places.first()
