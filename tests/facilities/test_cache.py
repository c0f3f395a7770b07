"""facilities.cache: answers kept per process stay right and stay bounded."""

import datetime as dt

import pytest

from facilities import cache, calendars
from facilities.models import ClosureRule, Facility

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_far_dates_do_not_grow_the_cache_without_end(monkeypatch):
    """Anyone may ask about any day of the century (a booking request names its date): past MAX_ENTRIES the cache
    starts over, and the answers stay right."""
    monkeypatch.setattr(cache, "MAX_ENTRIES", 50)
    facility = Facility.objects.get(municipality__slug="kodaira", code="nakajima")
    days = [dt.date(2030, 1, 1) + dt.timedelta(days=n) for n in range(400)]
    answers = [calendars.is_open(facility, day) for day in days]
    assert len(cache._entries) <= 50
    rules = list(ClosureRule.objects.filter(calendar=facility.closure_calendar))
    assert answers == [calendars.closing_rule(rules, day) is None for day in days]
    assert not all(answers) and any(answers)  # the calendar closes some of these days and not others
