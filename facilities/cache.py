"""Per-process cache of what the booking path reads on every request and changes rarely: a unit with its
facility, slot scheme, seasons and closure rules, and a municipality's rule profile with its windows and limits.

An entry is valid while two numbers are unchanged:
- the database's ``CatalogueVersion``, bumped in the same transaction as any change to these models (signals
  below), so other web workers see a change as soon as it commits;
- this process's own generation, bumped by the same signals, so a change that this process made (or rolled back,
  as tests do) is never served stale.
Bulk ``QuerySet.update()`` bypasses signals: call ``changed()`` after one.
"""

import itertools
import threading

from django.db import transaction
from django.db.models import F

_entries: dict = {}
_generation = itertools.count(1)
_current_generation = next(_generation)
_lock = threading.Lock()


def _database_version() -> int:
    from .models import CatalogueVersion

    return CatalogueVersion.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def cached(key, load):
    """The cached value for ``key``, or ``load()`` when the catalogue changed since it was cached."""
    stamp = (_database_version(), _current_generation)
    hit = _entries.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    value = load()
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


def cached_models():
    from . import models

    return [
        models.Municipality, models.Facility, models.Unit, models.SlotScheme, models.SchemePeriod,
        models.OpeningHours, models.ClosureCalendar, models.ClosureRule,
        models.RuleProfile, models.BookingWindow, models.BookingLimit,
    ]
