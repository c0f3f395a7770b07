"""Favourite facilities (issue #8 item 1): star / unstar with a POST that comes back (PRG, no JavaScript); the
portal's home and the municipality page show the user's favourites first, with links to their units' weeks."""

import re

import pytest

from facilities import favourites
from facilities.models import Facility, FavouriteFacility
from tests.reservations.booking_helpers import user

pytestmark = pytest.mark.django_db


def star(client, muni="kodaira", code="nakajima", starred="1", next_url="/kodaira/"):
    return client.post(f"/{muni}/facilities/{code}/favourite/", {"starred": starred, "next": next_url})


def favourite_codes(username) -> list[str]:
    return list(
        FavouriteFacility.objects.filter(user__username=username)
        .order_by("created_at", "id")
        .values_list("facility__code", flat=True)
    )


def test_star__anonymous_is_sent_to_log_in_and_nothing_is_saved(client, seeded):
    response = star(client)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not FavouriteFacility.objects.exists()


def test_star__get_is_refused(client, seeded):
    client.force_login(user("kodaira-group1"))
    assert client.get("/kodaira/facilities/nakajima/favourite/").status_code == 405


def test_star__saves_and_comes_back(client, seeded):
    client.force_login(user("kodaira-group1"))
    response = star(client, next_url="/kodaira/?x=1")
    assert response.status_code == 302 and response["Location"] == "/kodaira/?x=1"
    row = FavouriteFacility.objects.get(user__username="kodaira-group1")
    assert row.facility.code == "nakajima" and row.municipality.slug == "kodaira"


def test_star__twice_keeps_one_row_then_unstar_removes_it(client, seeded):
    client.force_login(user("kodaira-group1"))
    star(client)
    star(client)
    assert favourite_codes("kodaira-group1") == ["nakajima"]
    star(client, starred="0")
    assert favourite_codes("kodaira-group1") == []
    assert star(client, starred="0").status_code == 302  # unstarring again is harmless


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "abc",
        "facilities:home",
        "",
        "javascript:alert(1)",
        "/\\evil.example",
    ],
)
def test_star__next_that_is_not_a_path_of_this_site__goes_to_the_facility_page(client, seeded, next_url):
    """A word such as "abc" was a 500 (redirect() looked it up as a URL name)."""
    client.force_login(user("kodaira-group1"))
    response = star(client, next_url=next_url)
    assert response.status_code == 302 and response["Location"] == "/kodaira/facilities/nakajima/"
    assert favourite_codes("kodaira-group1") == ["nakajima"]


def test_star__facility_of_another_municipality_is_a_404(client, seeded):
    client.force_login(user("kodaira-group1"))
    shiroi_code = Facility.objects.filter(municipality__slug="shiroi").values_list("code", flat=True).first()
    assert star(client, "kodaira", shiroi_code).status_code == 404
    assert star(client, "kodaira", "no-such-place").status_code == 404
    assert not FavouriteFacility.objects.exists()


def test_municipality_page__favourites_first_with_availability_links(client, seeded):
    group = user("kodaira-group1")
    client.force_login(group)
    star(client, code="kihei")
    star(client, code="nakajima")
    page = client.get("/kodaira/").content.decode()
    section = re.search(r'<section class="favourites".*?</section>', page, re.S).group(0)
    assert page.index('data-test="favourites"') < page.index('data-test="facility-list"')
    assert section.index("喜平") < section.index("中島")  # in the order they were starred
    nakajima = Facility.objects.get(municipality__slug="kodaira", code="nakajima")
    for unit in nakajima.units.filter(is_active=True):
        assert f'href="/kodaira/units/{unit.pk}/"' in section
    # In the full list, the starred ones offer unstarring, the others starring.
    assert page.count('data-test="unstar"') == 2
    assert page.count('data-test="star"') == Facility.objects.filter(municipality__slug="kodaira").count() - 2


def test_municipality_page__nobody_elses_favourites(client, seeded):
    client.force_login(user("kodaira-group1"))
    star(client)
    client.force_login(user("kodaira-group2"))
    page = client.get("/kodaira/").content.decode()
    assert 'data-test="favourites"' not in page and 'data-test="unstar"' not in page
    client.logout()
    page = client.get("/kodaira/").content.decode()
    assert 'data-test="favourites"' not in page and 'data-test="star"' not in page


def test_home_page__favourites_of_every_municipality_with_the_municipality_name(client, seeded):
    resident = user("shiroi-resident")
    client.force_login(resident)
    shiroi_code = (
        Facility.objects.filter(municipality__slug="shiroi")
        .order_by("sort_order", "code")
        .values_list("code", flat=True)
        .first()
    )
    star(client, "shiroi", shiroi_code, next_url="/")
    star(client, "tamba", "kaibara", next_url="/")
    page = client.get("/").content.decode()
    section = re.search(r'<section class="favourites".*?</section>', page, re.S).group(0)
    assert "丹波市" in section and "白井市" in section and "柏原住民センター" in section
    assert "/tamba/units/" in section and "/shiroi/units/" in section
    # A municipality's page shows only its own.
    tamba = client.get("/tamba/").content.decode()
    tamba_section = re.search(r'<section class="favourites".*?</section>', tamba, re.S).group(0)
    assert "/shiroi/" not in tamba_section


def test_favourites_of__constant_queries(seeded, django_assert_max_num_queries):
    group = user("kodaira-group1")
    for facility in Facility.objects.filter(municipality__slug="kodaira")[:6]:
        favourites.set_favourite(user=group, facility=facility, starred=True)
    with django_assert_max_num_queries(3):
        found = favourites.favourites_of(user=group)
        assert len(found.facilities) == 6
        assert all(f.municipality.slug == "kodaira" for f in found.facilities)
        assert sum(len(f.units.all()) for f in found.facilities) > 6


def test_star__works_in_english_too(client, seeded, settings):
    client.force_login(user("kodaira-group1"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.post(
        "/kodaira/facilities/nakajima/favourite/", {"starred": "1", "next": "/kodaira/"}, follow=True
    )
    assert response.status_code == 200
    assert "Nakajima" in response.content.decode()
    assert favourite_codes("kodaira-group1") == ["nakajima"]
