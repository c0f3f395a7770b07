"""Per-process cache of what the booking path reads on every request and changes rarely: a unit with its
facility, slot scheme, seasons and closure rules, a municipality's rule profile with its windows and limits, and
answers computed from them (a facility open on a day, its first open day of a month, a unit's slots of a day).

An entry is valid while two numbers are unchanged:
- the database's ``CatalogueVersion``, bumped in the same transaction as any change to these models (signals
  below). A process reads it at most once per ``VERSION_CHECK_SECONDS`` (the booking path would otherwise spend
  a query per request on it), so other web workers see a committed change within that second;
- this process's own generation, bumped by the same signals, so a change that this process made (or rolled back,
  as tests do) is never served stale.
Bulk ``QuerySet.update()`` bypasses signals: call ``changed()`` after one.
"""

import itertools
import threading
import time

from django.db import transaction
from django.db.models import F

_entries: dict = {}
_generation = itertools.count(1)
_current_generation = next(_generation)
_lock = threading.Lock()
VERSION_CHECK_SECONDS = 1.0
# Entries are per unit, profile, facility day and facility month; requests name any day of a century, so the
# cache starts over rather than grow without end (a few thousand entries make a busy month).
MAX_ENTRIES = 20_000
_version_seen: tuple[float, int] = (float("-inf"), 0)  # (monotonic time of the read, version read)


def _database_version() -> int:
    global _version_seen
    read_at, version = _version_seen
    if time.monotonic() - read_at < VERSION_CHECK_SECONDS:
        return version
    from .models import CatalogueVersion

    version = CatalogueVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0
    _version_seen = (time.monotonic(), version)
    return version


def cached(key, load):
    """The cached value for ``key``, or ``load()`` when the catalogue changed since it was cached."""
    stamp = (_database_version(), _current_generation)
    hit = _entries.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = load()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = (stamp, value)
    return value


def changed(**_ignored) -> None:
    """Something cached may have changed: new generation here, new version for every other process."""
    global _current_generation
    from .models import CatalogueVersion

    with _lock:
        _current_generation = next(_generation)
        _entries.clear()
    updated = CatalogueVersion.objects.filter(pk=1).update(version=F("version") + 1)
    if not updated:
        CatalogueVersion.objects.get_or_create(pk=1, defaults={"version": 1})
    # A rolled-back change must not leave a value loaded inside it: forget everything once more afterwards.
    transaction.on_commit(lambda: _entries.clear())


def reset() -> None:
    """Forget everything, including the last version read (tests: each starts from the database as it is)."""
    global _version_seen
    with _lock:
        _entries.clear()
        _version_seen = (float("-inf"), 0)


def cached_models():
    from . import models

    return [
        models.Municipality,
        models.Facility,
        models.Unit,
        models.SlotScheme,
        models.SchemePeriod,
        models.OpeningHours,
        models.ClosureCalendar,
        models.ClosureRule,
        models.RuleProfile,
        models.BookingWindow,
        models.BookingLimit,
    ]
