"""The monthly operations report (issue #22 item 6) against a small month built by hand in Shiroi: May 2027 at
南山公園テニスコート 1番コート (two-hour slots, S-HRS-1; open every day of May: 31 × 6 slots = 372 slot-hours)."""

import csv
import datetime as dt
import io

import pytest
import time_machine

from accounts.models import User
from counter import operations_report
from facilities.models import Municipality
from lottery.models import Application
from reservations.models import KeyLending
from tests.counter.operations_helpers import booking, payment, refund
from tests.reservations.booking_helpers import jst, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

AFTER_THE_MONTH = jst(2027, 6, 15, 12, 0)
REPORT = "/shiroi/counter/reports/operations/2027-05/"


@pytest.fixture
def month():
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    clerk = user("shiroi-clerk")
    first = booking(court, jst(2027, 5, 10, 9, 0))  # Monday morning, online; its key was lent: used
    KeyLending.objects.create(reservation=first, lent_at=jst(2027, 5, 10, 8, 50), lent_by=clerk)
    booking(court, jst(2027, 5, 12, 13, 0), channel="counter", state="provisional")  # Wednesday: nobody came
    booking(court, jst(2027, 5, 31, 23, 59), state="cancelled", reason="user", hold=False)  # the last minute of May
    booking(court, jst(2027, 6, 1, 0, 0), state="cancelled", reason="user", hold=False)  # the first of June
    june = booking(court, jst(2027, 6, 5, 9, 0), channel="counter")
    later = booking(court, jst(2027, 6, 6, 9, 0), channel="counter")
    paid = payment(first, 1000, jst(2027, 5, 3, 10, 0), 1)
    payment(june, 2000, jst(2027, 5, 31, 23, 59), 2)  # paid in May for a June booking
    payment(later, 4000, jst(2027, 6, 1, 0, 0), 3)  # June's money
    refund(paid, 500, jst(2027, 5, 20, 10, 0))
    for index, state in enumerate(["won", "lost", "lost", "lost", "withdrawn"]):
        Application.objects.create(
            municipality=court.municipality,
            month=dt.date(2027, 5, 1),
            user=user("shiroi-resident"),
            unit=court,
            starts_at=jst(2027, 5, 20 + index, 9, 0),
            ends_at=jst(2027, 5, 20 + index, 11, 0),
            channel="online",
            state=state,
            created_at=jst(2027, 4, 5, 10, 0),
        )
    return court


def shiroi_report(year=2027, month_number=5):
    return operations_report.operations_report(
        municipality=Municipality.objects.get(slug="shiroi"), year=year, month=month_number
    )


def test_figures__a_hand_built_month(month):
    with time_machine.travel(AFTER_THE_MONTH, tick=False):
        report = shiroi_report()
    line = next(line for line in report.units if line.unit == month)
    assert line.hours.open == 372 * 60 and line.hours.booked == 2 * 120
    assert round(line.hours.occupancy, 2) == 1.08  # 4 of 372 slot-hours
    assert (line.bookings, line.cancelled, line.no_shows) == (2, 1, 1)
    assert report.bookings == 2 and report.cancelled == 1 and report.no_shows == 1 and report.use_recorded
    assert {c.channel: (c.bookings, c.share) for c in report.channels} == {
        "online": (1, 50.0),
        "counter": (1, 50.0),
    }  # no telephone line: Shiroi takes no telephone bookings (S-FC-3, the counter only)
    assert [count for _reason, count in report.cancellations] == [1]
    # Monday morning and Wednesday afternoon hold two hours each.
    assert report.grid[0][0].booked == 120 and report.grid[2][1].booked == 120 and report.grid[6][2].booked == 0
    assert (report.payments, report.paid, report.carried, report.taken) == (2, 3000, 0, 3000)
    assert (report.refund_count, report.refunded, report.net) == (1, 500, 2500)
    total = report.lottery[-1]
    assert (total.applications, total.withdrawn, total.won, total.lost, total.win_rate) == (4, 1, 1, 3, 25.0)


def test_month_edges__2359_on_the_last_day_vs_0000_on_the_first__jst(month):
    with time_machine.travel(AFTER_THE_MONTH, tick=False):
        may, june = shiroi_report(2027, 5), shiroi_report(2027, 6)
    assert may.cancelled == 1 and june.cancelled == 1  # 05-31 23:59 in May, 06-01 00:00 in June
    assert may.paid == 3000 and june.paid == 4000  # the payment at 23:59 is May's, the one at 00:00 June's
    assert june.bookings == 2 and {c.channel: c.bookings for c in june.channels}["counter"] == 2


def test_no_shows__not_before_the_booking_has_ended(month):
    with time_machine.travel(jst(2027, 5, 12, 14, 59), tick=False):
        assert shiroi_report().no_shows == 0  # the counter booking runs until 15:00
    with time_machine.travel(jst(2027, 5, 12, 15, 0), tick=False):
        assert shiroi_report().no_shows == 1


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv__each_table(client, month):
    with time_machine.travel(AFTER_THE_MONTH, tick=False):
        client.force_login(User.objects.get(username="shiroi-admin"))  # a staff session idles out after 8 hours
        units = read_csv(client.get(REPORT + "units.csv"))
        money = read_csv(client.get(REPORT + "money.csv"))
        lottery = read_csv(client.get(REPORT + "lottery.csv"))
        bookings = read_csv(client.get(REPORT + "bookings.csv"))
        weekdays = read_csv(client.get(REPORT + "weekdays.csv"))
    assert units[0][:3] == ["施設", "利用単位", "開館コマ時間数"]
    assert ["南山公園テニスコート", "1番コート", "372.0", "4.0", "1.1", "2", "1", "1"] in units
    assert ["支払い", "金額", "2", "3000"] in money and ["差引", "受領額から還付を引いた額", "", "2500"] in money
    assert lottery[-1] == ["すべての施設", "4", "1", "1", "3", "25.0"]
    assert [row[2:] for row in bookings[1:3]] == [["1", "50.0"], ["1", "50.0"]]  # online, counter
    assert not any("電話" in cell for row in bookings for cell in row)  # Shiroi takes no telephone bookings
    assert len(weekdays) == 1 + 7 * 3


def test_report_page__administrators_only(client, month):
    for username, status in [("shiroi-admin", 200), ("operator", 200), ("shiroi-clerk", 404), ("kodaira-admin", 404)]:
        with time_machine.travel(AFTER_THE_MONTH, tick=False):
            client.force_login(User.objects.get(username=username))
            assert client.get(REPORT).status_code == status, username
    client.force_login(User.objects.get(username="shiroi-admin"))
    page = client.get(REPORT).content.decode()
    assert 'data-test="chart-facilities"' in page and "<svg" in page and "小平" not in page
    assert client.get("/shiroi/counter/reports/operations/2027-13/").status_code == 400
    assert "/shiroi/counter/reports/operations/" in client.get("/admin/").content.decode()
