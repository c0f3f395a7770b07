"""The booking flow (issue #21 items 2 and 5): ① the week → ② the confirm page → ③ the completion page.

Hourly units (Tamba, T-USE-1) choose start and end before the only booking button, the confirm page shows that
range and its fee first, and the POST books exactly the range shown or nothing. The profile's questions (利用目的,
人数) and terms are asked and refused beside their fields. The completion page says what happens next, per
municipality. Dates: 2027-05-10 is a Monday; Tamba books online M-2/1 … D-22 from 10:00 to 24:00 (T-APP-2,
T-APP-3), so 2027-06-15 (a Tuesday) is bookable on 2027-05-10 11:00; 大会議室 costs 600 yen an hour (sample).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from accounts.models import User
from facilities.models import RuleProfile
from reservations import services
from reservations.models import Reservation, SlotHold

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
TAMBA_NOW = dt.datetime(2027, 5, 10, 11, 0, tzinfo=TOKYO)
DAY = "2027-06-15"
WEEK = "2027-06-14"


def ja(message: str) -> str:
    with translation.override("ja"):
        return translation.gettext(message)


def travel(moment):
    return time_machine.travel(moment, tick=False)


def confirm_url(unit, span, day=DAY):
    return f"/{unit.municipality.slug}/book/{unit.id}/{day}/{span}/"


def book(client, unit, span, day=DAY, **fields):
    return client.post(confirm_url(unit, span, day) + f"?week={WEEK}", fields)


# ② Hourly units: the range and its fee before the only button ----------------------------------------------------


def test_tamba_hourly__end_time_in_the_booking_form__books_exactly_0900_1200__three_hours(client, demo):
    room, resident = demo["tamba_room"], demo["tamba1"]
    with travel(TAMBA_NOW):
        client.force_login(resident)
        page = client.get(confirm_url(room, "0900-1000") + f"?week={WEEK}").content.decode()
        # One form: the end-time select, the terms box and the booking button are in it; no separate button.
        form = page[page.index('<form method="post"') : page.index("</form>", page.index('<form method="post"'))]
        assert 'name="until"' in form and 'name="terms"' in form and form.count('type="submit"') == 1
        assert ja("Change the end time") not in page
        assert 'aria-current="step"' in page

        # The resident picks 12:00 and presses the button without JavaScript: nothing is booked yet; the confirm
        # page of 09:00–12:00 shows its fee first (and keeps the ticked box).
        response = book(client, room, "0900-1000", shown="0900-1000", fee_shown="600", until="1200", terms="on")
        assert response.status_code == 302
        assert response["Location"] == confirm_url(room, "0900-1200") + f"?week={WEEK}&terms=on"
        assert not Reservation.objects.exists()
        page = client.get(response["Location"]).content.decode()
        assert "09:00–12:00" in page and "1,800" in page  # 3 × 600 yen
        assert "使用料：600円 × 3時間 ＝ 1,800円" in page  # the fee line reads as one Japanese sentence
        assert '<option value="1200" selected>' in page
        assert 'name="terms" id="id_terms" checked' in page
        chose = "You chose %(start)s–%(end)s. Nothing is booked yet: check the time and the fee below, then press the "
        chose += "booking button again."
        assert ja(chose) % {"start": "09:00", "end": "12:00"} in page

        response = book(client, room, "0900-1200", shown="0900-1200", fee_shown="1800", until="1200", terms="on")
        reservation = Reservation.objects.get(user=resident)
        assert response.status_code == 302 and response["Location"] == f"/tamba/my/bookings/{reservation.id}/booked/"
    local = reservation.starts_at.astimezone(TOKYO), reservation.ends_at.astimezone(TOKYO)
    assert (local[0].hour, local[1].hour, reservation.slot_count) == (9, 12, 3)
    assert SlotHold.objects.filter(reservation=reservation).count() == 3
    assert reservation.fee_total == 1800 and reservation.state == "awaiting_payment"


def test_tamba_hourly__end_time_changed_with_javascript__fee_and_button_follow__nothing_booked(client, demo):
    """With JavaScript on, changing the end time sends htmx's GET (HX-Request) of ?until=1200 with the answers
    typed so far: it lands on the page of 09:00–12:00 (3 hours), never cached, whose form says 1,800 yen, the
    button 「09:00–12:00（3時間）を予約する」 and the hidden range and fee that one press then books; it books
    nothing itself. The status line (a live region) announces the new range and fee."""
    room, resident = demo["tamba_room"], demo["tamba1"]
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_ACCEPT_LANGUAGE": "ja"}
    with travel(TAMBA_NOW):
        client.force_login(resident)
        page = client.get(confirm_url(room, "0900-1000") + f"?week={WEEK}").content.decode()
        assert 'hx-get="' + confirm_url(room, "0900-1000") + f'?week={WEEK}"' in page
        assert 'src="/static/js/htmx.min.js" defer' in page
        assert '<p id="range-status" class="visually-hidden" role="status"></p>' in page  # empty on a page load

        response = client.get(confirm_url(room, "0900-1000"), {"week": WEEK, "until": "1200", "terms": "on"}, **htmx)
        assert response.status_code == 302
        assert response["Location"] == confirm_url(room, "0900-1200") + f"?week={WEEK}&terms=on"
        assert "no-store" in response["Cache-Control"]
        response = client.get(response["Location"], **htmx)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "HX-Request" in response["Vary"]
        page = response.content.decode()
        body = page[page.index('<div id="booking-body">') :]
        assert "09:00–12:00" in body and "1,800" in body  # 3 × 600 yen
        assert '<option value="1200" selected>' in body
        assert "09:00–12:00（3時間）を予約する" in body
        assert '<input type="hidden" name="shown" value="0900-1200">' in body
        assert '<input type="hidden" name="fee_shown" value="1800">' in body
        assert 'name="terms" id="id_terms" checked' in body  # the ticked box is kept
        assert f'action="{confirm_url(room, "0900-1200")}?week={WEEK}&amp;terms=on"' in body
        assert '<p id="range-status" class="visually-hidden" role="status">09:00–12:00: 1,800円</p>' in page
    assert not Reservation.objects.exists() and not SlotHold.objects.exists()

    # The one press: the form as htmx left it books 09:00–12:00.
    with travel(TAMBA_NOW):
        response = book(client, room, "0900-1200", shown="0900-1200", fee_shown="1800", until="1200", terms="on")
    reservation = Reservation.objects.get(user=resident)
    assert response["Location"] == f"/tamba/my/bookings/{reservation.id}/booked/" and reservation.slot_count == 3


def test_tamba_hourly__range_tampered_between_confirm_and_post__refused_nothing_booked(client, demo):
    room = demo["tamba_room"]
    with travel(TAMBA_NOW):
        client.force_login(demo["tamba1"])
        # The page showed 09:00–10:00; the form is sent to the address of 09:00–12:00.
        response = book(client, room, "0900-1200", shown="0900-1000", fee_shown="600", terms="on")
        page = response.content.decode()
        assert response.status_code == 409
        assert 'data-test="range-changed"' in page and "09:00–10:00" in page and "09:00–12:00" in page
        # The fee shown is not the fee of the range any more.
        response = book(client, room, "0900-1200", shown="0900-1200", fee_shown="600", terms="on")
        assert response.status_code == 409 and "1,800" in response.content.decode()
    assert not Reservation.objects.exists()


def test_tamba_hourly__end_beyond_the_opening_hours__refused_with_a_sentence(client, demo):
    """T-USE-1: 09:00–22:00. The last allowed end is 22:00; 23:00 is refused, with the hours in the sentence."""
    room = demo["tamba_room"]
    with travel(TAMBA_NOW):
        client.force_login(demo["tamba1"])
        page = client.get(confirm_url(room, "2100-2300")).content.decode()
        assert ja("This slot cannot be booked online now") in page
        assert "09:00" in page and "22:00" in page and "21:00–23:00" in page
        assert 'data-test="book"' not in page
        response = book(client, room, "2100-2300", terms="on")
        assert response.status_code == 422
        assert not Reservation.objects.exists()
        # The last allowed end: 22:00.
        response = book(client, room, "2100-2200", shown="2100-2200", terms="on")
        assert response.status_code == 302
    assert Reservation.objects.get().slot_count == 1


def test_tamba_hourly__slot_taken_between_confirm_and_post__409_nothing_booked(client, demo):
    room = demo["tamba_room"]
    with travel(TAMBA_NOW):
        client.force_login(demo["tamba1"])
        client.get(confirm_url(room, "0900-1200"))
        other = User.objects.get(username="tamba-resident2")
        services.book(
            user=other,
            unit=room,
            starts_at=dt.datetime(2027, 6, 15, 11, tzinfo=TOKYO),
            ends_at=dt.datetime(2027, 6, 15, 12, tzinfo=TOKYO),
        )
        response = book(client, room, "0900-1200", shown="0900-1200", fee_shown="1800", terms="on")
    assert response.status_code == 409
    assert 'data-test="taken"' in response.content.decode()
    assert not Reservation.objects.filter(user=demo["tamba1"]).exists()


def test_tamba_online_hours__0959_refused__1000_allowed(client, demo):
    """T-APP-3 at the edge: the flow books nothing at 09:59 and books at 10:00."""
    room = demo["tamba_room"]
    fields = {"shown": "0900-1200", "fee_shown": "1800", "terms": "on"}
    with travel(dt.datetime(2027, 5, 10, 9, 59, tzinfo=TOKYO)):
        client.force_login(demo["tamba1"])
        response = book(client, room, "0900-1200", **fields)
        assert response.status_code == 422 and "T-APP-3" in response.content.decode()
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        assert book(client, room, "0900-1200", **fields).status_code == 302
    assert Reservation.objects.get().slot_count == 3


# ⑤ The profile's questions and terms -------------------------------------------------------------------------------


def test_tamba_terms__not_ticked__error_beside_the_box_nothing_booked(client, demo):
    room = demo["tamba_room"]
    with travel(TAMBA_NOW):
        client.force_login(demo["tamba1"])
        page = client.get(confirm_url(room, "0900-1000")).content.decode()
        assert "【見本】" in page  # the demo terms are marked as a sample
        response = book(client, room, "0900-1000", shown="0900-1000", fee_shown="600")
        page = response.content.decode()
    assert response.status_code == 422
    assert 'data-test="terms-error"' in page and 'aria-invalid="true" aria-describedby="terms-error"' in page
    assert ja("Read the terms of use and tick the box to accept them; nothing was booked.") in page
    assert not Reservation.objects.exists()


def test_kodaira__profile_asks_purpose_and_headcount__required__then_stored_and_shown(client, demo):
    RuleProfile.objects.filter(municipality__slug="kodaira").update(
        ask_purpose="required", ask_headcount="required", headcount_max=30
    )
    room, group = demo["room"], demo["group1"]
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        client.force_login(group)
        url = confirm_url(room, "0900-1200", "2027-05-19")
        page = client.get(url).content.decode()
        assert 'name="purpose"' in page and 'name="headcount"' in page and 'name="terms"' not in page
        response = client.post(url, {"shown": "0900-1200"})
        page = response.content.decode()
        assert response.status_code == 422
        assert 'data-test="purpose-error"' in page and 'data-test="headcount-error"' in page
        response = client.post(url, {"shown": "0900-1200", "purpose": "太極拳の練習", "headcount": "31"})
        assert response.status_code == 422 and 'data-test="headcount-error"' in response.content.decode()
        response = client.post(url, {"shown": "0900-1200", "purpose": "太極拳の練習", "headcount": "abc"})
        assert response.status_code == 422 and 'value="太極拳の練習"' in response.content.decode()
        assert not Reservation.objects.exists()
        response = client.post(url, {"shown": "0900-1200", "purpose": " 太極拳の練習 ", "headcount": "12"})
        assert response.status_code == 302
        reservation = Reservation.objects.get(user=group)
        assert (reservation.purpose, reservation.headcount) == ("太極拳の練習", 12)
        done = client.get(response["Location"]).content.decode()
        mine = client.get("/kodaira/my/bookings/").content.decode()
        for shown in (done, mine):
            assert "太極拳の練習" in shown and 'data-test="headcount"' in shown
        # The counter sees them too (read-only).
        client.force_login(User.objects.get(username="kodaira-clerk"))
        counter = client.get(f"/kodaira/counter/money/bookings/{reservation.id}/").content.decode()
    assert "太極拳の練習" in counter and 'data-test="headcount"' in counter


def test_kodaira__optional_purpose__may_be_left_empty(client, demo):
    RuleProfile.objects.filter(municipality__slug="kodaira").update(ask_purpose="optional")
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        client.force_login(demo["group1"])
        response = client.post(confirm_url(demo["room"], "0900-1200", "2027-05-19"), {"shown": "0900-1200"})
    assert response.status_code == 302 and Reservation.objects.get().purpose == ""


# ③ The completion page, per municipality -------------------------------------------------------------------------


def test_completion__tamba__deadline_place_permit_and_no_online_cancellation(client, demo):
    room = demo["tamba_room"]
    with travel(TAMBA_NOW):
        client.force_login(demo["tamba1"])
        response = book(client, room, "0900-1200", shown="0900-1200", fee_shown="1800", terms="on")
        done = client.get(response["Location"])
        page = done.content.decode()
        again = client.get(response["Location"])  # a reload books nothing and shows the same
    assert done.status_code == 200 and again.status_code == 200 and Reservation.objects.count() == 1
    assert "3時間" in page and "09:00–12:00" in page
    assert "2027年5月25日" in page and "23:59" in page  # T-PAY-1: 15 days after the application, the last minute
    assert "1,800" in page and "丹波市役所（サンプル）" in page
    assert "施設使用許可書" in page
    assert ja("It cannot be cancelled online.") in page and "T-CAN-1" in page
    assert "2027年6月12日" in page  # D-3 23:59: the whole fee back until then (T-CAN-1)
    assert ja("the whole fee is refunded") in page


def test_completion__shiroi__pay_by_d7_at_the_park_with_its_hours_and_closed_days(client, demo):
    court = demo["shiroi_court"]
    with travel(dt.datetime(2027, 1, 10, 10, 0, tzinfo=TOKYO)):
        client.force_login(User.objects.get(username="shiroi-resident"))
        response = client.post(confirm_url(court, "0900-1100", "2027-02-20"), {"shown": "0900-1100", "terms": "on"})
        page = client.get(response["Location"]).content.decode()
    assert "2027年2月13日" in page and "23:59" in page  # S-PAY-2: D-7
    assert "08:30–17:15" in page and 'data-test="places"' in page
    assert "施設利用許可書" in page  # Shiroi's word for the permit
    assert ja("If it is not paid by then, the booking is cancelled automatically.") in page
    assert ja("While it is unpaid you can change or cancel it online, under “My bookings”.") in page


def test_completion__kodaira__confirmed_at_midnight_and_cancel_online_until_then(client, demo):
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        client.force_login(demo["group1"])
        response = client.post(confirm_url(demo["room"], "0900-1200", "2027-05-19"), {"shown": "0900-1200"})
        page = client.get(response["Location"]).content.decode()
    assert "利用承認書" in page and "2027年5月11日 00:00" in page  # K-FC-4
    assert ja("Pay the fee of %(amount)s yen at the counter on the day of use.") % {"amount": "600"} in page
    assert 'data-test="pay-by"' not in page


def test_completion__someone_elses_booking__404(client, demo):
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        client.force_login(demo["group1"])
        response = client.post(confirm_url(demo["room"], "0900-1200", "2027-05-19"), {"shown": "0900-1200"})
        client.force_login(demo["group2"])
        assert client.get(response["Location"]).status_code == 404
