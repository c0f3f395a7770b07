"""Find a slot (issue #8 item 1): /<municipality>/search/ on the demo data.

2027-05-10 (Monday) 10:00 in Japan. Kodaira first-come online (K-FC-1, K-FC-2) is open for use dates from
2027-05-18 to the end of June; 05-18 is the 3rd Tuesday (closure day); use dates up to 05-17 are inside D-7, where
only the counter takes bookings (K-LM-1). Shiroi's and Tamba's demo data: night lights only at 南山 ground, no
parking at 七次第一; Tamba rooms are hourly (T-USE-1).
"""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import translation

from facilities.models import Unit
from facilities.selectors import unit_week
from tests.reservations.booking_helpers import book, jst, unit, user

pytestmark = pytest.mark.django_db

NOW = jst(2027, 5, 10, 10)
OPEN_DAY = "2027-05-19"  # Wednesday: first-come online is open (K-FC-1/2)
LAST_MINUTE_DAY = "2027-05-12"  # inside D-7: counter only (K-LM-1)


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def get(client, muni="kodaira", **params):
    return client.get(f"/{muni}/search/", params)


def results(response) -> list:
    """Every matching slot (the rules were asked only for the page's free ones: see ``page``)."""
    return response.context["found"].results


def states(response) -> set[str]:
    return {r.state for r in results(response)}


# The page and its form -------------------------------------------------------------------------------------


def test_search__without_criteria_shows_the_empty_form_with_today(client, seeded, at_now):
    response = client.get("/kodaira/search/")
    assert response.status_code == 200
    assert "found" not in response.context
    assert 'value="2027-05-10"' in response.content.decode()
    assert 'method="get"' in response.content.decode()


def test_search__municipality_page_links_to_it(client, seeded, at_now):
    assert 'href="/kodaira/search/"' in client.get("/kodaira/").content.decode()


def test_search__unknown_municipality_is_a_404(client, seeded, at_now):
    assert get(client, "nowhere", date_from=OPEN_DAY).status_code == 404


# Logged in: may I book it now, and if not, why ---------------------------------------------------------------


def test_search__kodaira_group__open_slots_link_to_the_confirm_page_with_a_fee(client, seeded, at_now):
    client.force_login(user("kodaira-group1"))
    room = unit("kodaira", "nakajima", "assembly-room")
    response = get(client, date_from=OPEN_DAY)
    assert response.status_code == 200
    found = results(response)
    assert found and {r.day for r in found} == {dt.date(2027, 5, 19)}
    morning = next(r for r in found if r.unit.pk == room.pk and r.times == "09:00–12:00")
    assert morning.state == "open"
    page = response.content.decode()
    assert f'href="/kodaira/book/{room.pk}/2027-05-19/0900-1200/?week=2027-05-19"' in page
    first_page = response.context["page"].object_list
    assert any(r.fee is not None and r.fee.total > 0 for r in first_page if r.state == "open")


def test_search__slot_outside_the_first_come_window__shows_the_rule_id_the_grid_shows(client, seeded, at_now):
    group = user("kodaira-group1")
    client.force_login(group)
    room = unit("kodaira", "nakajima", "assembly-room")
    response = get(client, date_from=LAST_MINUTE_DAY)
    found = [r for r in response.context["page"].object_list if r.unit.pk == room.pk]
    assert found and all(r.state == "not_bookable" for r in found)
    assert {r.cell.refusal.code for r in found} == {"K-LM-1"}
    # The same evaluation as the week grid: the grid's cell for that slot cites the same rule.
    grid = unit_week(unit=room, start=dt.date(2027, 5, 12), user=group)
    grid_codes = {
        c.refusal.code
        for row in grid.rows
        for c in row.cells
        if c.state == "not_bookable" and c.day_param == LAST_MINUTE_DAY
    }
    assert grid_codes == {"K-LM-1"}
    page = response.content.decode()
    assert 'data-state="not_bookable" data-rule="K-LM-1"' in page
    assert '<span class="rule-id">K-LM-1</span>' in page


def test_search__a_shiroi_resident_in_kodaira_is_told_why(client, seeded, at_now):
    client.force_login(user("shiroi-resident"))
    response = get(client, date_from=OPEN_DAY)
    assert {r.cell.refusal.code for r in response.context["page"].object_list} == {"not_registered_here"}


def test_search__own_booking_shows_as_mine_with_all(client, seeded, at_now):
    group = user("kodaira-group1")
    room = unit("kodaira", "nakajima", "assembly-room")
    book(NOW, user=group, unit=room, day=dt.date(2027, 5, 19), start="09:00", end="12:00")
    client.force_login(group)
    free = get(client, date_from=OPEN_DAY)
    assert not any(r.unit.pk == room.pk and r.times == "09:00–12:00" for r in results(free))
    everything = get(client, date_from=OPEN_DAY, all="on")
    mine = [r for r in results(everything) if r.state == "mine"]
    assert [(m.unit.pk, m.times) for m in mine] == [(room.pk, "09:00–12:00")]


# Anonymous visitors ---------------------------------------------------------------------------------------


def test_search__anonymous__open_booked_closed_and_log_in_to_book(client, seeded, at_now):
    room = unit("kodaira", "nakajima", "assembly-room")
    book(NOW, user=user("kodaira-group2"), unit=room, day=dt.date(2027, 5, 19), start="09:00", end="12:00")
    response = get(client, date_from="2027-05-18", date_to=OPEN_DAY, all="on")
    assert response.status_code == 200
    assert {"open", "booked", "closed"} <= states(response)
    assert "not_bookable" not in states(response)  # nobody to check the rules for
    booked = [r for r in results(response) if r.state == "booked"]
    assert [(b.unit.pk, b.times) for b in booked] == [(room.pk, "09:00–12:00")]
    closed_days = {r.day for r in results(response) if r.state == "closed" and r.unit.facility.code == "nakajima"}
    assert closed_days == {dt.date(2027, 5, 18)}  # the 3rd Tuesday
    one_day = get(client, date_from=OPEN_DAY)
    page = one_day.content.decode()
    assert 'data-test="log-in-to-book"' in page and "/accounts/login/?next=/kodaira/book/" in page
    assert 'data-test="book"' not in page
    assert all(r.fee is None for r in one_day.context["page"].object_list)


def test_search__without_all__only_free_slots(client, seeded, at_now):
    room = unit("kodaira", "nakajima", "assembly-room")
    book(NOW, user=user("kodaira-group2"), unit=room, day=dt.date(2027, 5, 19), start="09:00", end="12:00")
    response = get(client, date_from="2027-05-18", date_to=OPEN_DAY)
    assert states(response) <= {"open", "not_bookable", "lottery"}


# Filters ------------------------------------------------------------------------------------------------


def test_filter__date_range_covers_each_day(client, seeded, at_now):
    response = get(client, "shiroi", date_from="2027-05-19", date_to="2027-05-25", time_of_day="evening")
    assert not response.context["found"].capped
    assert {r.day for r in results(response)} == {dt.date(2027, 5, 19) + dt.timedelta(days=i) for i in range(7)}
    assert response.context["found"].criteria.days == 7


@pytest.mark.parametrize(
    ("time_of_day", "starts"), [("morning", {"09:00"}), ("afternoon", {"13:00"}), ("evening", {"18:00"})]
)
def test_filter__time_of_day(client, seeded, at_now, time_of_day, starts):
    response = get(client, date_from=OPEN_DAY, time_of_day=time_of_day)
    assert results(response) and {r.times[:5] for r in results(response)} == starts


def test_filter__from_until_keeps_slots_inside_the_range(client, seeded, at_now):
    response = get(client, "shiroi", date_from=OPEN_DAY, time_from="09:00", time_to="13:00")
    assert results(response) and {r.times for r in results(response)} == {"09:00–11:00", "11:00–13:00"}
    # Edge minute: a slot ending 13:00 is inside "until 13:00"; "until 12:59" leaves it out.
    edge = get(client, "shiroi", date_from=OPEN_DAY, time_from="09:00", time_to="12:59")
    assert {r.times for r in results(edge)} == {"09:00–11:00"}


def test_filter__kind(client, seeded, at_now):
    courts = get(client, "shiroi", date_from=OPEN_DAY, kind="court")
    grounds = get(client, "shiroi", date_from=OPEN_DAY, kind="ground")
    assert results(courts) and {r.unit.kind for r in results(courts)} == {"court"}
    assert results(grounds) and {r.unit.kind for r in results(grounds)} == {"ground"}


def test_filter__kind_choices_are_the_municipalitys_kinds(client, seeded, at_now):
    form = get(client, "kodaira").context["form"]
    assert [value for value, _label in form.fields["kind"].choices if value] == ["room"]
    response = get(client, "kodaira", date_from=OPEN_DAY, kind="court")
    assert response.status_code == 400 and "kind" in response.context["form"].errors


def test_filter__capacity(client, seeded, at_now):
    capacities = sorted({u.capacity for u in Unit.objects.filter(municipality__slug="kodaira") if u.capacity})
    threshold = capacities[len(capacities) // 2]
    response = get(client, date_from=OPEN_DAY, capacity=threshold)
    found = results(response)
    assert found and all(r.unit.capacity >= threshold for r in found)
    assert {r.unit.pk for r in found} == set(
        Unit.objects.filter(municipality__slug="kodaira", capacity__gte=threshold, is_active=True).values_list(
            "pk", flat=True
        )
    )


def test_filter__night_lights(client, seeded, at_now):
    response = get(client, "shiroi", date_from=OPEN_DAY, night_lights="on")
    lit = set(Unit.objects.filter(municipality__slug="shiroi", has_night_lights=True).values_list("pk", flat=True))
    assert lit and {r.unit.pk for r in results(response)} == lit


def test_filter__parking(client, seeded, at_now):
    everything = {r.unit.facility.code for r in results(get(client, "shiroi", date_from=OPEN_DAY))}
    with_parking = {r.unit.facility.code for r in results(get(client, "shiroi", date_from=OPEN_DAY, parking="on"))}
    no_parking = set(
        Unit.objects.filter(municipality__slug="shiroi", facility__has_parking=False).values_list(
            "facility__code", flat=True
        )
    )
    assert no_parking and no_parking <= everything
    assert with_parking == everything - no_parking


# Tenancy -------------------------------------------------------------------------------------------------


def test_search__never_lists_another_municipalitys_facilities(client, seeded, at_now):
    client.force_login(user("kodaira-group1"))
    response = get(client, date_from=OPEN_DAY, date_to="2027-05-25", all="on")
    kodaira_units = set(Unit.objects.filter(municipality__slug="kodaira").values_list("pk", flat=True))
    assert results(response) and {r.unit.pk for r in results(response)} <= kodaira_units
    page = response.content.decode()
    for other in Unit.objects.exclude(municipality__slug="kodaira").select_related("facility"):
        assert f"/book/{other.pk}/" not in page and f"/units/{other.pk}/" not in page
    assert "/shiroi/" not in page and "/tamba/" not in page


# Bad input: a clear error, never a 500 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2027-13-45"}, "date_from"),
        ({"date_from": "abc"}, "date_from"),
        ({"date_from": "1850-01-01"}, "date_from"),
        ({"date_from": ""}, "date_from"),
        ({"date_from": "2027-05-09"}, "date_from"),  # yesterday
        ({"date_from": OPEN_DAY, "date_to": "2027-05-18"}, "date_to"),  # before the start
        ({"date_from": OPEN_DAY, "date_to": "2027-06-02"}, "date_to"),  # 15 days
        ({"date_from": OPEN_DAY, "time_from": "13:00", "time_to": "13:00"}, "time_to"),
        ({"date_from": OPEN_DAY, "time_from": "25:00"}, "time_from"),
        ({"date_from": OPEN_DAY, "time_of_day": "morning", "time_from": "09:00"}, "time_of_day"),
        ({"date_from": OPEN_DAY, "time_of_day": "noon"}, "time_of_day"),
        ({"date_from": OPEN_DAY, "capacity": "abc"}, "capacity"),
        ({"date_from": OPEN_DAY, "capacity": "0"}, "capacity"),
        ({"date_from": OPEN_DAY, "capacity": "99999999999999999999"}, "capacity"),
    ],
)
def test_bad_input__400_with_the_field_error(client, seeded, at_now, params, field):
    response = get(client, **params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    page = response.content.decode()
    assert 'data-test="search-errors"' in page and f'href="#id_{field}"' in page


def test_bad_input__messages_in_japanese_by_default(client, seeded, at_now):
    page = get(client, date_from=OPEN_DAY, date_to="2027-06-30").content.decode()
    with translation.override("ja"):
        expected = translation.gettext("Search at most %(days)s days at a time.") % {"days": 14}
    assert expected in page


def test_bad_input__the_14th_day_is_allowed(client, seeded, at_now):
    response = get(client, date_from=OPEN_DAY, date_to="2027-06-01")
    assert response.status_code == 200 and response.context["found"].criteria.days == 14


def test_bad_input__a_silly_page_number_is_the_first_or_last_page(client, seeded, at_now):
    assert get(client, date_from=OPEN_DAY, page="abc").status_code == 200
    assert get(client, date_from=OPEN_DAY, page="99999").status_code == 200


def test_search__post_is_refused(client, seeded, at_now):
    assert client.post("/kodaira/search/", {"date_from": OPEN_DAY}).status_code == 405


# Caps, pages, queries -----------------------------------------------------------------------------------


def test_results__capped_and_paginated_with_a_note(client, seeded, at_now):
    response = get(client, "tamba", date_from="2027-06-14", date_to="2027-06-27")  # hourly rooms: many slots
    found = response.context["found"]
    assert found.total > len(found.results) == 300 and found.capped
    page = response.content.decode()
    assert 'data-test="capped"' in page
    assert len(re.findall(r'<li class="card result"', page)) == 30
    assert 'rel="next"' in page and "page=2" in page
    second = get(client, "tamba", date_from="2027-06-14", date_to="2027-06-27", page=2)
    assert second.context["page"].number == 2
    first_keys = {(r.unit.pk, r.cell.slot.starts_at) for r in response.context["page"].object_list}
    second_keys = {(r.unit.pk, r.cell.slot.starts_at) for r in second.context["page"].object_list}
    assert not first_keys & second_keys


def test_results__by_facility_then_earliest_first(client, seeded, at_now):
    """Issue #21 item 7: grouped by facility (the catalogue's order), earliest first inside each facility."""
    found = results(get(client, date_from=OPEN_DAY, date_to="2027-05-21"))
    facilities = [r.facility.pk for r in found]
    assert facilities == sorted(facilities, key=lambda pk: [r.facility.pk for r in found].index(pk))
    assert len(set(facilities)) > 1
    for facility in set(facilities):
        starts = [r.cell.slot.starts_at for r in found if r.facility.pk == facility]
        assert starts == sorted(starts)


@pytest.mark.parametrize("muni", ["kodaira", "shiroi", "tamba"])
def test_queries__bounded_whatever_the_units_and_days(client, seeded, muni, django_assert_max_num_queries):
    """Logged in, cold process cache: 14 days of every unit costs the same few queries as one day of one kind
    (units with their schemes, hours and closure rules; holds; lottery counts; the fee exemption; session and
    user; profile and fee tables)."""
    from facilities import cache

    resident = {"kodaira": "kodaira-group1", "shiroi": "shiroi-resident", "tamba": "tamba-resident1"}[muni]
    with time_machine.travel(NOW, tick=False):
        client.force_login(user(resident))  # inside the travel: a session from today would have expired by then
        cache.reset()
        with django_assert_max_num_queries(20) as big:
            response = get(client, muni, date_from="2027-06-02", date_to="2027-06-15", all="on")
        found = response.context["found"]
        assert response.status_code == 200 and found.for_user and found.units_searched > 5 and found.total > 100
        cache.reset()
        with django_assert_max_num_queries(20) as small:
            narrow = get(client, muni, date_from="2027-06-02", kind=found.results[0].unit.kind, time_of_day="evening")
        assert 0 < narrow.context["found"].units_searched <= found.units_searched
        assert len(big.captured_queries) == len(small.captured_queries)
        # Warm: the catalogue (units, profiles, fee tables) comes from the process cache.
        with django_assert_max_num_queries(8):
            get(client, muni, date_from="2027-06-02", date_to="2027-06-15", all="on")
