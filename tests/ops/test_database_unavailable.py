"""PostgreSQL restarted under a running portal: its persistent connections die. The request that finds its
connection dead gets 503 with Retry-After (a page or a JSON error), never a 500, and the next request works
again by itself (config.middleware, config.api). The connection is killed for real, from another session."""

import psycopg
import pytest
from django.db import close_old_connections, connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql("kills a PostgreSQL server process"),
]


@pytest.fixture(autouse=True)
def reconnect_afterwards():
    yield
    connection.close()  # the test database flush after the test needs a live connection


def end_of_request() -> None:
    """What Django runs when a request finishes (request_finished signal); its test client skips it."""
    close_old_connections()


def kill_portal_connection() -> None:
    """What a PostgreSQL restart does to the portal's open connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_page__connection_killed__503_then_recovers(client, settings):
    settings.CONN_MAX_AGE = 60  # persistent connections, as in production
    assert client.get("/").status_code == 200
    kill_portal_connection()
    response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "一時的に" in response.content.decode()
    end_of_request()
    assert client.get("/").status_code == 200  # reconnected by itself


def test_api__connection_killed__json_503_then_recovers(client, settings):
    settings.CONN_MAX_AGE = 60
    assert client.get("/api/v1/municipalities").status_code == 200
    kill_portal_connection()
    response = client.get("/api/v1/municipalities", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable"
    assert "database" in response.json()["message"]
    end_of_request()
    assert client.get("/api/v1/municipalities").status_code == 200
