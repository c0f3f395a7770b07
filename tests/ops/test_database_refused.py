"""PostgreSQL down (stopped, restarting, in crash recovery): a new connection is refused. The portal answers 503
with Retry-After on a page, the API and /ready/, never a 500, also when the failure comes from a middleware
(a logged-in visitor's session and user are loaded before any view runs), and works again once the server is
back. test_database_unavailable.py covers the other half: a connection killed while open.

The server is made unreachable for real: the portal's connection is closed and pointed at a port where nothing
listens, so the next query's connect() is refused by the operating system, as during a restart."""

import socket

import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from tests.factories import make_municipality

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql("refuses PostgreSQL connections"),
]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed: connect() is refused


@pytest.fixture
def database_down():
    """Call it to stop reaching the database; the real port comes back for the test database's teardown."""
    port = connection.settings_dict["PORT"]

    def down():
        connection.close()
        connection.settings_dict["PORT"] = closed_port()

    yield down
    connection.close()
    connection.settings_dict["PORT"] = port


@pytest.fixture
def browser():
    # A real server turns an uncaught exception into the handler500 page; the test client re-raises it unless told.
    return Client(raise_request_exception=False)


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.content[:300]
    assert response["Retry-After"] == "5"


def assert_page_and_api_unavailable(browser) -> None:
    """The home page says so in Japanese; the API answers its JSON error."""
    page = browser.get("/")
    assert_unavailable(page)
    assert "一時的に" in page.content.decode()
    api = browser.get("/api/v1/municipalities", HTTP_ACCEPT_LANGUAGE="en")
    assert_unavailable(api)
    assert api.json()["code"] == "unavailable"


def test_refused__page_api_and_ready_answer_503_then_recover(browser, database_down):
    make_municipality()
    database_down()
    assert_page_and_api_unavailable(browser)
    ready = browser.get("/ready/")
    assert_unavailable(ready)
    assert ready.json()["reason"] == "database_unreachable"
    assert "refused" in ready.json()["detail"]


def test_refused__logged_in_visitor__503_not_500(browser, database_down, admin_mfa_required):
    """Production's middleware loads the visitor's session and user (the administrators' second-factor check,
    accounts.middleware) before the view: the refused connection is raised there, outside any view."""
    user = User.objects.create_user(username="resident", password="x", municipality=make_municipality())
    browser.force_login(user)
    database_down()
    assert_page_and_api_unavailable(browser)


def test_refused__back_up__the_next_request_works(browser, database_down):
    make_municipality()
    real_port = connection.settings_dict["PORT"]
    database_down()
    assert_unavailable(browser.get("/api/v1/municipalities"))
    connection.settings_dict["PORT"] = real_port  # the server is back: no restart of the portal needed
    response = browser.get("/api/v1/municipalities")
    assert response.status_code == 200
    assert [m["slug"] for m in response.json()] == ["testville"]
