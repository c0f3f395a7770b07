import pytest

from tests.reservations.booking_helpers import make_user, seeded, unit  # noqa: F401

from .helpers import KODAIRA_DAY, KODAIRA_IN_WINDOW, SHIROI_DAY, SHIROI_IN_WINDOW, apply


@pytest.fixture
def shiroi_players():
    """Five Shiroi residents; ann applies in English (her results e-mail is in English), eve has no address."""
    names = ["ann", "bob", "cat", "dan", "eve"]
    return {name: make_user("shiroi", f"lot-{name}", email="" if name == "eve" else f"{name}@example.com") for name in names}


@pytest.fixture
def shiroi_applications(shiroi_players):
    """Court 1 of 南山 at 09:00: ann, bob, cat, dan. Court 1 of 十余一 at 09:00 (another site, same hour): ann,
    eve. Court 1 of 南山 at 11:00: bob alone."""
    from django.utils import translation

    minamiyama = unit("shiroi", "minamiyama-tennis", "court-1")
    toyoichi = unit("shiroi", "toyoichi-tennis", "court-1")
    p = shiroi_players
    made = {}
    for name in ["ann", "bob", "cat", "dan"]:
        with translation.override("en" if name == "ann" else "ja"):
            made[(name, "minamiyama-09")] = apply(SHIROI_IN_WINDOW, user=p[name], unit=minamiyama, day=SHIROI_DAY, start="09:00", end="11:00")
    for name in ["ann", "eve"]:
        with translation.override("en" if name == "ann" else "ja"):
            made[(name, "toyoichi-09")] = apply(SHIROI_IN_WINDOW, user=p[name], unit=toyoichi, day=SHIROI_DAY, start="09:00", end="11:00")
    made[("bob", "minamiyama-11")] = apply(SHIROI_IN_WINDOW, user=p["bob"], unit=minamiyama, day=SHIROI_DAY, start="11:00", end="13:00")
    return made


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
