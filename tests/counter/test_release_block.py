"""Releasing a block (issue #7 item 2: blocks for maintenance or a municipal event, ``services.block_slot``) from the
console: linked from the day sheet, asked first, released until the block starts — the slots are free again at
once — refused from its first minute, audited with the clerk and the reason, 404 outside the clerk's facility
scope and for anything that is not a block."""

import datetime as dt

import pytest

from accounts.models import AuditEntry, User
from config import clock
from facilities.models import Facility, Municipality
from reservations import services
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import attempt, book, jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

DAY = dt.date(2027, 7, 20)  # a Tuesday on which Tamba's centres are open


@pytest.fixture
def room():
    return unit("tamba", "kaibara", "large-meeting-room")


def blocked(
    room, *, start=9, end=12, kind="maintenance", reason="空調工事", moment=jst(2027, 6, 10, 10, 0)
) -> Reservation:
    with at(moment):
        return services.block_slot(
            unit=room,
            starts_at=clock.at(DAY, dt.time(start)),
            ends_at=clock.at(DAY, dt.time(end)),
            reason=reason,
            kind=kind,
            staff=user("tamba-clerk"),
        )


def release_url(booking, municipality="tamba") -> str:
    return counter_url("release_block", municipality, booking.pk)


def sheet_url(facility="kaibara") -> str:
    return counter_url("day_sheet", "tamba", facility=facility, date=DAY.isoformat())


def test_release__from_the_day_sheet_asked_then_released_and_the_slots_are_free_again(room):
    block = blocked(room)
    with at(jst(2027, 6, 11, 10, 0)):
        client = client_for("tamba-clerk")
        sheet = client.get(sheet_url()).content.decode()
        assert f'href="{release_url(block)}" data-test="release-block"' in sheet
        ask = client.get(release_url(block))
        assert (
            ask.status_code == 200
            and 'data-test="confirm-release"' in ask.content.decode()
            and "空調工事" in ask.content.decode()
        )
        assert Reservation.objects.get(pk=block.pk).is_active  # asking changes nothing
        response = client.post(release_url(block), {"reason": "工事が延期になった"})
        assert response.status_code == 302 and response["Location"] == sheet_url()
        after = client.get(response["Location"]).content.decode()
        assert "Block released" in after and f'id="booking-{block.pk}"' not in after
    block.refresh_from_db()
    assert (block.state, block.cancel_reason, block.cancelled_at) == ("cancelled", "staff", jst(2027, 6, 11, 10, 0))
    assert not SlotHold.objects.filter(reservation=block).exists()
    entry = AuditEntry.objects.get(action="booking.override.release")
    assert (entry.actor, entry.target_id, entry.reason) == (user("tamba-clerk"), str(block.pk), "工事が延期になった")
    assert entry.before["state"] == "confirmed" and entry.before["override_kind"] == "maintenance"
    assert entry.after["state"] == "cancelled"
    # The slot the block held can be booked again (T-APP-2 online window, 10:00–24:00).
    booking = attempt(
        jst(2027, 6, 11, 10, 5), user=user("tamba-resident1"), unit=room, day=DAY, start="10:00", end="11:00"
    )
    assert isinstance(booking, Reservation)


def test_release__a_municipal_event_block_too(room):
    block = blocked(room, kind="municipal_event", reason="市の防災訓練")
    with at(jst(2027, 6, 11, 10, 0)):
        assert client_for("tamba-clerk").post(release_url(block)).status_code == 302
    assert Reservation.objects.get(pk=block.pk).state == "cancelled"
    assert AuditEntry.objects.get(action="booking.override.release").reason == ""


def test_release__in_the_last_minute_before_the_block_starts(room):
    block = blocked(room)
    with at(jst(2027, 7, 20, 8, 59)):
        client = client_for("tamba-clerk")
        assert f'href="{release_url(block)}"' in client.get(sheet_url()).content.decode()
        assert client.post(release_url(block)).status_code == 302
    assert Reservation.objects.get(pk=block.pk).state == "cancelled"


def test_release__refused_from_the_blocks_first_minute_it_stays_on_the_record(room):
    block = blocked(room)
    with at(jst(2027, 7, 20, 9, 0)):
        client = client_for("tamba-clerk")
        sheet = client.get(sheet_url()).content.decode()
        assert f'id="booking-{block.pk}"' in sheet and release_url(block) not in sheet
        ask = client.get(release_url(block)).content.decode()
        assert "This block has already started" in ask and 'data-test="confirm-release"' not in ask
        response = client.post(release_url(block))
    assert response.status_code == 422 and "This block has already started" in response.content.decode()
    block.refresh_from_db()
    assert block.is_active and SlotHold.objects.filter(reservation=block).count() == 3
    assert not AuditEntry.objects.filter(action="booking.override.release").exists()


def test_release__twice_is_refused_the_second_time(room):
    block = blocked(room)
    with at(jst(2027, 6, 11, 10, 0)):
        client = client_for("tamba-clerk")
        assert client.post(release_url(block)).status_code == 302
        again = client.post(release_url(block))
    assert again.status_code == 422 and "This block has already been released" in again.content.decode()
    assert AuditEntry.objects.filter(action="booking.override.release").count() == 1


def test_release__only_blocks_a_grant_or_a_residents_booking_is_a_404(room):
    resident = user("tamba-resident1")
    ordinary = book(jst(2027, 6, 10, 10, 0), user=resident, unit=room, day=DAY, start="13:00", end="14:00")
    with at(jst(2027, 7, 19, 10, 0)):
        grant = services.book_override(
            user=user("tamba-resident2"),
            unit=room,
            starts_at=clock.at(DAY, dt.time(15)),
            ends_at=clock.at(DAY, dt.time(16)),
            reason="NPO法人の公開講座",
            staff=user("tamba-clerk"),
        )
        client = client_for("tamba-clerk")
        sheet = client.get(sheet_url()).content.decode()
        for booking in (ordinary, grant):
            assert release_url(booking) not in sheet
            assert client.get(release_url(booking)).status_code == 404
            assert client.post(release_url(booking)).status_code == 404
            with pytest.raises(services.BookingRefused) as refused:
                services.release_block(
                    reservation_id=booking.pk, municipality_id=room.municipality_id, staff=user("tamba-clerk")
                )
            assert [r.code for r in refused.value.refusals] == ["not_a_block"]
    assert Reservation.objects.get(pk=ordinary.pk).is_active and Reservation.objects.get(pk=grant.pk).is_active


def test_release__outside_the_clerks_facility_scope_is_a_404_and_the_service_refuses(room):
    block = blocked(room)
    clerk = User.objects.create(
        username="tamba-hikami-only",
        municipality=Municipality.objects.get(slug="tamba"),
        account_kind="staff",
        staff_role="clerk",
        display_name="氷上 窓口",
    )
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="tamba", code="hikami")])
    with at(jst(2027, 6, 11, 10, 0)):
        client = client_for(clerk.username)
        assert client.get(release_url(block)).status_code == 404
        assert client.post(release_url(block)).status_code == 404
        with pytest.raises(services.BookingRefused) as refused:
            services.release_block(reservation_id=block.pk, municipality_id=room.municipality_id, staff=clerk)
        assert [r.code for r in refused.value.refusals] == ["staff_scope"]
    assert Reservation.objects.get(pk=block.pk).is_active


def test_release__another_municipalitys_clerk_and_a_resident_get_a_404(room):
    block = blocked(room)
    with at(jst(2027, 6, 11, 10, 0)):
        for who in ("kodaira-clerk", "tamba-resident1"):
            client = client_for(who)
            assert client.get(release_url(block)).status_code == 404, who
            assert client.post(release_url(block)).status_code == 404, who
        assert client_for("kodaira-clerk").post(release_url(block, "kodaira")).status_code == 404
        with pytest.raises(services.BookingRefused) as refused:
            services.release_block(
                reservation_id=block.pk, municipality_id=room.municipality_id, staff=user("kodaira-clerk")
            )
        assert [r.code for r in refused.value.refusals] == ["staff_only"]
    assert Reservation.objects.get(pk=block.pk).is_active


def test_release__the_form_needs_the_csrf_token(room):
    block = blocked(room)
    with at(jst(2027, 6, 11, 10, 0)):
        response = client_for("tamba-clerk", enforce_csrf_checks=True).post(release_url(block))
    assert response.status_code == 403 and Reservation.objects.get(pk=block.pk).is_active
