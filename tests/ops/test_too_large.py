"""A body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MiB) is a 413, not a 500: the API's JSON error ``too_large``
(config/api.py), a page elsewhere (config.views.bad_request, templates/413.html). It was a 500 ``server_error``
on the API."""

import json

import pytest
from django.test import Client

from tests.api.conftest import token_for
from tests.reservations.booking_helpers import user

pytestmark = pytest.mark.django_db

THREE_MIB = 3 * 1024 * 1024
BOOK = "/api/v1/kodaira/reservations"


def oversized_json() -> str:
    return json.dumps(
        {
            "unit_id": 1,
            "start": "2027-08-20T09:00:00+09:00",
            "end": "2027-08-20T12:00:00+09:00",
            "padding": "x" * THREE_MIB,
        }
    )


def test_api__token__3_mib_body__413_too_large(client, seeded):
    response = client.post(
        BOOK,
        data=oversized_json(),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('kodaira-group1')}", "Accept-Language": "en"},
    )
    assert response.status_code == 413
    body = json.loads(response.content)
    assert body == {"code": "too_large", "message": "The request is too large: at most 2.5 MB are accepted."}


def test_api__session_with_csrf__3_mib_body__413_too_large(seeded):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("kodaira-group1"))
    client.get("/kodaira/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(BOOK, data=oversized_json(), content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 413 and json.loads(response.content)["code"] == "too_large"


def test_api__just_under_the_limit__is_read_as_usual(client, seeded):
    """The limit is Django's: a body just under it is parsed (and refused for its unknown field, a 400)."""
    body = json.dumps({"padding": "x" * (2 * 1024 * 1024)})
    response = client.post(
        BOOK,
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('kodaira-group1')}"},
    )
    assert response.status_code == 400 and json.loads(response.content)["code"] == "bad_request"


@pytest.mark.parametrize("enforce_csrf", [True, False])
def test_page__3_mib_form__413_page(seeded, enforce_csrf):
    """Read by the CSRF check (a middleware) or by the view itself: the same 413 page, in the user's language."""
    client = Client(enforce_csrf_checks=enforce_csrf)
    client.force_login(user("kodaira-group1"))
    client.get("/kodaira/")
    response = client.post(
        "/kodaira/facilities/nakajima/favourite/",
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, "starred": "1", "next": "x" * THREE_MIB},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "<h1>Too much data</h1>" in page and "at most 2.5\xa0MB" in page
