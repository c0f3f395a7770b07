"""Capability URLs and tokens never reach a log line whole (config.logging.RedactSecretsFilter): real requests
— a calendar feed, a password reset from its e-mailed link, the API with a token, 404s under such addresses —
with the access log on and Django's 404 warnings on, through the very handler config/logging.py builds, in the
JSON and the text format; then the captured output is searched for every secret."""

import io
import json
import logging
import logging.config

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str

from config import gunicorn as gunicorn_config
from config.logging import REDACTED, logging_config, redact
from reservations.calendar_feed import issue_feed
from tests.api.conftest import token_for
from tests.reservations.booking_helpers import user

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["json", "text"])
def production_log(request, settings):
    """The handlers of config/logging.py (as in production: access lines on; 404s logged too) writing to a
    string; the test settings' logging is restored afterwards."""
    stream = io.StringIO()
    config = logging_config(json_lines=request.param == "json", level="INFO", request_level="WARNING", access_log=True)
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        yield stream.getvalue
    finally:
        logging.config.dictConfig(settings.LOGGING)


def assert_none_in(log: str, secrets: list[str]):
    for secret in secrets:
        assert secret not in log, f"{secret!r} is in the log:\n{log}"


def test_calendar_feed_key__only_its_prefix_is_logged(client, seeded, production_log):
    row, key = issue_feed(user=user("kodaira-group1"))
    secret = key.split("_", 1)[1]
    assert client.get(f"/kodaira/calendar/{key}.ics").status_code == 200
    assert client.get(f"/shiroi/calendar/{key}.ics").status_code == 404  # another municipality's address
    assert client.get(f"/kodaira/calendar/{key[:-1]}.ics").status_code == 404  # a mistyped key
    log = production_log()
    assert_none_in(log, [secret, secret[:-1]])
    assert log.count(f"/calendar/{row.prefix}_{REDACTED}.ics") >= 4  # 3 access lines, 2 "Not Found" warnings


def test_password_reset_key__never_logged(client, seeded, production_log):
    owner = user("kodaira-group1")
    key = default_token_generator.make_token(owner)
    uid = user_pk_to_url_str(owner)
    response = client.get(f"/accounts/password/reset/key/{uid}-{key}/")
    assert response.status_code == 302 and response["Location"].endswith(f"/{uid}-set-password/")
    assert client.get(response["Location"]).status_code == 200
    assert client.get(f"/accounts/password/reset/key/{uid}-{key}x/").status_code == 200  # "link invalid" page
    assert client.get(f"/accounts/confirm-email/{key}/").status_code == 200  # "link invalid" page
    log = production_log()
    assert_none_in(log, [key, key.split("-", 1)[1]])
    assert f"/accounts/password/reset/key/{uid}-{REDACTED}/" in log
    assert f"/accounts/password/reset/key/{uid}-set-password/" in log  # no secret in that one: kept
    assert f"/accounts/confirm-email/{REDACTED}/" in log


def test_api_token__never_logged(client, seeded, production_log):
    token = token_for("kodaira-group1")
    prefix, secret = token.split("_")[1], token.split("_", 2)[2]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/kodaira/reservations", headers=headers).status_code == 200
    assert client.get(f"/api/v1/kodaira/reservations/{token}", headers=headers).status_code == 404  # pasted into a path
    assert client.get(f"/kodaira/{token}/").status_code == 404
    # gunicorn's access log (off by default; GUNICORN_CMD_ARGS=--access-logfile - turns it on) prints the request
    # line with its query string through the same handler.
    logging.getLogger("gunicorn.access").info(
        '%s "%s" %s', "203.0.113.9", f"GET /api/v1/kodaira/reservations?token={token}&key=k3y HTTP/1.1", 401
    )
    log = production_log()
    assert_none_in(log, [secret, "k3y"])
    assert f"yoyaku_{prefix}_{REDACTED}" in log and f"?token={REDACTED}&key={REDACTED}" in log


@pytest.mark.parametrize("production_log", ["json"], indirect=True)
def test_json_lines__path_field_and_message_both_redacted(client, seeded, production_log):
    _row, key = issue_feed(user=user("kodaira-group1"))
    client.get(f"/kodaira/calendar/{key}.ics")
    records = [json.loads(line) for line in production_log().splitlines() if line.startswith("{")]
    (access,) = [r for r in records if r["logger"] == "yoyaku.access"]
    assert access["path"] == f"/kodaira/calendar/{key.split('_')[0]}_{REDACTED}.ics"
    assert access["message"] == f"GET {access['path']} 200"


def test_traceback__redacted(production_log):
    try:
        raise ValueError("bad feed /kodaira/calendar/0123456789ab_s3cr3tS3CR3Ts3cr3tS3CR3T.ics")
    except ValueError:
        logging.getLogger("reservations.feed_views").exception("failed")
    log = production_log()
    assert "s3cr3t" not in log and "ValueError: bad feed /kodaira/calendar/0123456789ab_[redacted].ics" in log


def test_every_handler_redacts__django_and_gunicorn():
    from django.conf import settings

    for config in (settings.LOGGING, gunicorn_config.logconfig_dict):
        for name, handler in config["handlers"].items():
            assert "redact_secrets" in handler.get("filters", []), name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/kodaira/calendar/nonsense.ics", f"/kodaira/calendar/{REDACTED}.ics"),
        ("/kodaira/my/bookings/3/calendar.ics", "/kodaira/my/bookings/3/calendar.ics"),
        ("/kodaira/my/calendar/issue/", "/kodaira/my/calendar/issue/"),
        (
            "?page=2&api_key=a&code=b;PASSWORD=c&x_token=d#top",
            f"?page=2&api_key={REDACTED}&code={REDACTED};PASSWORD={REDACTED}&x_token={REDACTED}#top",
        ),
        ("?keyword=tennis&postcode=187", "?keyword=tennis&postcode=187"),
        ("Bearer yoyaku_oops_AbCdEfGhIjKlMnOpQrStUvWx", f"Bearer yoyaku_{REDACTED}"),
    ],
)
def test_redact__examples(text, expected):
    assert redact(text) == expected
