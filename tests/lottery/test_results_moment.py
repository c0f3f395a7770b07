"""Nobody but staff learns a lottery outcome before the draw's results moment (K-LOT-3, S-LOT-4/5).

The draw writes the wins' bookings and their slot holds at once (X-3: nobody can book a won slot in between), but
until the results moment (``Draw.results_from``, stored on each win as ``Reservation.published_from``) every
surface a resident sees reads as if nothing had been drawn: the week grid and the availability API keep the
lottery state, My bookings, the reservations API, cancelling, the calendar files and feed, the lottery
applications page (state and drawn order), the notifications and the results e-mail. Each surface is checked at
the last minute before the moment and at its first minute, for Shiroi (draw on the 16th, results on the 18th) and
for Kodaira with its results a day after its draw (the seed draws and publishes at the same minute: the last
test covers that).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.core import mail

from accounts.models import Notice
from config import clock
from counter.selectors import SlotAnswer, day_slots
from facilities.models import BookingState
from lottery import jobs
from lottery.models import LotteryPolicy
from reservations import calendar_feed
from reservations import services as booking_services
from tests.reservations.booking_helpers import jst, make_user, unit

from .helpers import (
    KODAIRA_DAY,
    KODAIRA_IN_WINDOW,
    KODAIRA_MONTH,
    SHIROI_DRAW,
    SHIROI_MONTH,
    SHIROI_RESULTS,
    apply,
    run_draw,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

ONE_MINUTE = dt.timedelta(minutes=1)


def travel(moment):
    return time_machine.travel(moment, tick=False)


class Scenario:
    """One drawn lottery: the win's booking, its winner, another resident, the results moment."""

    def __init__(self, slug, win, winner, results_from):
        self.slug, self.win, self.winner, self.results_from = slug, win, winner, results_from
        self.other = make_user(slug, f"{slug}-outsider", email=f"{slug}-outsider@example.com")
        self.before, self.at = results_from - ONE_MINUTE, results_from
        self.day = clock.localtime(win.starts_at).date()

    def sides(self):
        return [(self.before, False), (self.at, True)]


@pytest.fixture(params=["shiroi", "kodaira"])
def drawn(request, shiroi_applications):
    if request.param == "shiroi":
        run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
        application = shiroi_applications[("bob", "minamiyama-11")]  # bob alone: he wins it
        application.refresh_from_db()
        return Scenario("shiroi", application.reservation, application.user, SHIROI_RESULTS)
    # Kodaira publishes at its draw (K-LOT-3: both on the 20th); an operator may publish a day later: then the
    # outcome must stay unknown for that day.
    LotteryPolicy.objects.filter(municipality__slug="kodaira").update(results_from="M-2/21 00:00")
    group = make_user("kodaira", "moment-group", email="moment-group@example.com")
    room = unit("kodaira", "nakajima", "assembly-room")
    application = apply(KODAIRA_IN_WINDOW, user=group, unit=room, day=KODAIRA_DAY, start="09:00", end="12:00")
    run_draw(jst(2027, 6, 20, 0, 0), "kodaira", KODAIRA_MONTH)
    application.refresh_from_db()
    return Scenario("kodaira", application.reservation, group, jst(2027, 6, 21, 0, 0))


def test_the_win_holds_its_slot_from_the_draw__x_3(drawn):
    win = drawn.win
    assert win.published_from == drawn.results_from
    assert win.state == (BookingState.WON if drawn.slug == "shiroi" else BookingState.CONFIRMED)
    clerk = make_user(drawn.slug, f"{drawn.slug}-moment-admin", account_kind="staff", staff_role="administrator")
    # nobody may take the slot in between: not even a block by staff
    with travel(drawn.before), pytest.raises(booking_services.SlotTaken):
        booking_services.block_slot(
            unit=win.unit, starts_at=win.starts_at, ends_at=win.ends_at, reason="maintenance", staff=clerk
        )


def _cell_states(client, scenario, user):
    """The cell states of the won slot's week on the grid page, and the availability API's (state, mine) of it."""
    client.logout()
    if user is not None:
        client.force_login(user)
    win = scenario.win
    page = client.get(f"/{scenario.slug}/units/{win.unit_id}/week/{scenario.day}/").content.decode()
    api = client.get(
        f"/api/v1/{scenario.slug}/units/{win.unit_id}/availability?from={scenario.day}&to={scenario.day}"
    ).json()
    slot = next(s for s in api["days"][0]["slots"] if dt.datetime.fromisoformat(s["start"]) == win.starts_at)
    return set(re.findall(r'<td data-state="([a-z_]+)"', page)), (slot["state"], slot["mine"])


def test_grid_and_availability_api__keep_the_lottery_state_until_the_results_moment(client, drawn):
    for moment, published in drawn.sides():
        with travel(moment):
            for who in (None, drawn.other, drawn.winner):
                states, (api_state, mine) = _cell_states(client, drawn, who)
                if not published:
                    assert "booked" not in states and "mine" not in states, (moment, who)
                    assert api_state == "lottery" and mine in (None, False), (moment, who)
                elif who == drawn.winner:
                    assert "mine" in states and (api_state, mine) == ("booked", True)
                else:
                    assert "booked" in states and api_state == "booked" and mine in (None, False)


def test_my_bookings_and_the_reservations_api__list_the_win_from_the_results_moment(client, drawn):
    from tests.api.conftest import token_for

    token = token_for(drawn.winner.username)
    for moment, published in drawn.sides():
        with travel(moment):
            client.force_login(drawn.winner)
            page = client.get(f"/{drawn.slug}/my/bookings/").content.decode()
            listed = client.get(
                f"/api/v1/{drawn.slug}/reservations", headers={"Authorization": f"Bearer {token}"}
            ).json()
        assert (f'id="booking-{drawn.win.pk}"' in page) is published, moment
        assert (drawn.win.pk in [r["id"] for r in listed]) is published, moment


def test_cancel_page_and_cancel_api__not_found_before_the_results_moment(client, drawn):
    from tests.api.conftest import token_for

    token = token_for(drawn.winner.username)
    with travel(drawn.before):
        client.force_login(drawn.winner)
        page = client.get(f"/{drawn.slug}/my/bookings/{drawn.win.pk}/cancel/")
        api = client.post(
            f"/api/v1/{drawn.slug}/reservations/{drawn.win.pk}/cancel", headers={"Authorization": f"Bearer {token}"}
        )
        ics = client.get(f"/{drawn.slug}/my/bookings/{drawn.win.pk}/calendar.ics")
    assert (page.status_code, api.status_code, ics.status_code) == (404, 404, 404)
    with travel(drawn.at):
        client.force_login(drawn.winner)
        page = client.get(f"/{drawn.slug}/my/bookings/{drawn.win.pk}/cancel/")
        ics = client.get(f"/{drawn.slug}/my/bookings/{drawn.win.pk}/calendar.ics")
    assert (page.status_code, ics.status_code) == (200, 200)
    drawn.win.refresh_from_db()
    assert drawn.win.state != BookingState.CANCELLED


def test_calendar_feed__the_win_appears_from_the_results_moment(client, drawn):
    with travel(drawn.before - dt.timedelta(days=1)):
        _feed, key = calendar_feed.issue_feed(user=drawn.winner)
    marker = f"yoyaku-reservation-{drawn.win.pk}@"
    for moment, published in drawn.sides():
        with travel(moment):
            body = client.get(f"/{drawn.slug}/calendar/{key}.ics").content.decode()
        assert body.startswith("BEGIN:VCALENDAR")
        assert (marker in body) is published, moment


def test_lottery_applications_page__no_outcome_or_drawn_order_before_the_results_moment(client, drawn):
    application = drawn.win.lottery_application
    for moment, published in drawn.sides():
        with travel(moment):
            client.force_login(drawn.winner)
            page = client.get(f"/{drawn.slug}/my/lottery/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        card = page[page.index(f'id="application-{application.pk}"') :]
        card = card[: card.index("</li>")]
        state = re.search(r'data-state="([a-z_]+)"', card).group(1)
        assert state == ("won" if published else "applied"), moment
        assert ('data-test="position"' in card) is published, moment


def test_results_email_and_notifications__not_before_the_results_moment(client, drawn):
    results = Notice.objects.filter(user=drawn.winner, kind=Notice.Kind.LOTTERY_RESULT)
    with travel(drawn.before):
        assert jobs.send_results() == {"sent": 0}
    assert mail.outbox == [] and not results.exists()
    with travel(drawn.at):
        assert jobs.send_results()["sent"] >= 1
        client.force_login(drawn.winner)
        page = client.get("/accounts/notifications/").content.decode()
    assert drawn.winner.email in [address for message in mail.outbox for address in message.to]
    assert results.get().in_language("ja")[0] in page  # the notice as the page's language (Japanese) says it


def test_staff__see_the_outcome_at_once_on_the_counter(drawn):
    with travel(drawn.before):
        answer = day_slots(unit=drawn.win.unit, day=drawn.day, user=drawn.other, channel="counter")
    row = next(r for r in answer.rows if r.slot.starts_at == drawn.win.starts_at)
    assert (row.answer, row.reservation_id) == (SlotAnswer.TAKEN, drawn.win.pk)


def test_kodaira_as_seeded__drawn_and_published_at_the_same_minute(client, kodaira_applications, kodaira_group):
    """K-LOT-3: applications close at 06-19 23:59 and the draw and the results are both at 06-20 00:00: the
    minute before, nothing is drawn; the job's run at 00:00 draws and the win shows at once."""
    win_slot = kodaira_applications[0]
    with travel(jst(2027, 6, 19, 23, 59)):
        jobs.run_draws()
        client.force_login(kodaira_group)
        page = client.get("/kodaira/my/bookings/").content.decode()
    win_slot.refresh_from_db()
    assert win_slot.reservation_id is None and 'id="booking-' not in page
    with travel(jst(2027, 6, 20, 0, 0)):
        jobs.run_draws()
        win_slot.refresh_from_db()
        client.force_login(kodaira_group)
        page = client.get("/kodaira/my/bookings/").content.decode()
    assert f'id="booking-{win_slot.reservation_id}"' in page
