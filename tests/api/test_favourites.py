"""Favourite facilities through the API (issue #19 item 7): /api/v1/{muni}/favourites lists, stars and unstars with
the same service as the pages' star (facilities.favourites), so a star made on one shows on the other."""

import re

import pytest
from django.test import Client

from facilities.models import Facility, FavouriteFacility
from tests.reservations.booking_helpers import user

from .conftest import JsonClient, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

FAVOURITES = "/api/v1/kodaira/favourites"


def codes(body) -> list[str]:
    return [f["code"] for f in body]


def delete(api, path, token=None, **headers):
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return api.client.delete(path, headers=headers)


def allowed(api) -> set[str]:
    return set(api.last["Allow"].split(", "))


def favourites_section(html: str) -> str:
    found = re.search(r'<section class="favourites".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_star_list_and_unstar(api):
    token = token_for("kodaira-group1")
    assert api.get(FAVOURITES, token=token) == (200, [])
    status, body = api.post(FAVOURITES, {"facility_code": "kihei"}, token=token)
    assert status == 201
    kihei = Facility.objects.get(municipality__slug="kodaira", code="kihei")
    assert body == {
        "municipality": "kodaira",
        "code": "kihei",
        "name_ja": kihei.name_ja,
        "name_en": kihei.name_en,
        "units": [
            {"id": u.pk, "code": u.code, "name_ja": u.name_ja, "name_en": u.name_en, "kind": u.kind}
            for u in kihei.units.filter(is_active=True).order_by("sort_order", "code")
        ],
    }
    assert body["units"]
    assert api.post(FAVOURITES, {"facility_code": "nakajima"}, token=token)[0] == 201
    status, again = api.post(FAVOURITES, {"facility_code": "kihei"}, token=token)  # already one: 200, still one row
    assert status == 200 and again == body
    assert codes(api.get(FAVOURITES, token=token)[1]) == ["kihei", "nakajima"]  # in the order starred
    assert api.get(f"{FAVOURITES}/kihei", token=token) == (200, body)

    response = delete(api, f"{FAVOURITES}/kihei", token)
    assert response.status_code == 204 and response.content == b""
    assert delete(api, f"{FAVOURITES}/kihei", token).status_code == 204  # harmless again, as on the page
    assert codes(api.get(FAVOURITES, token=token)[1]) == ["nakajima"]
    status, body = api.get(f"{FAVOURITES}/kihei", token=token, lang="en")
    assert status == 404 and body["code"] == "not_found" and "not one of your favourites" in body["message"]
    assert FavouriteFacility.objects.filter(user__username="kodaira-group1").count() == 1


def test_the_page_and_the_api_agree(api):
    """A star made through the API shows on the municipality page (and offers unstarring there); one made on the
    page is listed by the API; unstarring through the API takes it off the page."""
    group = user("kodaira-group1")
    token = token_for("kodaira-group1")
    page = Client()
    page.force_login(group)
    assert api.post(FAVOURITES, {"facility_code": "kihei"}, token=token)[0] == 201
    html = page.get("/kodaira/").content.decode()
    assert "喜平" in favourites_section(html) and html.count('data-test="unstar"') == 1

    page.post("/kodaira/facilities/nakajima/favourite/", {"starred": "1", "next": "/kodaira/"})
    assert codes(api.get(FAVOURITES, token=token)[1]) == ["kihei", "nakajima"]

    assert delete(api, f"{FAVOURITES}/kihei", token).status_code == 204
    section = favourites_section(page.get("/kodaira/").content.decode())
    assert "喜平" not in section and "中島" in section


def test_favourites_of_another_municipality__starred_there_listed_there(api):
    """As on the pages (the home page lists every municipality's favourites), a resident may star another
    municipality's facility at that municipality's address; each address lists its own municipality's only."""
    token = token_for("kodaira-group1")
    assert api.post("/api/v1/tamba/favourites", {"facility_code": "kaibara"}, token=token)[0] == 201
    assert api.post(FAVOURITES, {"facility_code": "nakajima"}, token=token)[0] == 201
    assert codes(api.get("/api/v1/tamba/favourites", token=token)[1]) == ["kaibara"]
    assert codes(api.get(FAVOURITES, token=token)[1]) == ["nakajima"]
    page = Client()
    page.force_login(user("kodaira-group1"))
    home = favourites_section(page.get("/").content.decode())
    assert "柏原住民センター" in home and "中島" in home


def test_a_facility_of_another_municipality_at_this_address__404_and_nothing_saved(api):
    token = token_for("kodaira-group1")
    shiroi_code = Facility.objects.filter(municipality__slug="shiroi").values_list("code", flat=True).first()
    assert not Facility.objects.filter(municipality__slug="kodaira", code=shiroi_code).exists()
    for answer in (
        api.post(FAVOURITES, {"facility_code": shiroi_code}, token=token),
        api.post(FAVOURITES, {"facility_code": "no-such-place"}, token=token),
        api.get(f"{FAVOURITES}/{shiroi_code}", token=token),
    ):
        assert answer[0] == 404 and answer[1]["code"] == "not_found"
    assert delete(api, f"{FAVOURITES}/{shiroi_code}", token).status_code == 404
    assert not FavouriteFacility.objects.exists()


def test_another_users_favourites__not_listed_not_found_not_removed(api):
    api.post(FAVOURITES, {"facility_code": "kihei"}, token=token_for("kodaira-group1"))
    other = token_for("kodaira-group2")
    assert api.get(FAVOURITES, token=other) == (200, [])
    assert api.get(f"{FAVOURITES}/kihei", token=other)[0] == 404
    assert delete(api, f"{FAVOURITES}/kihei", other).status_code == 204  # unstars their own (none): nothing else
    assert list(FavouriteFacility.objects.values_list("user__username", "facility__code")) == [
        ("kodaira-group1", "kihei")
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"facility_code": 5},
        {"facility_code": None},
        {"facility_code": ""},
        {"facility_code": "bad.code"},
        {"facility_code": "a" * 51},
        {"facility_code": "kihei", "extra": 1},
        {"code": "kihei"},
        [],
        "kihei",
    ],
)
def test_star__bad_input__400(api, body):
    status, answer = api.post(FAVOURITES, body, token=token_for("kodaira-group1"))
    assert status == 400 and answer["code"] == "bad_request", answer
    assert not FavouriteFacility.objects.exists()


@pytest.mark.parametrize("code", ["bad.code", "a" * 51, "%00", "小平"])
def test_odd_facility_code_in_the_address__404(api, code):
    status, body = api.get(f"{FAVOURITES}/{code}", token=token_for("kodaira-group1"))
    assert status == 404 and body["code"] == "not_found"


def test_unauthenticated__401_everywhere(api):
    for method, path in [("GET", FAVOURITES), ("POST", FAVOURITES), ("GET", f"{FAVOURITES}/kihei")]:
        status, body = api.call(method, path, json_body={"facility_code": "kihei"} if method == "POST" else None)
        assert status == 401 and body["code"] == "not_authenticated"
    response = delete(api, f"{FAVOURITES}/kihei")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("username", ["kodaira-clerk", "kodaira-admin"])
def test_staff__403_staff_account_as_on_reservations(api, username):
    token = token_for(username)
    expected = api.get("/api/v1/kodaira/reservations", token=token)
    assert expected[0] == 403 and expected[1]["code"] == "staff_account"
    assert api.get(FAVOURITES, token=token) == expected
    assert api.post(FAVOURITES, {"facility_code": "kihei"}, token=token) == expected
    assert api.get(f"{FAVOURITES}/kihei", token=token) == expected
    assert delete(api, f"{FAVOURITES}/kihei", token).json() == expected[1]
    assert not FavouriteFacility.objects.exists()


def test_methods__405_with_allow(api):
    token = token_for("kodaira-group1")
    status, body = api.call("PUT", FAVOURITES, token=token, json_body={"facility_code": "kihei"})
    assert status == 405 and body["code"] == "method_not_allowed" and allowed(api) == {"GET", "POST"}
    status, body = api.call("POST", f"{FAVOURITES}/kihei", token=token, json_body={})
    assert status == 405 and allowed(api) == {"GET", "DELETE"}


def test_session__delete_needs_the_csrf_token(demo_client_with_session):
    client, token = demo_client_with_session
    client.post("/kodaira/facilities/kihei/favourite/", {"starred": "1", "csrfmiddlewaretoken": token})
    refused = client.delete(f"{FAVOURITES}/kihei")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert FavouriteFacility.objects.count() == 1
    assert client.delete(f"{FAVOURITES}/kihei", headers={"X-CSRFToken": token}).status_code == 204
    assert not FavouriteFacility.objects.exists()
    status, body = JsonClient(client).post(FAVOURITES, {"facility_code": "kihei"})
    assert status == 403 and body["code"] == "csrf_failed"


@pytest.fixture
def demo_client_with_session():
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("kodaira-group1"))
    token = client.get("/accounts/profile/").cookies["csrftoken"].value
    return client, token
