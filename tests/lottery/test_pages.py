"""The resident's lottery pages: the grid shows lottery slots with their application counts (S-LOT-1 notes),
apply → my applications → withdraw; after the draw the drawn order ("why did I lose?"), confirm or give up a
Shiroi win (S-LOT-5); the draw's published record with its commit and, from the results day, its seed."""

import re

import pytest
import time_machine

from lottery.models import Application
from reservations.models import Reservation
from tests.reservations.booking_helpers import jst, make_user, unit

from .helpers import (
    KODAIRA_DAY,
    KODAIRA_IN_WINDOW,
    KODAIRA_MONTH,
    SHIROI_DAY,
    SHIROI_IN_WINDOW,
    SHIROI_MONTH,
    SHIROI_RESULTS,
    apply,
    run_draw,
    slot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def travel(moment):
    return time_machine.travel(moment, tick=False)


def text(response) -> str:
    """The page's main content as plain text, to assert on what a person reads."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[html.index("<main") :]))


def week(room, day):
    return f"/{room.municipality.slug}/units/{room.id}/week/{day}/"


def apply_url(room, day, span):
    return f"/{room.municipality.slug}/lottery/apply/{room.id}/{day}/{span}/"


def test_grid__lottery_month__cells_say_lottery_with_the_number_of_applications(client):
    room = unit("kodaira", "nakajima", "assembly-room")
    other = make_user("kodaira", "lot-other")
    apply(KODAIRA_IN_WINDOW, user=other, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00")
    with travel(KODAIRA_IN_WINDOW):
        page = client.get(week(room, KODAIRA_DAY), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        api = client.get(f"/api/v1/kodaira/units/{room.id}/availability?from={KODAIRA_DAY}&to={KODAIRA_DAY}").json()
    cells = re.findall(r'<td data-state="lottery".*?</td>', page)
    # The week from Sunday the 15th: 3 periods × 6 open days, all in August's lottery (Tuesday the 17th is closed,
    # the third Tuesday); only the applied morning of Friday the 20th counts one application.
    assert len(cells) == 18
    applied = [c for c in cells if "(1 application)" in c]
    assert len(applied) == 1 and "/2027-08-20/0900-1200/" in applied[0]
    assert sum("(0 applications)" in c for c in cells) == 17
    slots = api["days"][0]["slots"]
    assert [s["state"] for s in slots] == ["lottery"] * 3 and [s["applications"] for s in slots] == [1, 0, 0]


def test_grid__after_the_results_day__first_come_states_again(client):
    room = unit("kodaira", "nakajima", "assembly-room")
    with travel(jst(2027, 6, 20, 0, 0)):  # K-LOT-3: results from M-2/20
        page = client.get(week(room, KODAIRA_DAY)).content.decode()
    assert 'data-state="lottery"' not in page


def test_apply__get_then_post__listed_with_the_allowance__back_button_does_not_apply_twice(client):
    room = unit("kodaira", "nakajima", "assembly-room")
    group = make_user("kodaira", "lot-page-group")
    address = apply_url(room, KODAIRA_DAY, "0900-1200")
    with travel(KODAIRA_IN_WINDOW):
        client.force_login(group)
        page = client.get(address, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 200
        assert "2 / 2 K-LOT-2" in text(page)  # the rule id: a small reference after the count (issue #21)
        response = client.post(address)
        assert response.status_code == 302 and response["Location"] == "/kodaira/my/lottery/"
        mine = text(client.get("/kodaira/my/lottery/", HTTP_ACCEPT_LANGUAGE="en"))
        again = client.get(address, HTTP_ACCEPT_LANGUAGE="en")  # the back button
    assert "Applications left: 1 of 2. K-LOT-2" in mine
    assert "already_applied" in text(again) and "Apply for this slot" not in text(again)
    assert Application.objects.filter(user=group).count() == 1


def test_apply__third_application_of_the_month__422_k_lot_2(client):
    room = unit("kodaira", "nakajima", "assembly-room")
    group = make_user("kodaira", "lot-limit-group")
    with travel(KODAIRA_IN_WINDOW):
        client.force_login(group)
        client.post(apply_url(room, KODAIRA_DAY, "0900-1200"))
        client.post(apply_url(room, KODAIRA_DAY, "1300-1700"))
        response = client.post(apply_url(room, KODAIRA_DAY, "1800-2200"))
    assert response.status_code == 422
    assert "K-LOT-2" in text(response)
    assert Application.objects.filter(user=group).count() == 2


def test_apply__shiroi_non_resident__refused_with_s_reg_4(client):
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    visitor = make_user("shiroi", "lot-visitor", residency="non_resident")
    with travel(SHIROI_IN_WINDOW):
        client.force_login(visitor)
        page = client.get(apply_url(court, SHIROI_DAY, "0900-1100"))
    assert "S-REG-4" in text(page)
    assert '<form method="post"' not in page.content.decode().split("<main")[1]


def test_withdraw__while_open__then_no_button_after_the_window(client):
    room = unit("kodaira", "nakajima", "assembly-room")
    group = make_user("kodaira", "lot-withdraw-group")
    application = apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00")
    with travel(KODAIRA_IN_WINDOW):
        client.force_login(group)
        assert 'data-test="withdraw"' in client.get("/kodaira/my/lottery/").content.decode()
        client.post(f"/kodaira/my/lottery/{application.id}/withdraw/")
    application.refresh_from_db()
    assert application.state == Application.State.WITHDRAWN
    second = apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, start="13:00", end="17:00")
    with travel(jst(2027, 6, 20, 0, 0)):  # K-LOT-1: the window closed after 06-19 23:59
        page = client.get("/kodaira/my/lottery/").content.decode()
        client.post(f"/kodaira/my/lottery/{second.id}/withdraw/")
    assert 'data-test="withdraw"' not in page
    second.refresh_from_db()
    assert second.state != Application.State.WITHDRAWN


def test_shiroi__results__drawn_order_shown__confirm_makes_a_booking(client, shiroi_applications):
    run_draw(SHIROI_RESULTS, "shiroi", SHIROI_MONTH)
    minamiyama = unit("shiroi", "minamiyama-tennis", "court-1")
    won = Application.objects.get(
        unit=minamiyama, starts_at=slot(SHIROI_DAY, "09:00", "11:00")[0], state=Application.State.WON
    )
    with travel(SHIROI_RESULTS):
        client.force_login(won.user)
        page = client.get("/shiroi/my/lottery/", HTTP_ACCEPT_LANGUAGE="en")
        # 南山 court 1 at 09:00 had four applicants; the winner came first, or second when the first had already won
        # the overlapping 十余一 slot (the overlap rule)
        assert re.search(r"\b[12] of 4 applicants", text(page))
        assert f"/shiroi/my/lottery/{won.id}/confirm/" in page.content.decode()
        client.post(f"/shiroi/my/lottery/{won.id}/confirm/")
    won.refresh_from_db()
    assert won.state == Application.State.CONFIRMED
    assert Reservation.objects.get(pk=won.reservation_id).state == "provisional"  # S-LOT-5 → S-PAY-1


def test_shiroi__forfeit__the_slot_is_free_at_once(client, shiroi_applications, shiroi_players):
    run_draw(SHIROI_RESULTS, "shiroi", SHIROI_MONTH)
    won = Application.objects.filter(state=Application.State.WON).select_related("user").first()
    with travel(SHIROI_RESULTS):
        client.force_login(won.user)
        client.post(f"/shiroi/my/lottery/{won.id}/forfeit/")
    won.refresh_from_db()
    assert won.state == Application.State.FORFEITED
    assert not Reservation.objects.get(pk=won.reservation_id).holds.exists()


def test_draw_page__commit_before__seed_from_the_results_day__json_for_verify_draw(client, shiroi_applications):
    run_draw(jst(2027, 4, 16, 0, 0), "shiroi", SHIROI_MONTH)  # S-LOT-4: drawn on the 16th, published on the 18th
    with travel(jst(2027, 4, 17, 12, 0)):
        before = client.get("/shiroi/lottery/2027-06/", HTTP_ACCEPT_LANGUAGE="en")
        early = client.get("/shiroi/lottery/2027-06/draw.json").json()
    with travel(SHIROI_RESULTS):
        after = client.get("/shiroi/lottery/2027-06/")
        document = client.get("/shiroi/lottery/2027-06/draw.json").json()
    assert "Published on the results day" in text(before) and early["seed"] is None and early["commit"]["seed_sha256"]
    assert document["seed"] and document["seed"] in after.content.decode()
    assert document["results"]["slots"]
    assert client.get("/shiroi/lottery/2027-13/").status_code == 400
    assert client.get("/shiroi/lottery/2031-01/").status_code == 404


def test_my_bookings__a_win_awaiting_confirmation_is_not_cancelled_there_but_on_the_lottery_page(
    client, shiroi_applications
):
    """S-LOT-5: a pending Shiroi win is confirmed or given up on the lottery page (the application follows)."""
    run_draw(SHIROI_RESULTS, "shiroi", SHIROI_MONTH)
    won = Application.objects.filter(state=Application.State.WON).select_related("user").first()
    with travel(SHIROI_RESULTS):
        client.force_login(won.user)
        page = client.get("/shiroi/my/bookings/").content.decode()
        client.post(f"/shiroi/my/bookings/{won.reservation_id}/cancel/")
    assert f"/shiroi/my/bookings/{won.reservation_id}/cancel/" not in page and "S-LOT-5" in page
    assert Reservation.objects.get(pk=won.reservation_id).is_active


def test_kodaira_win__is_a_booking_with_its_fee__shiroi_win_gets_its_fee_when_confirmed(
    client, kodaira_applications, shiroi_applications
):
    """K-LOT-4: a Kodaira win is a booking at once and stores its fee like any booking (the draw day's table);
    a Shiroi win gets its fee when the winner confirms it (S-LOT-5 → S-PAY-1)."""
    from .helpers import KODAIRA_DRAW

    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)
    kodaira_win = Reservation.objects.get(pk=Application.objects.get(pk=kodaira_applications[0].pk).reservation_id)
    assert kodaira_win.fee_total == 600  # 集会室 (sample table)
    run_draw(SHIROI_RESULTS, "shiroi", SHIROI_MONTH)
    won = (
        Application.objects.filter(municipality__slug="shiroi", state=Application.State.WON)
        .select_related("user")
        .first()
    )
    assert Reservation.objects.get(pk=won.reservation_id).fee is None
    with travel(SHIROI_RESULTS):
        client.force_login(won.user)
        client.post(f"/shiroi/my/lottery/{won.id}/confirm/")
    assert Reservation.objects.get(pk=won.reservation_id).fee_total == 630  # 南山/十余一 tennis, general
