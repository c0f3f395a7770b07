"""The one clock. Every "now" and "today" in Yoyaku comes from here.

Tests move it with ``time_machine.travel(..., tick=False)``; nothing else reads the system time.
Dates that rules talk about (use date, D-8, M-1/3) are dates in Asia/Tokyo (settings.TIME_ZONE).
"""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.utils import timezone

# The years the portal accepts in addresses and input: outside them a date is a typo, and far dates overflow.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099

# The rules' zone, fixed: ``timezone.make_aware`` and ``timezone.localtime`` would look the current zone up
# through a context-local on each of the ~20 calls a booking request makes, and Yoyaku never activates another
# zone (rules speak Japan time).
JAPAN = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def now() -> dt.datetime:
    """The current instant, timezone-aware."""
    return timezone.now()


def local_now() -> dt.datetime:
    """The current instant in Japan time."""
    return localtime(now())


def today() -> dt.date:
    """Today's calendar date in Japan time."""
    return local_now().date()


def at(day: dt.date, time: dt.time) -> dt.datetime:
    """The aware datetime of a wall-clock time on a date, in Japan time."""
    return dt.datetime.combine(day, time, tzinfo=JAPAN)


def localtime(moment: dt.datetime) -> dt.datetime:
    """An aware instant seen in Japan time."""
    if moment.tzinfo is None:  # as timezone.localtime: astimezone() would read a naive value as the host's time
        raise ValueError("clock.localtime() needs an aware datetime")
    return moment.astimezone(JAPAN)
