"""Authentication: personal API tokens (hashed, revocable, shown once) and the session with CSRF."""

import hashlib
import re

import pytest
import time_machine
from django.test import Client

from accounts.models import ApiToken, User

from .conftest import JsonClient, at, token_for, unit

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/kodaira/reservations"


def nakajima_morning():
    room = unit("kodaira", "nakajima", "assembly-room")
    return {"unit_id": room.id, "start": "2027-08-20T09:00:00+09:00", "end": "2027-08-20T12:00:00+09:00"}


def test_no_credentials__401_json(api, demo):
    status, body = api.get(BOOK, lang="en")
    assert status == 401 and body["code"] == "not_authenticated"
    assert "Bearer" in body["message"]
    assert api.last["WWW-Authenticate"].startswith("Bearer")
    assert api.post(BOOK, nakajima_morning())[0] == 401
    assert api.post(f"{BOOK}/1/cancel")[0] == 401


def test_revoked_token__401(api, demo):
    token = token_for("kodaira-group1")
    assert api.get(BOOK, token=token)[0] == 200
    ApiToken.objects.get().revoke()
    status, body = api.get(BOOK, token=token)
    assert status == 401 and body["code"] == "invalid_token"
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        assert api.post(BOOK, nakajima_morning(), token=token)[0] == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nonsense",
        "Bearer yoyaku_0123456789ab_wrong-secret",
        "Bearer ",
        "bearer yoyaku_zz_" + "x" * 300,
    ],
)
def test_bad_tokens__401_never_500(api, demo, header):
    token_for("kodaira-group1")
    status, body = api.get(BOOK, headers={"Authorization": header})
    assert status == 401 and body["code"] in {"invalid_token", "not_authenticated"}


def test_token__on_a_public_endpoint_a_bad_token_is_still_401(api, demo):
    assert api.get("/api/v1/municipalities", token="yoyaku_0123456789ab_nope")[0] == 200  # no auth at all there
    room = unit("kodaira", "nakajima", "assembly-room")
    path = f"/api/v1/kodaira/units/{room.id}/availability?from=2027-08-20&to=2027-08-20"
    assert api.get(path, token="yoyaku_0123456789ab_nope")[0] == 401


def test_token__of_an_inactive_user__401(api, demo):
    token = token_for("kodaira-group1")
    User.objects.filter(username="kodaira-group1").update(is_active=False)
    assert api.get(BOOK, token=token)[0] == 401


def test_token__stored_only_as_sha256_with_a_lookup_prefix(demo):
    token = token_for("kodaira-group1", name="sync")
    row = ApiToken.objects.get()
    assert re.fullmatch(r"yoyaku_[0-9a-f]{12}_[-\w]{40,}", token)
    assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.split("_")[1] == row.prefix
    assert token not in str(row.__dict__.values())


def test_token__last_used_at_is_recorded(api, demo):
    token = token_for("kodaira-group1")
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        api.get(BOOK, token=token)
    assert ApiToken.objects.get().last_used_at == at(2027, 7, 2, 9, 0)


# Session ----------------------------------------------------------------------------------------------------


def test_session__get_works_without_csrf(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="kodaira-group1"))
    assert client.get(BOOK).status_code == 200


def test_session__post_without_csrf_token__403_csrf_failed(demo):
    client = Client(enforce_csrf_checks=True)
    api = JsonClient(client)
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):  # log in then: sessions expire after two weeks
        client.force_login(User.objects.get(username="kodaira-group1"))
        status, body = api.post(BOOK, nakajima_morning())
    assert status == 403 and body["code"] == "csrf_failed"
    assert not ApiToken.objects.exists()
    from reservations.models import Reservation

    assert not Reservation.objects.exists()


def test_session__post_with_csrf_token__201(demo):
    client = Client(enforce_csrf_checks=True)
    api = JsonClient(client)
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        client.force_login(User.objects.get(username="kodaira-group1"))
        client.get("/accounts/tokens/")  # any page with a form sets the CSRF cookie
        csrf = client.cookies["csrftoken"].value
        status, body = api.post(BOOK, nakajima_morning(), headers={"X-CSRFToken": csrf})
    assert status == 201, body


def test_session_and_token__a_token_post_needs_no_csrf(demo):
    client = Client(enforce_csrf_checks=True)
    api = JsonClient(client)
    with time_machine.travel(at(2027, 7, 2, 9, 0), tick=False):
        client.force_login(User.objects.get(username="kodaira-group2"))
        status, _body = api.post(BOOK, nakajima_morning(), token=token_for("kodaira-group1"))
    assert status == 201
    from reservations.models import Reservation

    assert Reservation.objects.get().user.username == "kodaira-group1"  # the token decides


# The tokens page --------------------------------------------------------------------------------------------


def test_tokens_page__login_required(client, demo):
    response = client.get("/accounts/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_tokens_page__create_shows_the_token_once_then_it_works_then_revoke(client, demo):
    user = User.objects.get(username="kodaira-group1")
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "カレンダー連携"})
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"  # Post/Redirect/Get
    page = client.get("/accounts/tokens/").content.decode()
    token = re.search(r'<textarea id="new-token"[^>]*>(yoyaku_[^<]+)</textarea>', page).group(1)
    assert "カレンダー連携" in page
    again = client.get("/accounts/tokens/").content.decode()
    assert token not in again and "カレンダー連携" in again  # shown once; listed by name and prefix

    api = JsonClient(Client())
    assert api.get(BOOK, token=token)[0] == 200

    row = ApiToken.objects.get()
    assert client.get(f"/accounts/tokens/{row.pk}/revoke/").status_code == 405
    response = client.post(f"/accounts/tokens/{row.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/accounts/tokens/"
    assert api.get(BOOK, token=token)[0] == 401


def test_tokens_page__empty_name_refused(client, demo):
    client.force_login(User.objects.get(username="kodaira-group1"))
    response = client.post("/accounts/tokens/", {"name": "  "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_tokens_page__cannot_revoke_someone_elses(client, demo):
    token_for("kodaira-group2")
    client.force_login(User.objects.get(username="kodaira-group1"))
    row = ApiToken.objects.get()
    assert client.post(f"/accounts/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_tokens_page__lists_only_mine(client, demo):
    token_for("kodaira-group2", name="someone-elses")
    token_for("kodaira-group1", name="mine")
    client.force_login(User.objects.get(username="kodaira-group1"))
    page = client.get("/accounts/tokens/").content.decode()
    assert "mine" in page and "someone-elses" not in page


def test_admin__lists_tokens_without_secrets(client, demo):
    token = token_for("kodaira-group1", name="sync")
    client.force_login(User.objects.get(username="operator"))
    page = client.get("/admin/accounts/apitoken/").content.decode()
    row = ApiToken.objects.get()
    assert "sync" in page and row.prefix in page
    assert row.secret_hash not in page and token not in page
    detail = client.get(f"/admin/accounts/apitoken/{row.pk}/change/").content.decode()
    assert row.secret_hash not in detail and token not in detail
