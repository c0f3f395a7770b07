"""T-USE-1: sports facilities may start at 07:00 when staff approve it in advance — an override at the counter
(services.book_early_start), with a recorded reason, holding its slots so that X-3 still holds. The 07:00 and the
unit kinds are Tamba's rule-profile data (RuleProfile.early_start_*, migration facilities/0011)."""

import datetime as dt

import pytest

from accounts.models import AuditEntry
from facilities.models import BookingState, RuleProfile
from reservations import services
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 7, 20)
NOW = jst(2027, 7, 10, 10, 0)  # approved in advance


@pytest.fixture
def gym():
    return unit("tamba", "sample-school-gym", "gym")


def early(client, person, the_unit, start, end, reason="大会準備（バレーボール大会）", day=DAY):
    return client.post(
        counter_url("override", "tamba"),
        {
            "kind": "early_start",
            "user": person.pk,
            "unit": the_unit.pk,
            "date": day.isoformat(),
            "start": start,
            "end": end,
            "reason": reason,
        },
    )


def grant(the_unit, start: dt.datetime, end: dt.datetime, staff="tamba-clerk", person="tamba-resident1"):
    return services.book_early_start(
        user=user(person), unit=the_unit, starts_at=start, ends_at=end, reason="大会準備", staff=user(staff)
    )


def codes(error) -> list[str]:
    return [r.code for r in error.value.refusals]


def test_early_start__0700_accepted_as_an_audited_override_on_the_day_sheet(gym):
    resident = user("tamba-resident1")
    with at(NOW):
        client = client_for("tamba-clerk")
        form = client.get(counter_url("override", "tamba")).content.decode()
        assert 'value="early_start"' in form and "07:00" in form and "T-USE-1" in form
        response = early(client, resident, gym, "0700", "0900")
        assert response.status_code == 302
        booking = Reservation.objects.get(user=resident, unit=gym)
        assert (booking.starts_at, booking.ends_at, booking.slot_count) == (jst(2027, 7, 20, 7), jst(2027, 7, 20, 9), 2)
        assert (booking.override_kind, booking.override_rule_id, booking.override_reason) == (
            "grant",
            "T-USE-1",
            "大会準備（バレーボール大会）",
        )
        assert (booking.state, booking.channel, booking.booked_by, booking.pay_by) == (
            BookingState.CONFIRMED,
            "counter",
            user("tamba-clerk"),
            None,
        )
        assert booking.fee_total and booking.fee_total > 0  # the early hours are priced like any hour
        assert sorted(SlotHold.objects.filter(reservation=booking).values_list("starts_at", flat=True)) == [
            jst(2027, 7, 20, 7),
            jst(2027, 7, 20, 8),
        ]
        entry = AuditEntry.objects.get(action="booking.override.grant", target_id=str(booking.pk))
        assert entry.actor == user("tamba-clerk") and "T-USE-1" in entry.reason and "大会準備" in entry.reason
        sheet = client.get(response["Location"]).content.decode()
    assert 'data-override="grant"' in sheet and "T-USE-1" in sheet and "大会準備（バレーボール大会）" in sheet
    assert "07:00" in sheet


def test_early_start__0659_refused_with_t_use_1_and_nothing_booked(gym):
    with at(NOW):
        with pytest.raises(services.BookingRefused) as refused:
            grant(gym, jst(2027, 7, 20, 6, 59), jst(2027, 7, 20, 9))
        assert codes(refused) == ["T-USE-1"]
        with pytest.raises(services.BookingRefused) as refused:
            grant(gym, jst(2027, 7, 20, 6), jst(2027, 7, 20, 7))
        assert codes(refused) == ["T-USE-1"]
        response = early(client_for("tamba-clerk"), user("tamba-resident1"), gym, "0659", "0900")
    assert response.status_code == 422 and "T-USE-1" in response.content.decode()
    assert not Reservation.objects.filter(unit=gym).exists()


def test_early_start__runs_on_into_the_day_or_ends_before_it_on_the_slot_grid(gym):
    with at(NOW):
        through = grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 12))
        assert through.slot_count == 5 and through.ends_at == jst(2027, 7, 20, 12)
        short = grant(gym, jst(2027, 7, 21, 8), jst(2027, 7, 21, 9))
        assert short.slot_count == 1
        for start, end in [((7, 30), (9, 0)), ((7, 0), (8, 30)), ((9, 0), (11, 0))]:
            with pytest.raises(services.BookingRefused) as refused:
                grant(gym, jst(2027, 7, 22, *start), jst(2027, 7, 22, *end))
            assert codes(refused) == ["T-USE-1"]  # off the hour grid, or not an early start


def test_early_start__a_second_grant_of_the_same_time_is_409_x_3(gym):
    with at(NOW):
        first = grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 9))
        with pytest.raises(services.SlotTaken):
            grant(gym, jst(2027, 7, 20, 8), jst(2027, 7, 20, 10), person="tamba-resident2")
        response = early(client_for("tamba-clerk"), user("tamba-resident2"), gym, "0700", "0800")
    assert response.status_code == 409 and "Someone has just booked this slot" in response.content.decode()
    assert set(SlotHold.objects.filter(unit=gym).values_list("reservation_id", flat=True)) == {first.pk}


def test_early_start__a_held_regular_slot_is_not_double_booked(gym):
    with at(NOW):
        regular = services.book_override(
            user=user("tamba-resident2"),
            unit=gym,
            starts_at=jst(2027, 7, 20, 9),
            ends_at=jst(2027, 7, 20, 10),
            reason="公開講座",
            staff=user("tamba-clerk"),
        )
        with pytest.raises(services.SlotTaken):
            grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 10))
        # The early hours alone, before the other booking's slot, are free.
        assert grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 9)).pk != regular.pk


def test_early_start__only_sports_units_in_tamba_and_not_elsewhere():
    room = unit("tamba", "kaibara", "large-meeting-room")
    with at(NOW):
        with pytest.raises(services.BookingRefused) as refused:
            grant(room, jst(2027, 7, 20, 7), jst(2027, 7, 20, 9))
        assert codes(refused) == ["T-USE-1"]
    with at(jst(2027, 3, 1, 10, 0)):  # the Shiroi demo registrations are valid until 2027-03-31 (S-REG-3)
        with pytest.raises(services.BookingRefused) as refused:
            services.book_early_start(
                user=user("shiroi-resident"),
                unit=unit("shiroi", "nakakido-tennis", "court-1"),
                starts_at=jst(2027, 3, 10, 6),
                ends_at=jst(2027, 3, 10, 7),
                reason="大会",
                staff=user("shiroi-clerk"),
            )
        assert codes(refused) == ["S-HRS-1"]  # Shiroi's hours have no early starts
        form = client_for("shiroi-clerk").get(counter_url("override", "shiroi")).content.decode()
    assert 'value="early_start"' not in form
    assert RuleProfile.objects.get(municipality__slug="shiroi").early_start_from is None


def test_early_start__not_after_it_started_nor_by_another_municipality(gym):
    with at(jst(2027, 7, 20, 7, 0)):
        with pytest.raises(services.BookingRefused) as refused:
            grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 9))
        assert codes(refused) == ["slot_past"]
    with at(NOW):
        with pytest.raises(services.BookingRefused) as refused:
            grant(gym, jst(2027, 7, 20, 7), jst(2027, 7, 20, 9), staff="shiroi-clerk")
        assert codes(refused) == ["staff_only"]
        with pytest.raises(services.BookingRefused) as refused:
            services.book_early_start(
                user=user("tamba-resident1"),
                unit=gym,
                starts_at=jst(2027, 7, 20, 7),
                ends_at=jst(2027, 7, 20, 9),
                reason="  ",
                staff=user("tamba-clerk"),
            )
        assert codes(refused) == ["T-USE-1"]  # approved in advance, with its reason recorded
    assert not Reservation.objects.filter(unit=gym).exists()
