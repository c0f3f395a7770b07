"""Writes of the fees app, one module per sub-domain; every public name is re-exported here, so callers write
``from fees import services`` and ``services.record_payment(...)``.

- ``payments``: recording a payment (``record_payment``, ``book_and_pay``), why a payment is refused
  (``payment_refusals``, ``place_refusals``) and the use permit (``permit_refusal``, ``permit_for``).
- ``cancellation``: cancelling and changing at the counter with the refund the rules give (``cancellation_quote``,
  ``cancel_at_counter``, ``change_at_counter``).
- ``closures``: closing a facility (``cancel_for_facility``, ``bookings_in_period``).
- ``weather``: rain and heat stops, their claims, transfers and refunds (``mark_weather``, ``mark_weather_day``,
  ``refund_weather_claim``, ``transfer_weather_claim``, ``WEATHER_WINDOW_LEAD``).
- ``common``: what they share (the booking's row lock, the clerk's municipality, the refund row, ``not_found``,
  ``CancellationRefused``).

Every amount paid back is a ``Refund`` row (who, when, why, how much), one per payment, and the database checks
that it never exceeds what was paid.
"""

from reservations.services import BookingError

from .cancellation import CancellationQuote, cancel_at_counter, cancellation_quote, change_at_counter
from .closures import bookings_in_period, cancel_for_facility
from .common import CancellationRefused, not_found
from .payments import (
    PaymentRefused,
    SeveralRefused,
    already_paid,
    book_and_pay,
    book_several,
    fiscal_year,
    issue_permit,
    issued_permit,
    next_permit_number,
    payment_refusals,
    permit_for,
    permit_refusal,
    place_refusals,
    record_payment,
)
from .weather import (
    WEATHER_WINDOW_LEAD,
    WeatherDay,
    WeatherDayRow,
    WeatherStop,
    mark_weather,
    mark_weather_day,
    refund_weather_claim,
    transfer_account_refusals,
    transfer_refusal,
    transfer_slot_refusals,
    transfer_weather_claim,
    transfer_weather_claim_online,
    weather_day,
    weather_day_rows,
    weather_policy,
    weather_refusal,
    weather_stop,
)

__all__ = [
    "WEATHER_WINDOW_LEAD",
    "BookingError",
    "CancellationQuote",
    "CancellationRefused",
    "PaymentRefused",
    "SeveralRefused",
    "WeatherDay",
    "WeatherDayRow",
    "WeatherStop",
    "already_paid",
    "book_and_pay",
    "book_several",
    "bookings_in_period",
    "cancel_at_counter",
    "cancel_for_facility",
    "cancellation_quote",
    "change_at_counter",
    "fiscal_year",
    "issue_permit",
    "issued_permit",
    "mark_weather",
    "mark_weather_day",
    "next_permit_number",
    "not_found",
    "payment_refusals",
    "permit_for",
    "permit_refusal",
    "place_refusals",
    "record_payment",
    "refund_weather_claim",
    "transfer_account_refusals",
    "transfer_refusal",
    "transfer_slot_refusals",
    "transfer_weather_claim",
    "transfer_weather_claim_online",
    "weather_day",
    "weather_day_rows",
    "weather_policy",
    "weather_refusal",
    "weather_stop",
]
