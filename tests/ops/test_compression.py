"""HTML compressed, but not where a page shows a secret (issue #21 item 8; BREACH:
docs/security/deployment.md#7-compression-and-breach). The test client asks for gzip explicitly, as a browser does."""

import gzip

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_public_pages_are_gzipped_for_browsers_that_ask(client, seeded):
    response = client.get("/kodaira/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content).decode()
    assert "<html" in html and len(response.content) < len(html) / 2


def test_not_compressed_without_accept_encoding(client, seeded):
    response = client.get("/kodaira/")
    assert not response.has_header("Content-Encoding") and b"<html" in response.content


@pytest.mark.parametrize(
    ("path", "logged_in"), [("/accounts/login/", False), ("/accounts/tokens/", True), ("/kodaira/my/calendar/", True)]
)
def test_pages_with_secrets_are_never_compressed(client, seeded, path, logged_in):
    if logged_in:
        client.force_login(User.objects.get(username="kodaira-group1"))
    response = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200, path
    assert not response.has_header("Content-Encoding"), path
