"""Fixtures of the resident's booking pages (tests/reservations/test_pages.py, test_change_pages.py)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from facilities.models import Unit

SEEDED_AT = dt.datetime(2027, 5, 10, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # test_pages.MONDAY_1000


@pytest.fixture
def demo(db):
    with time_machine.travel(SEEDED_AT, tick=False):
        call_command("seed_demo", verbosity=0)
    return {
        "room": Unit.objects.get(municipality__slug="kodaira", facility__code="nakajima", code="assembly-room"),
        "tamba_room": Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room"),
        "shiroi_court": Unit.objects.filter(municipality__slug="shiroi").order_by("id").first(),
        "group1": User.objects.get(username="kodaira-group1"),
        "group2": User.objects.get(username="kodaira-group2"),
        "tamba1": User.objects.get(username="tamba-resident1"),
    }
