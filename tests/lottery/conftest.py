"""Fixtures of the lottery tests; ``shiroi_players`` and ``shiroi_applications`` are in tests/conftest.py (the
counter's exports use them too)."""

import pytest

from tests.reservations.booking_helpers import make_user, unit

from .helpers import KODAIRA_DAY, KODAIRA_IN_WINDOW, apply


@pytest.fixture
def kodaira_group():
    return make_user("kodaira", "lot-group", email="lot-group@example.com")


@pytest.fixture
def kodaira_applications(kodaira_group):
    """The group applies for the morning and the afternoon of 中島's assembly room, alone: it wins both."""
    room = unit("kodaira", "nakajima", "assembly-room")
    return [
        apply(KODAIRA_IN_WINDOW, user=kodaira_group, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00"),
        apply(KODAIRA_IN_WINDOW, user=kodaira_group, unit=room, day=KODAIRA_DAY, start="13:00", end="17:00"),
    ]
