"""A whole site's rain or heat stop (S-WX-1; issue #5 item 5, "staff mark a day"): the counter page
``/<muni>/counter/money/weather-day/`` and ``fees.services.mark_weather_day``.

The clerk gives a facility, a day, rain or heat and the period of the stop. The confirm step (a GET, nothing
written) lists the paid bookings to be marked, those already marked and those left out with the reason; the
POST marks exactly the bookings shown, each audited and its user told through the outbox, and marking again
changes nothing. Which bookings a stop prevents follows S-WX-1 and the seed (shiroi-sports-facilities.txt
■天候不良): the stop lies between one hour before the start and one hour before the end, and the facility was
used for less than an hour before it began (59 minutes: marked; 60: not). Not in advance, not for a stop that
has not begun or is not over, only at the facilities the clerk's counter serves, only where there is a policy.

Day: Tuesday 2027-06-15 at 南山公園 tennis (minamiyama-tennis), bookings made 2027-05-03, paid 2027-06-01:
court 1 09:00–11:00 (A), court 2 09:00–11:00 (B), court 1 11:00–13:00 (C), court 3 09:00–11:00 unpaid (U).
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry, Notice
from facilities.models import Facility
from fees import services
from fees.models import PaymentPlace, WeatherClaim
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

DAY = dt.date(2027, 6, 15)
PAID_ON = jst(2027, 6, 1, 10, 0)  # a Tuesday: 白井市役所生涯学習課 is open
SITE = "minamiyama-tennis"


def booking(court: str, start: str, end: str, username: str, *, facility=SITE, paid=True):
    reservation = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", username, email=f"{username}@example.jp"),
        unit=unit("shiroi", facility, court),
        day=DAY,
        start=start,
        end=end,
    )
    if paid:
        with time_machine.travel(PAID_ON, tick=False):
            services.record_payment(
                reservation_id=reservation.pk,
                amount=reservation.fee_total,
                receipt_number="R-1",
                place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
                staff=user("shiroi-clerk"),
            )
    return reservation


@pytest.fixture
def day_bookings():
    return {
        "A": booking("court-1", "09:00", "11:00", "player-a"),
        "B": booking("court-2", "09:00", "11:00", "player-b"),
        "C": booking("court-1", "11:00", "13:00", "player-c"),
        "U": booking("court-3", "09:00", "11:00", "player-u", paid=False),
    }


URL = reverse("counter:money_weather_day", args=["shiroi"])


DAY_TEXT = DAY.isoformat()


def query(start="09:30", end="", kind="rain", facility=SITE, day=DAY_TEXT, note=""):
    return {"facility": facility, "date": day, "kind": kind, "start": start, "end": end, "note": note}


def preview(client, moment, clerk="shiroi-clerk", **values):
    with time_machine.travel(moment, tick=False):
        client.force_login(clerk if not isinstance(clerk, str) else user(clerk))
        return client.get(URL, query(**values))


def confirm(client, moment, bookings, clerk="shiroi-clerk", **values):
    with time_machine.travel(moment, tick=False):
        client.force_login(clerk if not isinstance(clerk, str) else user(clerk))
        return client.post(URL, {**query(**values), "booking": [b.pk for b in bookings]})


def listed(response, table: str) -> set[int]:
    """The booking ids in one table of the confirm step: to-mark, marked, left-out."""
    import re

    html = response.content.decode()
    start = html.find(f'data-test="{table}"')
    if start < 0:
        return set()
    body = html[start : html.find("</table>", start)]
    return {int(n) for n in re.findall(r'data-booking="(\d+)"', body)}


def left_out_codes(response) -> dict[int, str]:
    import re

    html = response.content.decode()
    start = html.find('data-test="left-out"')
    if start < 0:
        return {}
    body = html[start : html.find("</table>", start)]
    return {int(b): code for b, code in re.findall(r'data-booking="(\d+)" data-code="([^"]*)"', body)}


def claims() -> dict[int, WeatherClaim]:
    return {c.reservation_id: c for c in WeatherClaim.objects.all()}


def used_minutes(reservation) -> int:
    entry = AuditEntry.objects.get(action="weather.mark", target_id=str(reservation.pk))
    return entry.after["used_minutes"]


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestConfirmThenMark:
    def test_the_confirm_step_lists_the_paid_bookings_and_writes_nothing(self, client, day_bookings):
        b = day_bookings
        response = preview(client, jst(2027, 6, 15, 10, 0))  # rain from 09:30 until now
        assert response.status_code == 200
        assert listed(response, "to-mark") == {b["A"].pk, b["B"].pk}
        # C (11:00–13:00): its window opens at 10:00, when the stop so far ends; U: not paid.
        assert left_out_codes(response) == {b["C"].pk: "S-WX-1", b["U"].pk: "S-WX-1"}
        assert not WeatherClaim.objects.exists() and not Notice.objects.filter(kind=Notice.Kind.WEATHER).exists()

    def test_confirm_marks_them__audited__users_told__then_shown_as_marked(self, client, day_bookings):
        b = day_bookings
        audits = AuditEntry.objects.count()
        response = confirm(client, jst(2027, 6, 15, 9, 58), [b["A"], b["B"]])
        assert response.status_code == 302 and response["Location"].startswith(URL + "?facility=minamiyama-tennis")
        marked = claims()
        assert set(marked) == {b["A"].pk, b["B"].pk}
        assert {c.kind for c in marked.values()} == {"rain"}
        assert marked[b["A"].pk].transfer_until == dt.date(2028, 6, 15)  # a year after the use date
        assert marked[b["A"].pk].refund_until == dt.date(2032, 6, 15)  # five years
        assert marked[b["A"].pk].note.startswith("09:30–09:58")
        assert used_minutes(b["A"]) == 30
        assert response["Location"].endswith("&start=09%3A30&end=09%3A58&note=#result")  # as marked
        notices = Notice.objects.filter(kind=Notice.Kind.WEATHER)
        assert sorted(n.email for n in notices) == ["player-a@example.jp", "player-b@example.jp"]
        day_entry = AuditEntry.objects.get(action="weather.mark_day")
        assert day_entry.after["bookings"] == [b["A"].pk, b["B"].pk] and day_entry.actor == user("shiroi-clerk")
        assert AuditEntry.objects.count() == audits + 3  # one per booking, one for the day

        with time_machine.travel(jst(2027, 6, 15, 9, 59), tick=False):
            page = client.get(response["Location"])
        assert page.status_code == 200
        assert listed(page, "marked") == {b["A"].pk, b["B"].pk} and listed(page, "to-mark") == set()
        assert 'data-test="nothing-to-mark"' in page.content.decode()

    def test_marking_twice_changes_nothing(self, client, day_bookings):
        b = day_bookings
        first = confirm(client, jst(2027, 6, 15, 9, 58), [b["A"], b["B"]])
        counts = (WeatherClaim.objects.count(), Notice.objects.count(), AuditEntry.objects.count())
        # The same form again (back button and resend, a double click, a second clerk):
        again = confirm(client, jst(2027, 6, 15, 9, 59), [b["A"], b["B"]])
        assert (first.status_code, again.status_code) == (302, 302)
        assert (WeatherClaim.objects.count(), Notice.objects.count(), AuditEntry.objects.count()) == counts
        with time_machine.travel(jst(2027, 6, 15, 9, 59), tick=False):
            page = client.get(again["Location"])
        assert [m.level_tag for m in page.context["messages"]] == [
            "success",
            "info",
        ]  # marked; "Nothing new was marked"
        assert listed(page, "marked") == {b["A"].pk, b["B"].pk}

    def test_only_the_bookings_shown_are_marked(self, client, day_bookings):
        b = day_bookings
        confirm(client, jst(2027, 6, 15, 9, 58), [b["A"]])  # B was not on the clerk's screen
        assert set(claims()) == {b["A"].pk}
        confirm(client, jst(2027, 6, 15, 9, 58), [b["U"], b["C"]])  # neither may be marked: nothing happens
        assert set(claims()) == {b["A"].pk}

    def test_another_facility_is_left_alone(self, client, day_bookings):
        other = booking("court-1", "09:00", "11:00", "elsewhere", facility="nakakido-tennis")
        confirm(client, jst(2027, 6, 15, 9, 58), [day_bookings["A"], other])
        assert set(claims()) == {day_bookings["A"].pk}

    def test_heat(self, client, day_bookings):
        confirm(client, jst(2027, 6, 15, 14, 0), [day_bookings["C"]], kind="heat", start="11:30", end="13:00")
        assert claims()[day_bookings["C"].pk].kind == "heat"
        assert used_minutes(day_bookings["C"]) == 30


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestWhichBookingsAStopPrevents:
    """S-WX-1: between an hour before the start and an hour before the end; under an hour of use."""

    def test_59_minutes_of_use_marked(self, client, day_bookings):
        a = day_bookings["A"]
        response = preview(client, jst(2027, 6, 15, 12, 0), start="09:59", end="11:00")
        assert a.pk in listed(response, "to-mark")
        confirm(client, jst(2027, 6, 15, 12, 0), [a], start="09:59", end="11:00")
        assert used_minutes(a) == 59

    def test_60_minutes_of_use_left_out(self, client, day_bookings):
        a = day_bookings["A"]
        response = preview(client, jst(2027, 6, 15, 12, 0), start="10:00", end="11:00")
        assert left_out_codes(response)[a.pk] == "S-WX-1" and a.pk not in listed(response, "to-mark")
        confirm(client, jst(2027, 6, 15, 12, 0), [a], start="10:00", end="11:00")
        assert not WeatherClaim.objects.exists()

    def test_a_stop_ending_an_hour_before_the_start_is_outside(self, client, day_bookings):
        c = day_bookings["C"]  # 11:00–13:00: the window opens at 10:00
        response = preview(client, jst(2027, 6, 15, 12, 0), start="08:00", end="10:00")
        assert left_out_codes(response)[c.pk] == "S-WX-1"
        assert listed(response, "to-mark") == {day_bookings["A"].pk, day_bookings["B"].pk}

    def test_a_minute_into_the_hour_before_the_start_counts_with_no_use(self, client, day_bookings):
        c = day_bookings["C"]
        response = preview(client, jst(2027, 6, 15, 12, 0), start="08:00", end="10:01")
        assert c.pk in listed(response, "to-mark")
        confirm(client, jst(2027, 6, 15, 12, 0), [c], start="08:00", end="10:01")
        assert used_minutes(c) == 0

    def test_until_now_grows(self, client, day_bookings):
        c = day_bookings["C"]  # rain from 09:30 still falling at 10:01: C's window (from 10:00) is reached
        assert c.pk in left_out_codes(preview(client, jst(2027, 6, 15, 10, 0)))
        assert c.pk in listed(preview(client, jst(2027, 6, 15, 10, 1)), "to-mark")

    def test_the_rest_of_the_day_is_marked_later(self, client, day_bookings):
        b = day_bookings
        confirm(client, jst(2027, 6, 15, 9, 58), [b["A"], b["B"]])  # rain from 09:30, until now
        response = preview(client, jst(2027, 6, 16, 9, 0))  # the next day: the stop ran until midnight
        assert listed(response, "marked") == {b["A"].pk, b["B"].pk}
        assert listed(response, "to-mark") == {b["C"].pk}
        confirm(client, jst(2027, 6, 16, 9, 0), [b["C"]])
        assert set(claims()) == {b["A"].pk, b["B"].pk, b["C"].pk}
        assert used_minutes(b["C"]) == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestTheClock:
    def test_not_in_advance(self, client, day_bookings):
        response = preview(client, jst(2027, 6, 14, 23, 59), start="09:30", end="10:00")
        assert response.status_code == 422 and "S-WX-1" in response.content.decode()
        confirm(client, jst(2027, 6, 14, 23, 59), [day_bookings["A"]], start="09:30", end="10:00")
        assert not WeatherClaim.objects.exists()

    def test_a_stop_that_has_not_begun(self, client, day_bookings):
        a = day_bookings["A"]
        response = preview(client, jst(2027, 6, 15, 9, 30))
        assert response.status_code == 422 and "S-WX-1" in response.content.decode()  # reported once it happened
        assert confirm(client, jst(2027, 6, 15, 9, 30), [a]).status_code == 422
        assert not WeatherClaim.objects.exists()
        response = preview(client, jst(2027, 6, 15, 9, 31))
        assert response.status_code == 200 and listed(response, "to-mark") == {a.pk, day_bookings["B"].pk}

    def test_a_stop_that_is_not_over(self, client, day_bookings):
        response = preview(client, jst(2027, 6, 15, 9, 59), start="09:30", end="10:00")
        assert response.status_code == 422 and "S-WX-1" in response.content.decode()
        assert preview(client, jst(2027, 6, 15, 10, 0), start="09:30", end="10:00").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestWhoAndWhere:
    def test_a_clerk_sees_and_marks_only_the_facilities_the_counter_serves(self, client, day_bookings):
        clerk = make_user("shiroi", "clerk-a", account_kind="staff", staff_role="clerk")
        clerk.counter_facilities.set([Facility.objects.get(municipality__slug="shiroi", code=SITE)])
        other = booking("court-1", "09:00", "11:00", "elsewhere", facility="nakakido-tennis")
        with time_machine.travel(jst(2027, 6, 15, 10, 0), tick=False):
            client.force_login(clerk)
            form = client.get(URL).content.decode()
        assert 'value="minamiyama-tennis"' in form and 'value="nakakido-tennis"' not in form
        assert preview(client, jst(2027, 6, 15, 10, 0), clerk=clerk, facility="nakakido-tennis").status_code == 400
        response = confirm(client, jst(2027, 6, 15, 9, 58), [other], clerk=clerk, facility="nakakido-tennis")
        assert response.status_code == 400 and not WeatherClaim.objects.exists()
        confirm(client, jst(2027, 6, 15, 9, 58), [day_bookings["A"]], clerk=clerk)
        assert set(claims()) == {day_bookings["A"].pk}

    def test_404_without_a_rain_and_heat_policy_and_for_non_clerks(self, client):
        with time_machine.travel(jst(2027, 6, 15, 10, 0), tick=False):
            client.force_login(user("tamba-clerk"))
            assert client.get(reverse("counter:money_weather_day", args=["tamba"])).status_code == 404
            client.force_login(user("kodaira-clerk"))
            assert client.get(reverse("counter:money_weather_day", args=["kodaira"])).status_code == 404
            assert client.get(URL).status_code == 404  # another municipality's clerk
            client.force_login(user("shiroi-resident"))
            assert client.get(URL).status_code == 404
            client.logout()
            assert client.get(URL).status_code == 302  # to the log-in page

    def test_bad_input_is_a_400_form_not_a_500(self, client):
        for values in (
            {"day": "2027-13-45"},
            {"start": "25:00"},
            {"start": "abc"},
            {"start": "10:00", "end": "09:00"},
            {"kind": "snow"},
            {"day": "1999-06-15"},
        ):
            assert preview(client, jst(2027, 6, 15, 12, 0), **values).status_code == 400, values

    def test_the_form_is_filled_in_from_the_day_sheet(self, client):
        with time_machine.travel(jst(2027, 6, 15, 10, 0), tick=False):
            client.force_login(user("shiroi-clerk"))
            sheet = client.get(reverse("counter:day_sheet", args=["shiroi"]), {"facility": SITE, "date": "2027-06-15"})
            assert f"{URL}?facility={SITE}&amp;date=2027-06-15" in sheet.content.decode()
            form = client.get(URL, {"facility": SITE, "date": "2027-06-15"})
        assert form.status_code == 200 and 'value="2027-06-15"' in form.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestService:
    def test_mark_weather_day_directly__idempotent(self, day_bookings):
        facility = Facility.objects.get(municipality__slug="shiroi", code=SITE)

        def run():
            return services.mark_weather_day(
                municipality_id=facility.municipality_id,
                facility=facility,
                day=DAY,
                kind="rain",
                staff=user("shiroi-clerk"),
                start=dt.time(9, 30),
                now=jst(2027, 6, 15, 18, 0),
            )

        first = run()
        assert {c.reservation_id for c in first.marked} == {day_bookings[k].pk for k in "ABC"}
        second = run()
        assert second.marked == [] and len(second.of("marked")) == 3
        assert WeatherClaim.objects.count() == 3

    def test_staff_of_the_municipality_only(self, day_bookings):
        facility = Facility.objects.get(municipality__slug="shiroi", code=SITE)
        with pytest.raises(services.CancellationRefused):
            services.mark_weather_day(
                municipality_id=facility.municipality_id,
                facility=facility,
                day=DAY,
                kind="rain",
                staff=user("tamba-clerk"),
                start=dt.time(9, 30),
                now=jst(2027, 6, 15, 18, 0),
            )
        assert not WeatherClaim.objects.exists()
