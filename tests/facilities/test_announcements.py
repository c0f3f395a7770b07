"""Announcements on the portal (issue #7 item 4): shown in their window, per municipality or site-wide, in the
page's language, and edited in the admin by each municipality's administrators for their own municipality only."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import User
from facilities import selectors
from facilities.models import Announcement
from tests.factories import make_calendar, make_facility, make_municipality

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
FROM = dt.datetime(2027, 6, 1, 9, 0, tzinfo=TOKYO)
UNTIL = dt.datetime(2027, 6, 8, 17, 0, tzinfo=TOKYO)


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def towns():
    kodaira = make_municipality("kodaira", "小平市", "Kodaira City")
    shiroi = make_municipality("shiroi", "白井市", "Shiroi City")
    make_facility(kodaira, code="nakajima", name_ja="中島地域センター", calendar=make_calendar(kodaira, "中島"))
    make_facility(
        shiroi, code="minamiyama-ground", name_ja="南山公園グラウンド", calendar=make_calendar(shiroi, "南山")
    )
    return {"kodaira": kodaira, "shiroi": shiroi}


def announce(municipality, title_ja, title_en="", level="info", shown_from=FROM, shown_until=UNTIL, **fields):
    return Announcement.objects.create(
        municipality=municipality,
        title_ja=title_ja,
        title_en=title_en,
        level=level,
        shown_from=shown_from,
        shown_until=shown_until,
        **fields,
    )


def titles(response):
    page = response.content.decode()
    assert response.status_code == 200
    if 'data-test="announcements"' not in page:
        return []
    section = page.split('data-test="announcements"')[1].split("</section>")[0]
    return [part.split("</span>")[0] for part in section.split('data-test="announcement-title">')[1:]]


# The window ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (FROM - dt.timedelta(minutes=1), False),
        (FROM, True),
        (UNTIL - dt.timedelta(minutes=1), True),
        (UNTIL, False),  # half-open, like slots
        (UNTIL + dt.timedelta(minutes=1), False),
    ],
)
def test_window__shown_from_its_start_until_just_before_its_end(client, towns, moment, shown):
    announce(towns["kodaira"], "システムメンテナンスのお知らせ")
    with travel(moment):
        assert (titles(client.get("/kodaira/")) == ["システムメンテナンスのお知らせ"]) is shown
        assert (titles(client.get("/kodaira/facilities/nakajima/")) == ["システムメンテナンスのお知らせ"]) is shown


def test_window__without_an_end_stays_until_removed(client, towns):
    announce(towns["kodaira"], "お知らせ", shown_until=None)
    with travel(dt.datetime(2029, 1, 1, tzinfo=TOKYO)):
        assert titles(client.get("/kodaira/")) == ["お知らせ"]


def test_window__end_before_start_is_refused(towns):
    with pytest.raises(ValidationError) as error:
        Announcement(municipality=towns["kodaira"], title_ja="x", shown_from=UNTIL, shown_until=FROM).full_clean()
    assert "shown_until" in error.value.message_dict


# Tenancy --------------------------------------------------------------------------------------------------------


def test_tenancy__another_municipality_s_notice_is_not_shown(client, towns):
    announce(towns["kodaira"], "小平のお知らせ")
    announce(towns["shiroi"], "白井のお知らせ")
    with travel(FROM):
        assert titles(client.get("/kodaira/")) == ["小平のお知らせ"]
        assert titles(client.get("/shiroi/")) == ["白井のお知らせ"]
        assert titles(client.get("/shiroi/facilities/minamiyama-ground/")) == ["白井のお知らせ"]
        assert titles(client.get("/")) == []  # the portal's home shows the site-wide notices only


def test_tenancy__site_wide_notice_on_every_page_warnings_first(client, towns):
    announce(None, "全体メンテナンス")
    announce(towns["kodaira"], "小平の重要なお知らせ", level="warning")
    with travel(FROM):
        assert titles(client.get("/")) == ["全体メンテナンス"]
        kodaira = titles(client.get("/kodaira/"))
        assert kodaira == ["小平の重要なお知らせ", "全体メンテナンス"]
        assert titles(client.get("/shiroi/")) == ["全体メンテナンス"]


def test_selector__one_query(towns, django_assert_num_queries):
    announce(None, "全体")
    announce(towns["kodaira"], "小平")
    with travel(FROM), django_assert_num_queries(1):
        shown = selectors.current_announcements(municipality=towns["kodaira"])
        assert [a.title for a in shown] == ["全体", "小平"] or [a.title for a in shown] == ["小平", "全体"]


# Language -------------------------------------------------------------------------------------------------------


def test_language__english_when_filled_else_japanese(client, towns):
    announce(towns["kodaira"], "メンテナンス", "Maintenance", body_ja="本文", body_en="Text")
    announce(towns["kodaira"], "日本語だけ", body_ja="日本語の本文", shown_from=FROM - dt.timedelta(hours=1))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with travel(FROM):
        response = client.get("/kodaira/")
    page = response.content.decode()
    assert titles(response) == ["Maintenance", "日本語だけ"]
    assert "Text" in page and "日本語の本文" in page and "本文</p>" not in page.replace("日本語の本文", "")


def test_language__japanese_by_default(client, towns):
    announce(towns["kodaira"], "メンテナンス", "Maintenance")
    with travel(FROM):
        assert titles(client.get("/kodaira/")) == ["メンテナンス"]


def test_page__a_region_with_a_heading(client, towns):
    announce(towns["kodaira"], "お知らせ", level="warning")
    with travel(FROM):
        page = client.get("/kodaira/").content.decode()
    assert 'aria-labelledby="announcements-heading"' in page and 'id="announcements-heading"' in page
    assert 'data-level="warning"' in page


# Admin ----------------------------------------------------------------------------------------------------------


def administrator(municipality, username):
    user = User.objects.create_user(
        username,
        password="pw",
        municipality=municipality,
        account_kind="staff",
        staff_role="administrator",
        is_staff=True,
    )
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="facilities"))
    return user


def admin_form(**fields):
    return {
        "title_ja": "臨時休館",
        "title_en": "",
        "body_ja": "",
        "body_en": "",
        "level": "warning",
        "shown_from_0": "2027-06-01",
        "shown_from_1": "09:00",
        "shown_until_0": "2027-06-02",
        "shown_until_1": "09:00",
        **fields,
    }


def test_admin__shiroi_administrator_cannot_see_or_edit_kodaira_s(client, towns):
    kodaira_notice = announce(towns["kodaira"], "小平のお知らせ")
    announce(towns["shiroi"], "白井のお知らせ")
    announce(None, "全体のお知らせ")
    client.force_login(administrator(towns["shiroi"], "shiroi-admin"))

    listing = client.get("/admin/facilities/announcement/").content.decode()
    assert "白井のお知らせ" in listing
    assert "小平のお知らせ" not in listing and "全体のお知らせ" not in listing

    opened = client.get(f"/admin/facilities/announcement/{kodaira_notice.pk}/change/")
    assert opened.status_code in (302, 404)  # the admin sends rows outside its queryset to the index
    assert "小平のお知らせ" not in client.get(opened.url).content.decode() if opened.status_code == 302 else True
    client.post(f"/admin/facilities/announcement/{kodaira_notice.pk}/change/", admin_form(title_ja="書き換え"))
    client.post(f"/admin/facilities/announcement/{kodaira_notice.pk}/delete/", {"post": "yes"})
    kodaira_notice.refresh_from_db()
    assert kodaira_notice.title_ja == "小平のお知らせ"


def test_admin__a_new_notice_belongs_to_the_administrator_s_municipality(client, towns):
    client.force_login(administrator(towns["shiroi"], "shiroi-admin"))
    # Even a forged municipality field does not move it elsewhere.
    response = client.post("/admin/facilities/announcement/add/", admin_form(municipality=towns["kodaira"].pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    notice = Announcement.objects.get(title_ja="臨時休館")
    assert notice.municipality == towns["shiroi"]
    with travel(FROM):
        assert titles(client.get("/shiroi/")) == ["臨時休館"]
        assert titles(client.get("/kodaira/")) == []


def test_admin__end_before_start_comes_back_with_the_error(client, towns):
    client.force_login(administrator(towns["shiroi"], "shiroi-admin"))
    response = client.post("/admin/facilities/announcement/add/", admin_form(shown_until_0="2027-05-31"))
    assert response.status_code == 200
    assert not Announcement.objects.exists()


# Demo data ------------------------------------------------------------------------------------------------------


def test_seed_demo__one_sample_notice_per_municipality_and_idempotent(client):
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    assert sorted(Announcement.objects.values_list("municipality__slug", flat=True)) == ["kodaira", "shiroi", "tamba"]
    with travel(dt.datetime(2027, 5, 10, 10, 0, tzinfo=TOKYO)):
        for slug in ("kodaira", "shiroi", "tamba"):
            shown = titles(client.get(f"/{slug}/"))
            assert len(shown) == 1 and shown[0].startswith("【サンプル】")
