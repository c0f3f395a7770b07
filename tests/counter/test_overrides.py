"""Overrides with a recorded reason (issue #7, item 5): T-APP-5 grants outside the windows and blocks for
maintenance or a municipal event. The windows are skipped, X-3 is not: an override never double-books."""

import datetime as dt

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from facilities.models import BookingState
from reservations import services
from reservations.admin import ReservationAdmin
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import attempt, book, jst, unit, user

from .helpers import at, client_for, counter_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

TAMBA_DAY = dt.date(2027, 7, 20)  # counter and phone closed after 07-17 (T-APP-1)


@pytest.fixture
def room():
    return unit("tamba", "kaibara", "large-meeting-room")


def grant(client, person, room, start="1000", end="1200", **extra):
    return client.post(
        counter_url("override", "tamba"),
        {
            "kind": "grant",
            "user": person.pk,
            "unit": room.pk,
            "date": TAMBA_DAY.isoformat(),
            "start": start,
            "end": end,
            "rule_id": "T-APP-5",
            "reason": "NPO法人の公開講座",
            **extra,
        },
    )


def test_override__t_app_5_grant_outside_the_windows_recorded_with_reason_and_rule_id(room):
    resident = user("tamba-resident1")
    assert attempt(
        jst(2027, 7, 19, 10, 0),
        user=resident,
        unit=room,
        day=TAMBA_DAY,
        start="10:00",
        end="12:00",
        channel="counter",
        booked_by=user("tamba-clerk"),
    ) == ["T-APP-1"]
    with at(jst(2027, 7, 19, 10, 0)):
        client = client_for("tamba-clerk")
        response = grant(client, resident, room)
        assert response.status_code == 302
        reservation = Reservation.objects.get(user=resident)
        assert (reservation.override_kind, reservation.override_rule_id, reservation.override_reason) == (
            "grant",
            "T-APP-5",
            "NPO法人の公開講座",
        )
        assert (reservation.state, reservation.channel, reservation.booked_by) == (
            BookingState.CONFIRMED,
            "counter",
            user("tamba-clerk"),
        )
        assert reservation.holds.count() == 2
        sheet = client.get(response["Location"]).content.decode()
        page = client.get(counter_url("user", "tamba", resident.pk)).content.decode()
    for html in (sheet, page):
        assert 'data-override="grant"' in html and "T-APP-5" in html and "NPO法人の公開講座" in html


def test_override__needs_a_reason_and_an_open_slot_of_the_unit(room):
    resident = user("tamba-resident1")
    with at(jst(2027, 7, 19, 10, 0)):
        client = client_for("tamba-clerk")
        assert grant(client, resident, room, reason="  ").status_code == 422
        assert grant(client, resident, room, start="1030", end="1200").status_code == 422  # not whole hours (T-USE-1)
    with at(jst(2027, 7, 20, 10, 0)):
        assert grant(client_for("tamba-clerk"), resident, room).status_code == 422  # already started
    assert not Reservation.objects.filter(user=resident).exists()


def test_override__cannot_double_book_a_taken_slot_409(room):
    holder = user("tamba-resident2")
    taken = book(jst(2027, 6, 10, 10, 0), user=holder, unit=room, day=TAMBA_DAY, start="11:00", end="12:00")
    with at(jst(2027, 7, 19, 10, 0)):
        response = grant(client_for("tamba-clerk"), user("tamba-resident1"), room, start="1000", end="1200")
    assert response.status_code == 409 and "Someone has just booked this slot" in response.content.decode()
    assert list(SlotHold.objects.filter(unit=room).values_list("reservation_id", flat=True)) == [taken.pk]


def test_block__maintenance_held_by_the_clerk_and_then_refused_to_residents(room):
    with at(jst(2027, 6, 10, 10, 0)):
        client = client_for("tamba-clerk")
        response = client.post(
            counter_url("override", "tamba"),
            {
                "kind": "maintenance",
                "unit": room.pk,
                "date": TAMBA_DAY.isoformat(),
                "start": "0900",
                "end": "1200",
                "reason": "空調工事",
            },
        )
    assert response.status_code == 302
    block = Reservation.objects.get(unit=room)
    assert (block.user, block.booked_by, block.override_kind, block.override_rule_id, block.fee_total) == (
        user("tamba-clerk"),
        user("tamba-clerk"),
        "maintenance",
        "maintenance",
        None,
    )
    assert attempt(
        jst(2027, 6, 10, 10, 5), user=user("tamba-resident1"), unit=room, day=TAMBA_DAY, start="10:00", end="11:00"
    ) == ["slot_taken"]
    with at(jst(2027, 6, 10, 10, 10)):
        html = client_for("tamba-clerk").get(response["Location"]).content.decode()
    assert 'data-override="maintenance"' in html and "空調工事" in html


def test_override__only_a_clerk_of_the_municipality_in_the_service(room):
    with at(jst(2027, 7, 19, 10, 0)), pytest.raises(services.BookingRefused) as refused:
        services.book_override(
            user=user("tamba-resident1"),
            unit=room,
            starts_at=jst(2027, 7, 20, 10),
            ends_at=jst(2027, 7, 20, 11),
            reason="x",
            staff=user("shiroi-clerk"),
        )
    assert refused.value.refusals[0].code == "staff_only"


def test_override__shown_in_the_admin(room):
    with at(jst(2027, 7, 19, 10, 0)):
        reservation = services.book_override(
            user=user("tamba-resident1"),
            unit=room,
            starts_at=jst(2027, 7, 20, 10),
            ends_at=jst(2027, 7, 20, 11),
            reason="公開講座",
            staff=user("tamba-clerk"),
        )
    admin = ReservationAdmin(Reservation, site)
    assert "override_kind" in admin.list_display and "override_kind" in admin.list_filter
    request = RequestFactory().get("/admin/reservations/reservation/", {"override_kind": "grant"})
    request.user = user("operator")
    readonly = admin.get_readonly_fields(request, reservation)
    assert {"override_kind", "override_rule_id", "override_reason"} <= set(readonly)
    response = admin.changelist_view(request)
    response.render()
    html = response.content.decode()
    assert f"/admin/reservations/reservation/{reservation.pk}/change/" in html
    assert str(Reservation.OverrideKind.GRANT.label) in html


def test_override_form__prefills_the_clerks_own_municipalitys_grant_rule_or_nothing(room):
    """The rule-id box holds the clerk's own municipality's grant rule from its rule profile (Tamba: T-APP-5, shown
    as a small reference beside the label); Shiroi and Kodaira have none: the box is empty, never Tamba's rule.
    Once a Shiroi clerk has cited a rule for a grant, Shiroi's form offers that one."""
    with at(jst(2027, 7, 19, 10, 0)):
        tamba = client_for("tamba-clerk").get(counter_url("override", "tamba")).content.decode()
        assert 'value="T-APP-5"' in tamba and '<span class="rule-id">T-APP-5</span>' in tamba
        for slug in ("shiroi", "kodaira"):
            html = client_for(f"{slug}-clerk").get(counter_url("override", slug)).content.decode()
            assert 'name="rule_id" type="text" maxlength="20" value=""' in html and "T-APP-5" not in html
    court = unit("shiroi", "nakakido-tennis", "court-1")
    services.book_override(
        user=user("shiroi-resident"),
        unit=court,
        starts_at=jst(2027, 9, 1, 9, 0),
        ends_at=jst(2027, 9, 1, 11, 0),
        reason="市民大会",
        rule_id="S-FC-1",
        staff=user("shiroi-clerk"),
    )
    with at(jst(2027, 7, 19, 10, 0)):
        shiroi = client_for("shiroi-clerk").get(counter_url("override", "shiroi")).content.decode()
    assert 'value="S-FC-1"' in shiroi and "T-APP-5" not in shiroi
