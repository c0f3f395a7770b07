"""The resident's booking pages: week grid → confirm page → my bookings → cancel, on the demo data.

Dates: Kodaira and Tamba demo accounts are valid until 2029-03-31, Shiroi's until 2027-03-31.
2027-05-10 is a Monday. Kodaira first-come online (K-FC-1, K-FC-2) is open for use dates from 2027-05-18
(D-8 = 05-10) and the whole of June; 2027-05-18 is the 3rd Tuesday (closure day), so 05-19 is the test day.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from accounts.models import User
from reservations import services
from reservations.models import Reservation, SlotHold

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY_1000 = dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)
TUESDAY_1000 = dt.datetime(2027, 5, 11, 10, 0, tzinfo=TOKYO)
USE_DAY = "2027-05-19"
MORNING = "0900-1200"


def ja(message: str) -> str:
    """A message as the pages show it: in Japanese, the default language."""
    with translation.override("ja"):
        return translation.gettext(message)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def week_url(unit, day="2027-05-17"):
    return f"/{unit.municipality.slug}/units/{unit.id}/week/{day}/"


def confirm_url(unit, day=USE_DAY, span=MORNING):
    return f"/{unit.municipality.slug}/book/{unit.id}/{day}/{span}/"


def cell(page: str, unit, day=USE_DAY, span=MORNING) -> str:
    """The <td> of the grid for that slot (found by its confirm link or, when it has none, by position)."""
    match = re.search(
        r'<td data-state="[^"]*"[^>]*>(?:(?!</td>).)*' + re.escape(confirm_url(unit, day, span)) + r".*?</td>",
        page,
        re.S,
    )
    return match.group(0) if match else ""


def book_morning(client, unit, day=USE_DAY, span=MORNING):
    return client.post(confirm_url(unit, day, span) + "?week=2027-05-17")


# Anonymous visitors -------------------------------------------------------------------------------------------


def test_grid__anonymous__open_cells_link_to_log_in_with_the_confirm_page_next(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        response = client.get(week_url(room))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-state="open"' in page
    login_link = "/accounts/login/?next=" + confirm_url(room) + "%3Fweek%3D2027-05-16"  # the week's Sunday
    assert login_link in page
    assert "no-store" in response["Cache-Control"]  # back button: always fetched again


def test_confirm__anonymous__redirects_to_log_in(client, demo):
    with travel(MONDAY_1000):
        response = client.get(confirm_url(demo["room"]))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/kodaira/book/")


def test_my_bookings__anonymous__redirects_to_log_in(client, demo):
    response = client.get("/kodaira/my/bookings/")
    assert response.status_code == 302 and "next=/kodaira/my/bookings/" in response["Location"]


# The Kodaira journey ------------------------------------------------------------------------------------------


def test_kodaira_group__books_from_grid__provisional_then_confirmed_next_day(client, demo):
    room, group = demo["room"], demo["group1"]
    with travel(MONDAY_1000):
        client.force_login(group)
        grid = client.get(week_url(room)).content.decode()
        assert 'data-state="open"' in cell(grid, room)
        assert "My bookings" in grid or "/kodaira/my/bookings/" in grid

        confirm = client.get(confirm_url(room) + "?week=2027-05-17")
        page = confirm.content.decode()
        assert confirm.status_code == 200
        assert "中島地域センター" in page and "集会室" in page
        assert 'name="csrfmiddlewaretoken"' in page and 'type="submit"' in page
        assert "K-FC-4" in page  # confirmed by itself the next day

        response = book_morning(client, room)
        reservation = Reservation.objects.get(user=group)
        # Post/Redirect/Get to the completion page (step ③)
        assert response.status_code == 302 and response["Location"] == f"/kodaira/my/bookings/{reservation.id}/booked/"
        assert reservation.state == "provisional" and reservation.channel == "online"
        done = client.get(response["Location"]).content.decode()
        assert ja("Your booking is made") in done and 'aria-current="step"' in done

        mine = client.get("/kodaira/my/bookings/").content.decode()
        assert 'data-state="provisional"' in mine
        assert f"/kodaira/my/bookings/{reservation.id}/cancel/" in mine

        grid = client.get(week_url(room)).content.decode()
        assert '<td data-state="mine">' in grid

    with travel(TUESDAY_1000):  # K-FC-4: confirmed from the next day, cancellation only at the counter
        mine = client.get("/kodaira/my/bookings/").content.decode()
        assert 'data-state="confirmed"' in mine
        assert f"/kodaira/my/bookings/{reservation.id}/cancel/" not in mine
        assert '<span class="rule-id">K-FC-4</span>' in mine
        page = client.get(f"/kodaira/my/bookings/{reservation.id}/cancel/").content.decode()
        assert "K-FC-4" in page and "button--danger" not in page
        response = client.post(f"/kodaira/my/bookings/{reservation.id}/cancel/")
        assert response.status_code == 302
        reservation.refresh_from_db()
        assert reservation.state == "provisional"  # the job has not run; still not cancelled


def test_kodaira_group__cancels_on_the_booking_day__slot_free_again(client, demo):
    room, group = demo["room"], demo["group1"]
    with travel(MONDAY_1000):
        client.force_login(group)
        book_morning(client, room)
        reservation = Reservation.objects.get(user=group)
        page = client.get(f"/kodaira/my/bookings/{reservation.id}/cancel/").content.decode()
        assert 'class="button button--danger"' in page
        response = client.post(f"/kodaira/my/bookings/{reservation.id}/cancel/")
        assert response.status_code == 302 and response["Location"] == "/kodaira/my/bookings/"
        reservation.refresh_from_db()
        assert reservation.state == "cancelled" and not SlotHold.objects.exists()
        mine = client.get("/kodaira/my/bookings/").content.decode()
        assert 'data-state="cancelled"' in mine
        assert 'data-state="open"' in cell(client.get(week_url(room)).content.decode(), room)


def test_grid__slot_booked_by_someone_else__booked_not_a_link(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        services.book(
            user=demo["group2"],
            unit=room,
            starts_at=dt.datetime(2027, 5, 19, 9, tzinfo=TOKYO),
            ends_at=dt.datetime(2027, 5, 19, 12, tzinfo=TOKYO),
        )
        client.force_login(demo["group1"])
        page = client.get(week_url(room)).content.decode()
        confirm = client.get(confirm_url(room)).content.decode()
    assert confirm_url(room) not in page  # no link to book it
    # 05-19 is the fourth day column of the 午前 row (the week starts on Sunday the 16th).
    morning_row = re.search(r"<tr>\s*<th scope=\"row\">午前.*?</tr>", page, re.S).group(0)
    states = re.findall(r'<td data-state="([a-z_]+)"', morning_row)
    assert states[3] == "booked"
    assert ja("Someone else has booked this slot.") in confirm and 'type="submit" class="button' not in confirm


def test_grid__anonymous_sees_booked_slots_too(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        services.book(
            user=demo["group2"],
            unit=room,
            starts_at=dt.datetime(2027, 5, 19, 9, tzinfo=TOKYO),
            ends_at=dt.datetime(2027, 5, 19, 12, tzinfo=TOKYO),
        )
        page = client.get(week_url(room)).content.decode()
    assert page.count('<td data-state="booked"') == 1


def test_kodaira__inside_d7_online__grid_and_confirm_page_cite_k_lm_1(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        grid = client.get(week_url(room, "2027-05-10")).content.decode()
        this_week = cell(grid, room, "2027-05-12")
        assert 'data-state="not_bookable"' in this_week and 'data-rule="K-LM-1"' in this_week
        assert "K-LM-1" in this_week  # the rule id, visible and in the title
        confirm = client.get(confirm_url(room, "2027-05-12"))
        response = client.post(confirm_url(room, "2027-05-12"))
    page = confirm.content.decode()
    assert confirm.status_code == 200 and "K-LM-1" in page
    assert 'class="button button--primary"' not in page
    assert response.status_code == 422 and "K-LM-1" in response.content.decode()
    assert not Reservation.objects.exists()


def test_kodaira__fifth_slot_at_a_center__confirm_page_cites_k_fc_3(client, demo):
    room, group = demo["room"], demo["group1"]
    with travel(MONDAY_1000):
        client.force_login(group)
        for day in ("2027-05-19", "2027-05-20", "2027-05-21", "2027-05-22"):
            assert book_morning(client, room, day).status_code == 302
        grid = client.get(week_url(room, "2027-05-23")).content.decode()
        # The grid checks windows, not monthly limits (a count per cell); the confirm page does.
        assert 'data-state="open"' in cell(grid, room, "2027-05-23")
        page = client.get(confirm_url(room, "2027-05-23")).content.decode()
    assert "K-FC-3" in page and 'class="button button--primary"' not in page


def test_posting_twice__one_booking__second_told_it_is_already_theirs(client, demo):
    room, group = demo["room"], demo["group1"]
    with travel(MONDAY_1000):
        client.force_login(group)
        first = book_morning(client, room)
        second = book_morning(client, room)
        assert first.status_code == 302 and second.status_code == 302
        assert second["Location"] == "/kodaira/my/bookings/"
        page = client.get("/kodaira/my/bookings/").content.decode()
        assert Reservation.objects.filter(user=group).count() == 1
        assert (
            ja("This slot is already yours (booking no. %(id)s).") % {"id": Reservation.objects.get(user=group).id}
            in page
        )
        # Back to the confirm page after booking: nothing to confirm, the week shows the slot as mine.
        back = client.get(confirm_url(room) + "?week=2027-05-17")
        assert back.status_code == 302 and back["Location"] == week_url(room)


def test_post_of_a_slot_someone_else_just_took__409_with_link_back(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        confirm = client.get(confirm_url(room) + "?week=2027-05-17")
        assert confirm.status_code == 200
        services.book(
            user=demo["group2"],
            unit=room,
            starts_at=dt.datetime(2027, 5, 19, 9, tzinfo=TOKYO),
            ends_at=dt.datetime(2027, 5, 19, 12, tzinfo=TOKYO),
        )
        response = book_morning(client, room)
    page = response.content.decode()
    assert response.status_code == 409
    assert ja("Someone has just booked this slot.") in page and f'href="{week_url(room)}"' in page
    assert Reservation.objects.filter(user=demo["group1"]).count() == 0


# Tamba: runs of whole hours -----------------------------------------------------------------------------------


def test_tamba_resident__books_a_three_hour_run(client, demo):
    room, resident = demo["tamba_room"], demo["tamba1"]
    now = dt.datetime(2027, 5, 10, 11, 0, tzinfo=TOKYO)  # T-APP-3: online 10:00–24:00
    with travel(now):
        client.force_login(resident)
        grid = client.get(week_url(room, "2027-06-14")).content.decode()
        assert confirm_url(room, "2027-06-15", "1000-1100") in grid
        page = client.get(confirm_url(room, "2027-06-15", "1000-1100") + "?week=2027-06-14").content.decode()
        assert '<select id="until" name="until"' in page
        assert '<option value="1300">' in page and '<option value="2200">' in page
        picked = client.get(confirm_url(room, "2027-06-15", "1000-1100"), {"week": "2027-06-14", "until": "1300"})
        assert picked.status_code == 302
        assert picked["Location"] == confirm_url(room, "2027-06-15", "1000-1300") + "?week=2027-06-14"
        page = client.get(picked["Location"]).content.decode()
        assert '<option value="1300" selected>' in page
        assert "T-PAY-1" in page and "2027年5月25日 23:59" in page  # B+15 23:59, shown as the last minute
        response = client.post(picked["Location"], {"terms": "on"})  # Tamba's terms of use (issue #21 item 5)
        assert response.status_code == 302
        reservation = Reservation.objects.get(user=resident)
        assert reservation.slot_count == 3 and reservation.state == "awaiting_payment"
        assert SlotHold.objects.filter(reservation=reservation).count() == 3
        mine = client.get("/tamba/my/bookings/").content.decode()
        assert "10:00–13:00" in mine and "2027年5月25日 23:59" in mine
        assert "T-CAN-1" in mine  # Tamba cancellations go to the center
        grid = client.get(week_url(room, "2027-06-14")).content.decode()
        assert grid.count('<td data-state="mine">') == 3
        # The run picker stops before someone's (here: my own) booking.
        page = client.get(confirm_url(room, "2027-06-15", "0900-1000")).content.decode()
    assert '<option value="1000" selected>' in page and '<option value="1100">' not in page


def test_tamba__outside_online_service_hours__grid_says_t_app_3(client, demo):
    room = demo["tamba_room"]
    with travel(dt.datetime(2027, 5, 10, 9, 0, tzinfo=TOKYO)):
        client.force_login(demo["tamba1"])
        grid = client.get(week_url(room, "2027-06-14")).content.decode()
    assert 'data-rule="T-APP-3"' in grid and '<td data-state="open">' not in grid


# Shiroi: provisional until paid ---------------------------------------------------------------------------------


def test_shiroi_resident__confirm_page_shows_pay_by_d7_and_books_provisional(client, demo):
    court = demo["shiroi_court"]
    with travel(dt.datetime(2027, 1, 10, 10, 0, tzinfo=TOKYO)):  # Shiroi demo accounts end 2027-03-31
        client.force_login(User.objects.get(username="shiroi-resident"))
        url = confirm_url(court, "2027-02-20", "0900-1100")
        page = client.get(url).content.decode()
        assert "S-PAY-2" in page and "2027年2月13日 23:59" in page  # S-PAY-2: the end of D-7
        assert "S-CAN-1" not in page  # provisional bookings can be cancelled online (S-PAY-3)
        assert "【見本】白井市スポーツ施設" in page  # the profile's terms (a sample wording in the demo)
        refused = client.post(url)  # terms not ticked: nothing is booked, the page says so
        assert (
            refused.status_code == 422
            and ja("Read the terms of use and tick the box to accept them; nothing was booked.")
            in refused.content.decode()
        )
        assert not Reservation.objects.filter(unit=court).exists()
        assert client.post(url, {"terms": "on"}).status_code == 302
        mine = client.get("/shiroi/my/bookings/").content.decode()
    assert 'data-state="provisional"' in mine and "2027年2月13日 23:59" in mine
    assert "/shiroi/my/bookings/" in mine and "/cancel/" in mine


# Tenancy and other users ------------------------------------------------------------------------------------


def test_another_users_booking__cancel_page_404(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        other = services.book(
            user=demo["group2"],
            unit=room,
            starts_at=dt.datetime(2027, 5, 19, 9, tzinfo=TOKYO),
            ends_at=dt.datetime(2027, 5, 19, 12, tzinfo=TOKYO),
        )
        client.force_login(demo["group1"])
        assert client.get(f"/kodaira/my/bookings/{other.id}/cancel/").status_code == 404
        assert client.post(f"/kodaira/my/bookings/{other.id}/cancel/").status_code == 404
        assert client.get("/kodaira/my/bookings/999999/cancel/").status_code == 404
        assert f"booking-{other.id}" not in client.get("/kodaira/my/bookings/").content.decode()
    other.refresh_from_db()
    assert other.state == "provisional"


def test_booking_under_another_municipality__404(client, demo):
    room = demo["room"]
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        book_morning(client, room)
        reservation = Reservation.objects.get()
        assert client.get(f"/tamba/my/bookings/{reservation.id}/cancel/").status_code == 404
        assert client.get(f"/tamba/book/{room.id}/{USE_DAY}/{MORNING}/").status_code == 404
        assert f"booking-{reservation.id}" not in client.get("/tamba/my/bookings/").content.decode()
        assert client.get(f"/nowhere/book/{room.id}/{USE_DAY}/{MORNING}/").status_code == 404


def test_resident_of_another_municipality__told_why_not(client, demo):
    with travel(MONDAY_1000):
        client.force_login(demo["tamba1"])
        page = client.get(confirm_url(demo["room"])).content.decode()
        grid = client.get(week_url(demo["room"])).content.decode()
    assert "not_registered_here" in page and 'class="button button--primary"' not in page
    assert 'data-rule="not_registered_here"' in grid


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("2027-13-45/0900-1200/", 400),
        ("2027-05-19/9-12/", 400),
        ("2027-05-19/1200-0900/", 400),
        ("2027-05-19/2500-2600/", 400),
        ("2027-05-19/0930-1030/", 200),  # not a slot of the unit: said so, no button
    ],
)
def test_confirm__malformed_or_unknown_slot__never_500(client, demo, path, status):
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        response = client.get(f"/kodaira/book/{demo['room'].id}/{path}")
        assert response.status_code == status
        if status == 200:
            assert "slot_invalid" in response.content.decode()
            assert client.post(f"/kodaira/book/{demo['room'].id}/{path}").status_code == 422
        assert client.get(f"/kodaira/book/{demo['room'].id}/2027-05-19/0900-1100/?until=ab").status_code == 400


def test_header__my_bookings_link_for_logged_in_residents(client, demo):
    with travel(MONDAY_1000):
        assert "/kodaira/my/bookings/" not in client.get("/kodaira/").content.decode()
        client.force_login(demo["group1"])
        assert 'href="/kodaira/my/bookings/"' in client.get("/kodaira/").content.decode()
        assert 'href="/kodaira/my/bookings/"' in client.get("/").content.decode()


def test_grid__logged_in__constant_number_of_queries(client, demo, django_assert_max_num_queries):
    """Session, user, municipality, the cache's version check (unit and rule profile come from facilities.cache),
    holds: whatever the number of slots."""
    with travel(dt.datetime(2027, 5, 10, 11, 0, tzinfo=TOKYO)):
        client.force_login(demo["tamba1"])
        client.get(week_url(demo["tamba_room"], "2027-06-07"))  # fills the per-process cache
        with django_assert_max_num_queries(9):
            response = client.get(week_url(demo["tamba_room"], "2027-06-14"))  # 13 rows × 7 days
    assert response.status_code == 200


def test_my_bookings__upcoming_first_then_past_and_cancelled(client, demo):
    room, group = demo["room"], demo["group1"]
    with travel(MONDAY_1000):
        client.force_login(group)
        for day in ("2027-05-19", "2027-05-20", "2027-05-21"):
            book_morning(client, room, day)
        first, second, third = Reservation.objects.order_by("starts_at")
        client.post(f"/kodaira/my/bookings/{second.id}/cancel/")
    with travel(dt.datetime(2027, 5, 20, 13, 0, tzinfo=TOKYO)):
        page = client.get("/kodaira/my/bookings/").content.decode()
    upcoming, earlier = page.split('data-test="upcoming"')[1].split('data-test="earlier"')
    assert f"booking-{third.id}" in upcoming
    assert f"booking-{first.id}" in earlier and f"booking-{second.id}" in earlier
    assert earlier.index(f"booking-{second.id}") < earlier.index(f"booking-{first.id}")  # most recent first
    assert upcoming.count("<strong>600円</strong>") == 1  # the fee as booked: 集会室, 600 yen a period (Kodaira sample)


def test_confirm__shows_the_fee_line_by_line_before_booking(client, demo):
    """What booking would cost, from the fee table of today (the booking day): Kodaira's sample room fee."""
    with travel(MONDAY_1000):
        client.force_login(demo["group1"])
        page = client.get(confirm_url(demo["room"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    fee = page.split('data-test="fee"')[1].split("</dd>")[0]
    assert "600 yen" in fee and "sample fee table" in fee


def test_confirm__exempt_group__fee_zero_with_the_exemption_line(client, demo):
    """K-USE-2: the demo's kodaira-group2 is exempt from fees (使用料免除)."""
    with travel(MONDAY_1000):
        client.force_login(demo["group2"])
        page = client.get(confirm_url(demo["room"]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    fee = page.split('data-test="fee"')[1].split("</dd>")[0]
    assert "<strong>0 yen</strong>" in fee and "K-USE-2" in fee
