"""Public availability pages: tenancy scoping, clear 404/400 pages, languages, no login needed."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from tests.factories import closed_at_year_end, make_calendar, make_facility, make_municipality, make_scheme, make_unit

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def two_towns():
    shiroi = make_municipality("shiroi", "白井市", "Shiroi")
    kodaira = make_municipality("kodaira", "小平市", "Kodaira")
    ground = make_facility(
        shiroi,
        code="minamiyama-ground",
        name_ja="南山公園グラウンド",
        name_en="Minamiyama Park Ground",
        kind="ground",
        seasons=((1, 12, dt.time(7), dt.time(21)),),
        calendar=make_calendar(shiroi, rules=[closed_at_year_end()]),
    )
    unit = make_unit(ground, make_scheme(shiroi), code="ground", name_ja="グラウンド", name_en="Ground", kind="ground")
    center = make_facility(kodaira, code="nakajima", name_ja="中島地域センター", name_en="Nakajima Community Center")
    make_unit(center, make_scheme(kodaira), code="room-1")
    return {"shiroi": shiroi, "kodaira": kodaira, "ground": ground, "unit": unit}


def test_root__lists_every_municipality(client, two_towns):
    page = client.get("/").content.decode()
    assert "白井市" in page and "小平市" in page
    assert 'href="/shiroi/"' in page


def test_municipality_page__lists_only_its_own_facilities(client, two_towns):
    page = client.get("/shiroi/").content.decode()
    assert "南山公園グラウンド" in page
    assert "中島地域センター" not in page


def test_tenancy__unit_of_shiroi_under_kodaira__404(client, two_towns):
    unit_id = two_towns["unit"].id
    assert client.get(f"/shiroi/units/{unit_id}/").status_code == 200
    assert client.get(f"/kodaira/units/{unit_id}/").status_code == 404
    assert client.get(f"/kodaira/units/{unit_id}/week/2027-05-10/").status_code == 404
    assert client.get(f"/kodaira/units/{unit_id}/month/2027-05/").status_code == 404


def test_tenancy__facility_of_shiroi_under_kodaira__404(client, two_towns):
    assert client.get("/shiroi/facilities/minamiyama-ground/").status_code == 200
    assert client.get("/kodaira/facilities/minamiyama-ground/").status_code == 404


def test_unknown_municipality__404_page_names_it(client, two_towns):
    response = client.get("/nowhere/")
    assert response.status_code == 404
    assert "nowhere" in response.content.decode()


def test_unknown_unit__clear_404(client, two_towns):
    response = client.get("/shiroi/units/999999/")
    assert response.status_code == 404
    assert "<h1>" in response.content.decode()


def test_unknown_address__404_page_not_500(client, two_towns):
    assert client.get("/shiroi/units/abc/").status_code == 404
    assert client.get("/shiroi/no/such/page/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "week/2027-13-45/",
        "week/abc/",
        "week/2027-02-30/",
        "week/1850-01-01/",
        "month/2027-13/",
        "month/27-1/",
        "month/abcd-ef/",
    ],
)
def test_malformed_date_in_url__400_with_explanation(client, two_towns, path):
    response = client.get(f"/shiroi/units/{two_towns['unit'].id}/{path}")
    assert response.status_code == 400
    assert "YYYY" in response.content.decode() or "2000" in response.content.decode()


def test_date_picker__redirects_to_the_canonical_week_address(client, two_towns):
    unit_id = two_towns["unit"].id
    response = client.get(f"/shiroi/units/{unit_id}/?date=2027-05-10")
    assert response.status_code == 302
    assert response["Location"] == f"/shiroi/units/{unit_id}/week/2027-05-10/"
    assert client.get(f"/shiroi/units/{unit_id}/?date=10/5/2027").status_code == 400


def test_week_page__anonymous_visitor_sees_open_and_closed_slots(client, two_towns):
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=TOKYO), tick=False):
        page = client.get(f"/shiroi/units/{two_towns['unit'].id}/week/2026-12-27/").content.decode()
    # 12-27, 12-28: seven 2-hour slots from 07:00 to 21:00; this municipality has no rule profile, so nobody can
    # book them online: not ○ but 窓口, for visitors too (issue #21).
    assert page.count('<td data-state="not_bookable" data-kind="other_channel"') == 2 * 7
    assert page.count('<td data-state="closed"') == 5 * 7  # 12-29 .. 01-02 year-end closure


def test_month_page__shows_closed_days_and_links_to_weeks(client, two_towns):
    unit_id = two_towns["unit"].id
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=TOKYO), tick=False):
        page = client.get(f"/shiroi/units/{unit_id}/month/2026-12/").content.decode()
    assert page.count('<td data-state="closed"') == 3  # 12-29, 12-30, 12-31
    assert f"/shiroi/units/{unit_id}/week/2026-12-28/" in page


def test_pages__japanese_by_default_and_english_on_request(client, two_towns):
    unit_id = two_towns["unit"].id
    with time_machine.travel(dt.datetime(2027, 5, 1, 10, tzinfo=TOKYO), tick=False):
        japanese = client.get(f"/shiroi/units/{unit_id}/").content.decode()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        english = client.get(f"/shiroi/units/{unit_id}/").content.decode()
    assert '<html lang="ja">' in japanese and "空き" in japanese and "南山公園グラウンド" in japanese
    assert '<html lang="en">' in english and "Available" in english and "Minamiyama Park Ground" in english


def test_language_switcher__sets_language_and_returns_to_the_same_page(client, two_towns):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/shiroi/"})
    assert response.status_code == 302 and response["Location"] == "/shiroi/"
    assert "Facilities" in client.get("/shiroi/").content.decode()
