"""Log-in is wired through django-allauth with the portal's own user model and layout."""

import datetime as dt

import pytest
import time_machine

from accounts.models import User
from tests.factories import make_municipality

pytestmark = pytest.mark.django_db

TOKYO = dt.timezone(dt.timedelta(hours=9))


def test_login_page__portal_layout_in_japanese(client):
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="ja">' in page
    assert 'class="site-header"' in page
    assert 'name="login"' in page and 'name="password"' in page


def test_login__by_user_id__returns_to_the_page_asked_for(client):
    shiroi = make_municipality("shiroi", "白井市", "Shiroi")
    User.objects.create_user("shiroi-resident", password="yoyaku-demo", municipality=shiroi)
    response = client.post(
        "/accounts/login/", {"login": "shiroi-resident", "password": "yoyaku-demo", "next": "/shiroi/"}
    )
    assert response.status_code == 302 and response["Location"] == "/shiroi/"
    assert "shiroi-resident" in client.get("/shiroi/").content.decode()


def test_login__wrong_password__refused_with_a_message(client):
    User.objects.create_user("shiroi-resident", password="yoyaku-demo")
    response = client.post("/accounts/login/", {"login": "shiroi-resident", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signup__closed__registration_follows_municipal_rules(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert 'name="password1"' not in response.content.decode()
    assert not User.objects.exists()


def test_user__validity_edges_are_inclusive():
    user = User(valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2027, 3, 31))
    assert not user.is_valid_on(dt.date(2026, 3, 31))
    assert user.is_valid_on(dt.date(2026, 4, 1))
    assert user.is_valid_on(dt.date(2027, 3, 31))
    assert not user.is_valid_on(dt.date(2027, 4, 1))
    with time_machine.travel(dt.datetime(2027, 3, 31, 23, 59, tzinfo=TOKYO), tick=False):
        assert user.is_valid_on()
    with time_machine.travel(dt.datetime(2027, 4, 1, 0, 0, tzinfo=TOKYO), tick=False):
        assert not user.is_valid_on()
