"""The operator sees the freed-slot queue of the cancellation alerts (issue #9) in the admin: read-only, with a
filter for the slots not told yet (a row left there for minutes means the worker is down)."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from reservations.admin import FreedSlotAdmin
from reservations.models import FreedSlot

from .booking_helpers import jst, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def changelist(query=None):
    request = RequestFactory().get("/admin/reservations/freedslot/", query or {})
    request.user = user("operator")
    response = FreedSlotAdmin(FreedSlot, site).changelist_view(request)
    response.render()
    return request, response.content.decode()


def test_freed_slots__listed_read_only__untold_ones_filtered():
    room = unit("kodaira", "nakajima", "assembly-room")
    told = FreedSlot.objects.create(
        unit=room,
        starts_at=jst(2027, 8, 20, 9),
        reservation_id=101,
        freed_at=jst(2027, 8, 1, 10),
        handled_at=jst(2027, 8, 1, 10, 1),
    )
    waiting = FreedSlot.objects.create(
        unit=room, starts_at=jst(2027, 8, 20, 13), reservation_id=102, freed_at=jst(2027, 8, 1, 11)
    )
    request, everything = changelist()
    assert f"/admin/reservations/freedslot/{told.pk}/change/" in everything
    assert f"/admin/reservations/freedslot/{waiting.pk}/change/" in everything
    _request, untold = changelist({"handled_at__isempty": "1"})
    assert f"/admin/reservations/freedslot/{waiting.pk}/change/" in untold
    assert f"/admin/reservations/freedslot/{told.pk}/change/" not in untold
    admin = FreedSlotAdmin(FreedSlot, site)
    assert admin.has_view_permission(request, waiting)
    assert not admin.has_add_permission(request)
    assert not admin.has_change_permission(request, waiting) and not admin.has_delete_permission(request, waiting)


def test_a_booking_reads_in_japan_time_where_the_admin_names_it():
    """A 09:00 booking is named "… 09:00" in the admin's lists and log, not by its stored UTC (00:00)."""
    import datetime as dt

    from tests.factories import a_booking, a_resident

    room = unit("kodaira", "nakajima", "assembly-room")
    booking = a_booking(
        a_resident("kodaira"), room, dt.date(2027, 5, 26), "09:00", "12:00", made_at=jst(2027, 5, 12, 10)
    )
    assert str(booking).endswith("集会室 2027-05-26 09:00")
    assert str(booking.holds.first()).endswith("集会室 2027-05-26 09:00")
