"""Search results by facility, and an empty or unbookable search that says why (issue #21 item 7).

Demo data: Kodaira first-come online runs from the first open day of the month before, 09:00, to D-8 23:59
(K-FC-1, K-FC-2); from D-7 only the counter (K-LM-1). 2027-05-18 is the 3rd Tuesday, a closure day at every
community center. Tamba takes online bookings from the 1st of the month two months before, served from 10:00
(T-APP-3), until D-22 23:59.
"""

import re

import pytest
import time_machine

from config import clock
from tests.reservations.booking_helpers import jst, make_lottery_win, user

pytestmark = pytest.mark.django_db


def get(client, muni="kodaira", **params):
    return client.get(f"/{muni}/search/", params)


def text(response) -> str:
    """The page's visible words, roughly: tags removed, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# Groups -------------------------------------------------------------------------------------------------------


def test_groups__one_per_facility_with_its_count(client, seeded):
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        response = get(client, date_from="2027-05-22", time_of_day="afternoon")  # a Saturday afternoon
    found = response.context["found"]
    assert found.total > 8 and len(found.groups) > 1
    assert sum(len(g.results) for g in found.groups) == len(found.page.object_list)
    first = found.groups[0]
    assert first.total == sum(1 for r in found.results if r.facility.pk == first.facility.pk)
    page = response.content.decode()
    assert page.count('data-test="facility-group"') == len(found.groups)
    # "中島地域センター — 2コマ": the facility's name and its count in the group's heading
    assert re.search(rf"{first.facility.name_ja}</span> — <span data-test=\"group-count\">{first.total}コマ", page)
    # A long page folds every group but the first (details without "open"); no JavaScript needed.
    assert re.search(r'data-test="facility-group" data-facility="[^"]+" open>', page)
    assert len(re.findall(r'data-test="facility-group" data-facility="[^"]+">', page)) == len(found.groups) - 1


def test_groups__a_short_page_shows_every_group_open(client, seeded):
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        response = get(client, date_from="2027-05-19", time_of_day="evening", capacity=60)
    found = response.context["found"]
    assert 0 < len(found.page.object_list) <= 8 and len(found.groups) > 1
    assert all(group.open for group in found.groups)


def test_groups__english_heading(client, seeded):
    client.cookies["django_language"] = "en"
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        response = get(client, date_from="2027-05-19")
    assert "Search results" in text(response) and "抽選結果" not in text(response)
    assert re.search(
        r"Nakajima Community Center</span> — <span data-test=\"group-count\">\d+ slots", response.content.decode()
    )


# Empty searches say why ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "params", "reason", "words"),
    [
        (
            jst(2027, 5, 10, 10),
            {"date_from": "2027-05-19", "capacity": 5000},
            "no_units",
            "この条件（種類・人数・設備）",
        ),
        (jst(2027, 5, 10, 10), {"date_from": "2027-05-18"}, "closed", "すべて休館日"),
        (
            jst(2027, 5, 10, 10),
            {"date_from": "2027-05-19", "time_from": "22:00"},
            "no_slots",
            "指定した時間に始まるコマ",
        ),
        (jst(2027, 5, 19, 21, 59), {"date_from": "2027-05-19", "time_of_day": "evening"}, "past", "すでに開始時刻"),
    ],
    ids=["no-unit-has-the-conditions", "closure-day", "no-slot-at-that-time", "already-started"],
)
def test_empty__says_why_and_what_to_do(client, seeded, moment, params, reason, words):
    with time_machine.travel(moment, tick=False):
        response = get(client, **params)
    assert response.status_code == 200
    found = response.context["found"]
    assert found.total == 0 and found.why_empty == reason
    assert f'data-test="no-results" data-reason="{reason}"' in response.content.decode()
    assert words in text(response)


def test_empty__every_slot_taken(client, seeded):
    """Every slot of the rooms for 60 people taken that day: the search says so and points to the alerts."""
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        found = get(client, date_from="2027-05-19", capacity=60).context["found"]
        assert found.total
        group = user("kodaira-group2")
        for result in found.results:
            local_start = clock.localtime(result.cell.slot.starts_at)
            local_end = clock.localtime(result.cell.slot.ends_at)
            make_lottery_win(
                user=group,
                unit=result.unit,
                day=local_start.date(),
                start=f"{local_start:%H:%M}",
                end=f"{local_end:%H:%M}",
            )
        response = get(client, date_from="2027-05-19", capacity=60)
    assert response.context["found"].why_empty == "taken"
    assert "条件に合うコマはすべて予約済みです。" in text(response)


# Online windows, at their edges ----------------------------------------------------------------------------


def test_window__kodaira_last_minute_inside_online_window__no_note(client, seeded):
    """2027-05-17 is taken online until D-8 23:59 = 2027-05-09 23:59 (K-FC-2): at 23:59 nothing to say."""
    with time_machine.travel(jst(2027, 5, 9, 23, 59), tick=False):
        response = get(client, date_from="2027-05-17")
    assert response.context["found"].windows == []
    assert 'data-test="window-note"' not in response.content.decode()


def test_window__kodaira_first_refused_minute__says_closed_with_dates_and_the_counter(client, seeded):
    with time_machine.travel(jst(2027, 5, 10, 0, 0), tick=False):
        response = get(client, date_from="2027-05-17")
    (note,) = response.context["found"].windows
    assert note.state == "closed"
    words = text(response)
    assert "2027年5月17日分のインターネット予約は" in words
    assert "2027年5月9日 23:59までで、受付を終了しました。" in words
    assert "以降は窓口" in words


def test_window__english(client, seeded):
    client.cookies["django_language"] = "en"
    with time_machine.travel(jst(2027, 5, 10, 0, 0), tick=False):
        response = get(client, date_from="2027-05-17")
    words = text(response)
    assert "Online booking for May 17, 2027 was taken from" in words and "to May 9, 2027 23:59 and has closed." in words


def test_window__tamba_before_opening__says_when_it_opens(client, seeded):
    """Tamba online for 2027-08-05 opens 2027-06-01, served from 10:00 (T-APP-3): at 09:59 not yet, at 10:00 open."""
    with time_machine.travel(jst(2027, 6, 1, 9, 59), tick=False):
        before = get(client, "tamba", date_from="2027-08-05")
    (note,) = before.context["found"].windows
    assert note.state == "not_yet" and note.opens == jst(2027, 6, 1, 10)
    assert "2027年8月5日分のインターネット予約は2027年6月1日 10:00から" in text(before)
    assert "まだ受付前です。" in text(before)
    with time_machine.travel(jst(2027, 6, 1, 10, 0), tick=False):
        opened = get(client, "tamba", date_from="2027-08-05")
    assert opened.context["found"].windows == []
