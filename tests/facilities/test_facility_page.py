"""The facility page's details (issue #21 item 6): photos with alt text, a map link from the address, access and
parking, accessibility (unknown is not "no"), equipment; sample labels; photo uploads in the admin refused with a
clear message when they are not a JPEG/PNG/WebP image or too big."""

import io
import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import User
from demo.pages import draw_sample_photo
from facilities.models import FacilityPhoto
from tests.factories import make_calendar, make_facility, make_municipality

pytestmark = pytest.mark.django_db


@pytest.fixture
def kodaira():
    return make_municipality("kodaira", "小平市", "Kodaira")


def page(client, facility) -> str:
    return client.get(f"/{facility.municipality.slug}/facilities/{facility.code}/").content.decode()


def test_facility_page__every_detail_shown_with_sample_labels(client, kodaira):
    hall = make_facility(
        kodaira,
        code="nakajima",
        name_ja="中島地域センター",
        address_ja="小平市中島町1-1",
        access_ja="花小金井駅から徒歩15分",
        parking_ja="5台（無料）",
        step_free_entrance=True,
        accessible_toilet=None,
        lift=False,
        accessibility_ja="和室は2階です。",
        equipment_ja="長机・椅子\n\nホワイトボード\n",
        details_are_samples=True,
    )
    FacilityPhoto.objects.create(
        facility=hall,
        image=SimpleUploadedFile("hall.png", draw_sample_photo("building")),
        alt_ja="外観",
        alt_en="Outside",
        is_sample=True,
    )
    html = page(client, hall)
    assert re.search(r'<img src="/media/facility-photos/hall[^"]*\.png" alt="外観"', html)
    assert "デモ用の画像" in html  # the sample photo says it is not the real place
    map_link = re.search(r'href="([^"]+)"[^>]*data-test="map-link"', html).group(1).replace("&amp;", "&")
    url = urlparse(map_link)
    assert (url.scheme, url.netloc, url.path) == ("https", "www.google.com", "/maps/search/")
    assert parse_qs(url.query) == {"api": ["1"], "query": ["小平市中島町1-1"]}
    assert "花小金井駅から徒歩15分" in html and "5台（無料）" in html
    assert html.count('class="sample-label"') == 4  # access, accessibility, equipment, the photo
    accessibility = html[html.index('data-test="accessibility"') :]
    assert re.search(r"段差のない出入口</dt><dd data-known=\"yes\">あり", accessibility)
    # Not known is said as such, never as "no".
    assert re.search(r"多目的トイレ</dt><dd data-known=\"unknown\">不明", accessibility)
    assert re.search(r"エレベーター</dt><dd data-known=\"no\">なし", accessibility)
    assert "<li>長机・椅子</li><li>ホワイトボード</li></ul>" in html  # one item per line, blank lines dropped


def test_facility_page__in_english_uses_the_english_texts(client, kodaira):
    hall = make_facility(kodaira, access_ja="駅から徒歩", access_en="A walk from the station", lift=True)
    FacilityPhoto.objects.create(
        facility=hall, image=SimpleUploadedFile("a.png", draw_sample_photo("room")), alt_ja="集会室", alt_en="Hall"
    )
    client.cookies["django_language"] = "en"
    html = page(client, hall)
    assert "A walk from the station" in html and 'alt="Hall"' in html
    assert 'Lift</dt><dd data-known="yes">Yes' in html
    assert "sample-label" not in html  # real details, a real photo: no label


def test_facility_page__closure_notes_in_the_pages_language(client, kodaira):
    """Issue #21 item 8: a closure rule's note is Japanese on the Japanese page and English on the English one; with
    no English note the English page gives the rule in words only, never the Japanese note."""
    calendar = make_calendar(
        kodaira,
        rules=[
            {
                "kind": "nth_weekday",
                "weekday": 1,
                "weeks_of_month": "1,3",
                "note": "毎月第1・第3火曜日",
                "note_en": "1st and 3rd Tuesday of each month",
            },
            {"kind": "holidays", "note": "祝祭日"},
        ],
    )
    hall = make_facility(kodaira, calendar=calendar)
    japanese = page(client, hall)
    assert "毎月第1・第3火曜日" in japanese and "祝祭日" in japanese
    client.cookies["django_language"] = "en"
    english = page(client, hall)
    assert "1st and 3rd Tuesday of each month" in english
    assert "毎月第1・第3火曜日" not in english and "祝祭日" not in english


def test_facility_page__empty_details_are_not_shown(client, kodaira):
    hall = make_facility(kodaira, has_parking=False)
    html = page(client, hall)
    for hidden in ('data-test="photos"', 'data-test="map-link"', 'id="access"', 'id="accessibility"', 'id="equipment"'):
        assert hidden not in html
    assert "駐車場なし" in html  # the parking line stays: it is a yes/no the municipality always gave


# Uploads in the admin ---------------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, kodaira):
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


def image_bytes(kind: str, size=(64, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, format=kind)
    return out.getvalue()


def upload(admin_client, facility, name: str, content: bytes):
    form = {
        "name_ja": facility.name_ja,
        "name_en": "",
        "code": facility.code,
        "kind": facility.kind,
        "sort_order": "0",
        "has_parking": "on",
        "opening_hours-TOTAL_FORMS": "0",
        "opening_hours-INITIAL_FORMS": "0",
        "opening_hours-MIN_NUM_FORMS": "0",
        "opening_hours-MAX_NUM_FORMS": "1000",
        "units-TOTAL_FORMS": "0",
        "units-INITIAL_FORMS": "0",
        "units-MIN_NUM_FORMS": "0",
        "units-MAX_NUM_FORMS": "1000",
        "photos-TOTAL_FORMS": "1",
        "photos-INITIAL_FORMS": "0",
        "photos-MIN_NUM_FORMS": "0",
        "photos-MAX_NUM_FORMS": "1000",
        "photos-0-image": SimpleUploadedFile(name, content),
        "photos-0-alt_ja": "外観",
        "photos-0-sort_order": "1",
    }
    return admin_client.post(f"/admin/facilities/facility/{facility.pk}/change/", form)


def test_admin_upload__a_png_with_its_description_is_saved(admin_client, kodaira):
    hall = make_facility(kodaira, seasons=())
    response = upload(admin_client, hall, "outside.png", image_bytes("PNG"))
    assert response.status_code == 302, response.content.decode()[:2000]
    photo = hall.photos.get()
    assert photo.alt_ja == "外観" and photo.image.name.startswith("facility-photos/outside")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.png", b"this is text, not a picture", "画像をアップロードしてください"),  # Django's ImageField
        ("anim.gif", image_bytes("GIF"), "許可されていません"),  # a real image, of a type we do not take
        ("anim.png", image_bytes("GIF"), "JPEG、PNG、WebP の画像だけ"),  # a GIF under a .png name
    ],
    ids=["not-an-image", "gif", "gif-named-png"],
)
def test_admin_upload__wrong_type_refused_with_a_message_and_nothing_saved(
    admin_client, kodaira, name, content, message
):
    hall = make_facility(kodaira, seasons=())
    response = upload(admin_client, hall, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not FacilityPhoto.objects.exists()


def test_admin_upload__too_big_refused_with_the_limit_and_nothing_saved(admin_client, kodaira, settings):
    settings.FACILITY_PHOTO_MAX_BYTES = 50_000
    hall = make_facility(kodaira, seasons=())
    big = image_bytes("PNG", size=(2000, 2000))  # noise-free but still well over 50 KB? make it so:
    big = big + b"\0" * max(0, 60_000 - len(big))
    response = upload(admin_client, hall, "big.png", big)
    assert response.status_code == 200
    html = response.content.decode()
    assert "48.8\xa0KB" in html or "48.8 KB" in html  # the limit, in words a person reads
    assert "小さくして" in html
    assert not FacilityPhoto.objects.exists()
