"""The models of the ``reservations`` app, one module per subject; import them from here.

- ``bookings``: ``Reservation``, ``SlotHold``, ``KeyLending``, ``UseReport`` and their querysets.
- ``feeds``: ``CalendarFeed``, the private calendar feed.
- ``alerts``: ``SlotWatch`` and ``FreedSlot``, the cancellation alerts.

Django finds the models through this package, so each model class is imported here.
"""

from .alerts import FreedSlot, SlotWatch, SlotWatchQuerySet
from .bookings import (
    KeyLending,
    Reservation,
    ReservationQuerySet,
    SlotHold,
    SlotHoldQuerySet,
    UseReport,
    published_q,
)
from .feeds import CalendarFeed, CalendarFeedQuerySet

__all__ = [
    "CalendarFeed",
    "CalendarFeedQuerySet",
    "FreedSlot",
    "KeyLending",
    "Reservation",
    "ReservationQuerySet",
    "SlotHold",
    "SlotHoldQuerySet",
    "SlotWatch",
    "SlotWatchQuerySet",
    "UseReport",
    "published_q",
]
