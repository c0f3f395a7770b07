"""A facility's board (issue #21 item 4): all its units × a week, or × the slots of one day, on the demo data.

中島地域センター (Kodaira) has three rooms with 午前/午後/夜間 and closes on the first and third Tuesdays: Tuesday
2027-05-18 is a closure day. A board cell is the unit week grid's cell: same state, same link.
"""

import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilities import cache
from tests.reservations.booking_helpers import attempt, jst, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

BOARD = "/kodaira/facilities/nakajima/board/"
MONDAY = jst(2027, 5, 17, 12, 30)  # the morning of Monday the 17th has started (past), its afternoon has not


@pytest.fixture
def booked():
    """kodaira-group1 holds the assembly room on Friday 2027-05-21 13:00–17:00 (booked on the 12th, K-FC-1/2)."""
    room = unit("kodaira", "nakajima", "assembly-room")
    booking = attempt(
        jst(2027, 5, 12, 10),
        user=user("kodaira-group1"),
        unit=room,
        day=dt.date(2027, 5, 21),
        start="13:00",
        end="17:00",
    )
    assert not isinstance(booking, list), booking
    return room, booking


def cells_of(html: str, marker: str) -> list[str]:
    """The <td> cells of the part of ``html`` that starts at ``marker`` and ends at the next </tbody> or </tr>."""
    start = html.index(marker)
    end = min(i for i in (html.find("</tbody>", start), html.find("</tr>", start)) if i != -1)
    return re.findall(r"<td\b.*?</td>", html[start:end], flags=re.S)


def state_of(cell: str) -> str:
    return re.search(r'data-state="([a-z_]+)"', cell).group(1)


def test_week_board__every_room_a_row_per_period_a_column_per_day(client, booked):
    room, _ = booked
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(BOARD + "week/2027-05-17/").content.decode()
    assert html.count("<tbody data-unit=") == 3
    assert "集会室" in html and "和室" in html and "会議室" in html
    # The assembly room's rows (午前, 午後, 夜間) × Sunday 16 … Saturday 22: the week starts on Sunday, as the month.
    block = html[html.index(f'<tbody data-unit="{room.id}">') :]
    block = block[: block.index("</tbody>")]
    rows = [re.findall(r"<td\b.*?</td>", row, flags=re.S) for row in block.split("</tr>")[1:4]]
    states = [[state_of(cell) for cell in row] for row in rows]
    # 午前: Sunday and Monday's morning are over, Tuesday the 18th closed; Wednesday is free but online booking for
    # it closed at the end of D-8 (K-FC-2), for anyone: 受付終了, not ○ (#21 item 1).
    assert states[0][:4] == ["past", "past", "closed", "not_bookable"]
    assert states[1][1:3] == ["not_bookable", "closed"]  # 午後 on Monday has not started; online closed long ago
    assert states[0][-1] == "not_bookable"  # Saturday the 22nd: D-8 was the 14th
    assert states[1][5] == "booked"  # 午後 on Friday the 21st: kodaira-group1's booking
    assert all(row[2] == "closed" for row in states)
    assert "毎月第1・第3火曜日" in rows[0][2]  # the closed cell says why


def test_week_board__a_cell_is_the_unit_grid_cell_with_the_same_link(client, booked):
    room, _ = booked
    with time_machine.travel(MONDAY, tick=False):
        client.force_login(user("kodaira-group1"))
        board = client.get(BOARD + "week/2027-05-17/").content.decode()
        grid = client.get(f"/kodaira/units/{room.id}/week/2027-05-17/").content.decode()
    board_cells = cells_of(board, f'<tbody data-unit="{room.id}">')
    grid_cells = re.findall(r"<td\b.*?</td>", grid[grid.index("<tbody>") : grid.index("</tbody>")], flags=re.S)
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert [strip.sub("", c) for c in board_cells] == [strip.sub("", c) for c in grid_cells][: len(board_cells)]
    board_block = board[board.index(f'<tbody data-unit="{room.id}">') :]
    board_block = board_block[: board_block.index("</tbody>")]
    assert 'data-state="mine"' in board_block  # the logged-in owner sees ◎ on the board too
    assert f'href="/kodaira/book/{room.id}/2027-05-19/0900-1200/?week=2027-05-16"' in board_block


def test_day_board__rooms_by_the_periods_of_one_day(client, booked):
    room, _ = booked
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(BOARD + "day/2027-05-21/").content.decode()
    head = html[html.index("<thead>") : html.index("</thead>")]
    assert [p in head for p in ("午前", "午後", "夜間")] == [True, True, True]
    row = cells_of(html, f'<tr data-unit="{room.id}">')
    # Friday the 21st: online booking closed at the end of the 13th (K-FC-2), so its free slots say 受付終了.
    assert [state_of(c) for c in row] == ["not_bookable", "booked", "not_bookable"]
    with time_machine.travel(MONDAY, tick=False):
        later = client.get(BOARD + "day/2027-05-26/").content.decode()
    row = cells_of(later, f'<tr data-unit="{room.id}">')
    assert [state_of(c) for c in row] == ["open", "open", "open"]  # D-8 is the 18th: still online
    # Logged out, a free slot asks to log in first, then opens the same slot page as the grid.
    assert f"next=/kodaira/book/{room.id}/2027-05-26/0900-1200/%3Fweek%3D2027-05-26" in row[0]
    with time_machine.travel(MONDAY, tick=False):
        today = client.get(BOARD + "day/2027-05-17/").content.decode()
    today_row = [state_of(c) for c in cells_of(today, f'<tr data-unit="{room.id}">')]
    assert today_row == ["past", "not_bookable", "not_bookable"]


def test_day_board__a_closure_day_says_so(client):
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(BOARD + "day/2027-05-18/").content.decode()
    assert 'data-test="closed-day"' in html and "休館" in html
    states = re.findall(r'<td data-state="([a-z_]+)"', html)
    assert states and set(states) == {"closed"}


def test_board__pager_and_date_jump_are_plain_get_addresses(client):
    with time_machine.travel(MONDAY, tick=False):
        week = client.get(BOARD).content.decode()
        day = client.get(BOARD + "day/2027-05-17/").content.decode()
        jump = client.get(BOARD, {"date": "2027-06-01", "view": "day"})
        jump_week = client.get(BOARD, {"date": "2027-06-01", "view": "week"})
    # Weeks run Sunday to Saturday (the month view's weeks): Monday the 17th shows the week from Sunday the 16th.
    assert 'href="/kodaira/facilities/nakajima/board/week/2027-05-09/" rel="prev"' in week
    assert 'href="/kodaira/facilities/nakajima/board/week/2027-05-23/" rel="next"' in week
    assert "2027年5月16日〜2027年5月22日の空き状況" in week
    assert 'href="/kodaira/facilities/nakajima/board/day/2027-05-17/"' in week
    assert 'href="/kodaira/facilities/nakajima/board/day/2027-05-16/" rel="prev"' in day
    assert 'href="/kodaira/facilities/nakajima/board/week/2027-05-17/"' in day
    assert jump.status_code == 302 and jump["Location"] == BOARD + "day/2027-06-01/"
    assert jump_week["Location"] == BOARD + "week/2027-06-01/"


def test_board__bad_date_and_other_municipality(client):
    response = client.get(BOARD + "day/2027-02-30/")
    assert response.status_code == 400
    assert "2027-02-30" in response.content.decode()
    assert client.get("/shiroi/facilities/nakajima/board/").status_code == 404


def test_facility_page__links_to_its_board(client):
    html = client.get("/kodaira/facilities/nakajima/").content.decode()
    assert f'href="{BOARD}"' in html


def _queries(client, path) -> int:
    cache.reset()
    with CaptureQueriesContext(connection) as queries, time_machine.travel(MONDAY, tick=False):
        assert client.get(path).status_code == 200
    return len(queries)


def test_board__queries_do_not_grow_with_cells_or_bookings(client, django_assert_max_num_queries):
    with time_machine.travel(MONDAY, tick=False):
        client.force_login(user("kodaira-group1"))
    _queries(client, BOARD + "week/2027-05-17/")  # the session's first request may write to it
    before = _queries(client, BOARD + "week/2027-05-17/")
    rooms = [unit("kodaira", "nakajima", code) for code in ("assembly-room", "japanese-room", "meeting-room")]
    for room in rooms:
        for day in (19, 20, 21):
            attempt(
                jst(2027, 5, 10, 10),
                user=user("kodaira-group2"),
                unit=room,
                day=dt.date(2027, 5, day),
                start="09:00",
                end="12:00",
            )
    after = _queries(client, BOARD + "week/2027-05-17/")
    assert after == before  # nine more booked cells, not one more query
    assert _queries(client, BOARD + "day/2027-05-19/") == before
    # A few per room (its holds, its lottery facts), none per cell: 3 rooms × 3 periods × 7 days = 63 cells.
    cache.reset()
    with django_assert_max_num_queries(30), time_machine.travel(MONDAY, tick=False):
        client.get(BOARD + "week/2027-05-17/")


def day_headers(html: str) -> list[str]:
    """The dates of the day columns of a week grid or week board, in order (from their ``data-date`` or links)."""
    head = html[html.index("<thead>") : html.index("</thead>")]
    return re.findall(r"(\d{1,2}/\d{1,2})", re.sub(r"<[^>]+>", " ", head))


def test_week__grid_board_and_month_start_on_sunday__the_asked_day_is_kept(client):
    """Issue #21 item 3: the week grid, the week board and the month view share the first weekday (Sunday). A
    week address of Saturday 2027-05-01 shows Sunday 4/25 … Saturday 5/1; its month link and date picker keep May."""
    room = unit("kodaira", "nakajima", "assembly-room")
    with time_machine.travel(MONDAY, tick=False):
        grid = client.get(f"/kodaira/units/{room.id}/week/2027-05-01/").content.decode()
        board = client.get(BOARD + "week/2027-05-01/").content.decode()
        month = client.get(f"/kodaira/units/{room.id}/month/2027-05/").content.decode()
    dates = ["4/25", "4/26", "4/27", "4/28", "4/29", "4/30", "5/1"]
    assert day_headers(grid) == dates and day_headers(board) == dates
    month_head = re.sub(r"<[^>]+>", " ", month[month.index("<thead>") : month.index("</thead>")]).split()
    assert month_head[0] == "日" and grid.index(">日<") < grid.index(">土<")  # both begin on 日 and end on 土
    assert f'href="/kodaira/units/{room.id}/month/2027-05/"' in grid  # the asked day's month, not April's
    assert 'value="2027-05-01"' in grid and 'value="2027-05-01"' in board
    assert f'href="/kodaira/units/{room.id}/week/2027-04-18/" rel="prev"' in grid
    assert f'href="/kodaira/units/{room.id}/week/2027-05-02/" rel="next"' in grid
    assert 'href="/kodaira/facilities/nakajima/board/day/2027-05-01/" data-test="to-day"' in board


@pytest.mark.parametrize(
    "path", ["/kodaira/search/", "/kodaira/facilities/nakajima/board/", "/kodaira/units/{room}/month/2027-05/"]
)
def test_step_bar__on_the_month_board_and_search__step_one_current(client, path):
    """Issue #21 item 5: ① 空き状況 ② 内容確認 ③ 完了 on every page where a resident looks for a slot."""
    room = unit("kodaira", "nakajima", "assembly-room")
    with time_machine.travel(MONDAY, tick=False):
        html = client.get(path.format(room=room.id)).content.decode()
    steps = html[html.index('data-test="steps"') : html.index("</ol>", html.index('data-test="steps"'))]
    current = re.search(r'aria-current="step"><span[^>]*>(.)</span>\s*([^<]+)<', steps)
    assert current and current.groups() == ("①", "空き状況")
