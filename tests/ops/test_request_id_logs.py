"""Structured JSON logs with a request id: config/logging.py, config.middleware.RequestIdMiddleware."""

import io
import json
import logging

import pytest
from django.db import connection

from config.logging import JsonFormatter, RequestIdFilter, logging_config, request_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The production handler (JSON formatter + request-id filter) on the root logger, the access line on."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root, access = logging.getLogger(), logging.getLogger("yoyaku.access")
    old_access_level = access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    finally:
        root.removeHandler(handler)
        access.setLevel(old_access_level)


def test_response_carries_a_new_request_id(client):
    first, second = client.get("/health/"), client.get("/health/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_incoming_request_id_is_kept(client):
    response = client.get("/health/", HTTP_X_REQUEST_ID="lb-7f3a.42")
    assert response["X-Request-ID"] == "lb-7f3a.42"


@pytest.mark.parametrize("bad", ["has space", 'quote"', "x" * 129, "改行", ""])
def test_unusable_incoming_request_id_is_replaced(client, bad):
    response = client.get("/health/", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


def test_every_log_record_of_a_request_carries_its_id(client, json_log, settings):
    """Records from other components during the request (here: Django's SQL log of the page's queries) and the
    access line all carry the request's id; one JSON object per line."""
    db_logger = logging.getLogger("django.db.backends")
    old_level = db_logger.level
    db_logger.setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # Django logs each query at DEBUG (what DEBUG=True would do)
    try:
        response = client.get("/kodaira/", HTTP_X_REQUEST_ID="req-abc123")
    finally:
        connection.force_debug_cursor = False
        db_logger.setLevel(old_level)
    assert response.status_code in (200, 404)
    records = json_log()
    sql = [r for r in records if r["logger"] == "django.db.backends"]
    assert sql and all(r["request_id"] == "req-abc123" for r in sql)
    access = [r for r in records if r["logger"] == "yoyaku.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "req-abc123"
    assert access[0]["path"] == "/kodaira/" and access[0]["method"] == "GET"
    assert access[0]["status"] == response.status_code
    assert isinstance(access[0]["duration_ms"], float)
    assert {"time", "level", "logger", "message"} <= set(access[0])


def test_outside_a_request_the_id_is_a_dash(json_log):
    logging.getLogger("reservations.jobs").warning("job ran late")
    (record,) = [r for r in json_log() if r["logger"] == "reservations.jobs"]
    assert record["request_id"] == "-"
    assert request_id.get() == "-"


def test_json_line__japanese_readable_exception_and_extras():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("枠が\nありません")
        except ValueError:
            logger.exception("予約に失敗 %s", "K-FC-3", extra={"booking_id": 42})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1  # the newline inside the exception stays inside the JSON string
    assert "予約に失敗" in lines[0]  # not \\u escapes
    record = json.loads(lines[0])
    assert record["message"] == "予約に失敗 K-FC-3"
    assert record["level"] == "ERROR"
    assert record["booking_id"] == 42
    assert "ValueError" in record["exc_info"]


def test_logging_config_text_and_json():
    assert logging_config(json_lines=True, level="INFO", request_level="ERROR", access_log=True)["formatters"][
        "default"
    ] == {"()": "config.logging.JsonFormatter"}
    text = logging_config(json_lines=False, level="INFO", request_level="ERROR", access_log=False)
    assert "%(request_id)s" in text["formatters"]["default"]["format"]
    assert text["loggers"]["yoyaku.access"]["level"] == "WARNING"
