"""Administrators edit facilities, units, hours and closures in the admin, within their own municipality."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from accounts.models import User
from facilities.models import ClosureRule, Facility
from tests.factories import make_calendar, make_facility, make_municipality, make_scheme, make_unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def kodaira_admin_client(client):
    kodaira = make_municipality("kodaira", "小平市", "Kodaira")
    shiroi = make_municipality("shiroi", "白井市", "Shiroi")
    make_facility(kodaira, code="nakajima", name_ja="中島地域センター", calendar=make_calendar(kodaira, "中島"))
    make_facility(
        shiroi, code="minamiyama-ground", name_ja="南山公園グラウンド", calendar=make_calendar(shiroi, "南山")
    )
    admin = User.objects.create_user(
        "kodaira-admin",
        password="pw",
        municipality=kodaira,
        account_kind="staff",
        staff_role="administrator",
        is_staff=True,
    )
    admin.user_permissions.set(Permission.objects.filter(content_type__app_label="facilities"))
    client.force_login(admin)
    return client


def test_admin__municipal_administrator_sees_only_own_facilities(kodaira_admin_client):
    page = kodaira_admin_client.get("/admin/facilities/facility/").content.decode()
    assert "中島地域センター" in page
    assert "南山公園グラウンド" not in page


def test_admin__other_municipality_row_cannot_be_opened(kodaira_admin_client):
    other = Facility.objects.get(code="minamiyama-ground")
    response = kodaira_admin_client.get(f"/admin/facilities/facility/{other.pk}/change/")
    assert response.status_code == 302  # the admin redirects rows outside the queryset to its index
    assert Facility.objects.get(pk=other.pk).name_ja == "南山公園グラウンド"


def test_admin__closure_rule_added_inline_takes_effect_on_the_calendar(kodaira_admin_client):
    calendar = Facility.objects.get(code="nakajima").closure_calendar
    form = {
        "name": calendar.name,
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-kind": "annual",
        "rules-0-start_month": "12",
        "rules-0-start_day": "29",
        "rules-0-end_month": "1",
        "rules-0-end_day": "3",
        "rules-0-note": "年末年始",
    }
    response = kodaira_admin_client.post(f"/admin/facilities/closurecalendar/{calendar.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    from facilities import calendars

    facility = Facility.objects.get(code="nakajima")
    assert not calendars.is_open(facility, dt.date(2026, 12, 31))


def test_admin__nonsense_closure_rule_is_refused_and_nothing_saved(kodaira_admin_client):
    calendar = Facility.objects.get(code="nakajima").closure_calendar
    form = {
        "name": calendar.name,
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-kind": "dates",
        "rules-0-start_date": "2027-03-02",
        "rules-0-end_date": "2027-03-01",
    }
    response = kodaira_admin_client.post(f"/admin/facilities/closurecalendar/{calendar.pk}/change/", form)
    assert response.status_code == 200  # the form comes back with the error
    assert not ClosureRule.objects.filter(calendar=calendar).exists()


def test_admin__overlapping_seasons_entered_together_are_refused(kodaira_admin_client):
    facility = Facility.objects.get(code="nakajima")
    facility.opening_hours.all().delete()
    form = {
        "name_ja": facility.name_ja,
        "name_en": "",
        "code": facility.code,
        "kind": facility.kind,
        "closure_calendar": facility.closure_calendar_id,
        "sort_order": "0",
        "has_parking": "on",
        "opening_hours-TOTAL_FORMS": "2",
        "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-MIN_NUM_FORMS": "0",
        "opening_hours-MAX_NUM_FORMS": "1000",
        "opening_hours-0-first_month": "4",
        "opening_hours-0-last_month": "9",
        "opening_hours-0-opens": "07:00",
        "opening_hours-0-closes": "19:00",
        "opening_hours-1-first_month": "9",
        "opening_hours-1-last_month": "3",
        "opening_hours-1-opens": "09:00",
        "opening_hours-1-closes": "17:00",
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
    }
    response = kodaira_admin_client.post(f"/admin/facilities/facility/{facility.pk}/change/", form)
    assert response.status_code == 200
    assert not facility.opening_hours.exists()


def test_unit__municipality_always_follows_its_facility():
    kodaira = make_municipality("kodaira")
    facility = make_facility(kodaira)
    unit = make_unit(facility, make_scheme(kodaira))
    assert unit.municipality_id == kodaira.id
