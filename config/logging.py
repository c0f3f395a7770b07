"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to (issue #9).

- ``request_id`` is a context variable set by ``config.middleware.RequestIdMiddleware`` for the duration of a
  request (the client's or load balancer's ``X-Request-ID`` when it is a sane token, else a new one) and put on
  the response. ``RequestIdFilter`` copies it onto every log record, so any ``logger.info(...)`` anywhere in the
  request — Django's own ``django.request`` errors, allauth, the booking services — carries it. Outside a
  request (the django-q2 worker, management commands) it is ``"-"``.
- ``JsonFormatter`` is python-json-logger's formatter with fixed field names: ``time`` (ISO 8601, UTC),
  ``level``, ``logger``, ``message``, ``request_id`` and whatever ``extra={...}`` a call passes (the access line
  adds method, path, status, duration_ms).

- ``RedactSecretsFilter`` (on every handler, like the request id) cuts the secret part out of capability URLs and
  tokens before a line is written, in both formats: calendar-feed keys, allauth's password-reset and
  e-mail-confirmation keys, personal API tokens anywhere in a line, and query-string values of names such as
  ``token``, ``key``, ``code``, ``password``. Their public parts (a feed's or token's look-up prefix, the reset
  link's user part) stay, so an operator can still tell which feed or token a line is about.

The settings choose JSON in production (``DJANGO_LOG_FORMAT=json``, the default when ``DJANGO_ENV=production``)
and plain text elsewhere, so the demo's console stays readable.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
import uuid

from pythonjsonlogger.json import JsonFormatter as _BaseJsonFormatter

NO_REQUEST = "-"
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("yoyaku_request_id", default=NO_REQUEST)

# An incoming X-Request-ID is reused only when it cannot smuggle anything into a log line or a header.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:@+/=-]{1,128}$")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header_value: str | None) -> str:
    """The id to use for a request: the incoming header when it is a sane token, else a fresh one."""
    if header_value and _SANE_ID.match(header_value):
        return header_value
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (the current request's id, or "-") to every record passing the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


REDACTED = "[redacted]"
# Characters that end a URL path segment or a token inside a log line (also JSON's and repr's quotes).
_END = r"""/?#\s"'<>\\"""
# (pattern, replacement): each keeps the non-secret part in group 1 (and the suffix in group 2 where there is one).
_SECRET_PATTERNS = [
    # Calendar feeds, reservations/urls.py "calendar/<key>.ics": the key is <12-hex prefix>_<secret>.
    (re.compile(rf"(/calendar/(?:[0-9a-f]{{12}}_)?)[^{_END}]+?(\.ics)"), rf"\g<1>{REDACTED}\g<2>"),
    # allauth's password reset "password/reset/key/<uidb36>-<key>/" (its "<uidb36>-set-password/" holds none).
    (re.compile(rf"(/password/reset/key/[0-9A-Za-z]+-)(?!set-password/)[^{_END}]+"), rf"\g<1>{REDACTED}"),
    # allauth's e-mail confirmation "confirm-email/<key>/".
    (re.compile(rf"(/confirm-email/)[^{_END}]+"), rf"\g<1>{REDACTED}"),
    # Personal API tokens (accounts.models: yoyaku_<12-hex prefix>_<secret>) and feed keys outside their URL.
    (re.compile(r"(\b(?:yoyaku_)?[0-9a-f]{12}_)[A-Za-z0-9_-]{20,}"), rf"\g<1>{REDACTED}"),
    (re.compile(r"(\byoyaku_)(?![0-9a-f]{12}_\[)[A-Za-z0-9_-]{20,}"), rf"\g<1>{REDACTED}"),
    # Query-string values of secret-sounding names: ?token=, &api_key=, ?code=, &password=, ?secret=.
    (
        re.compile(rf"([?&;](?:[\w.-]*[_.-])?(?:token|key|code|password|secret)=)[^&;{_END}]*", re.IGNORECASE),
        rf"\g<1>{REDACTED}",
    ),
]


def redact(text: str) -> str:
    """``text`` with the secret parts of capability URLs and tokens replaced by "[redacted]"."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# The attributes every LogRecord has; anything else on a record is an ``extra={...}`` field (e.g. the access
# line's ``path``) and is redacted too.
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class RedactSecretsFilter(logging.Filter):
    """Redacts the message (formatted with its args), string extras and the traceback of every record passing the
    handler (``redact``). A capability URL in a log is as good as the key: logs are read by more people and kept
    longer than the database's SHA-256 digests."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), ()
        for name, value in vars(record).items():
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        if record.exc_info:
            # Formatted once here, so that both formatters print the redacted text (they reuse exc_text).
            record.exc_text = redact(record.exc_text or logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(_BaseJsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, then any extra fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)  # Japanese messages stay readable
        kwargs.setdefault(
            "reserved_attrs",
            # The standard LogRecord attributes that are not wanted as fields (the ones kept are renamed below).
            [
                "args",
                "created",
                "exc_text",
                "filename",
                "funcName",
                "levelno",
                "lineno",
                "module",
                "msecs",
                "msg",
                "pathname",
                "process",
                "processName",
                "relativeCreated",
                "stack_info",
                "thread",
                "threadName",
                "taskName",
                "exc_info",
                "levelname",
                "name",
                "message",
                "asctime",
                # Django's django.request/django.server records carry the request and socket objects.
                "request",
                "server_time",
                "status_code",
            ],
        )
        super().__init__(*args, **kwargs)

    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_record["time"] = dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds")
        log_record["level"] = record.levelname
        log_record["logger"] = record.name
        log_record["message"] = record.getMessage()
        log_record["request_id"] = getattr(record, "request_id", request_id.get())
        super().add_fields(log_record, record, message_dict)
        if record.exc_info and "exc_info" not in log_record:
            log_record["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text and "exc_info" not in log_record:  # formatted (and redacted) by RedactSecretsFilter
            log_record["exc_info"] = record.exc_text
        status = getattr(record, "status_code", None)  # set by the access log's extra=
        if status is not None and "status" not in log_record:
            log_record["status"] = status


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def logging_config(*, json_lines: bool, level: str, request_level: str, access_log: bool) -> dict:
    """The LOGGING dict for config/settings.py (also used for gunicorn's own loggers by config/gunicorn.py)."""
    formatter = {"()": "config.logging.JsonFormatter"} if json_lines else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "config.logging.RequestIdFilter"},
            "redact_secrets": {"()": "config.logging.RedactSecretsFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            # Every handler has both filters (a handler added here must list them too).
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id", "redact_secrets"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django logs every 4xx answer as a warning. A refused or "just taken" booking is an expected answer,
            # and at the 9:00 rush writing a line per refusal costs CPU the bookings need; server errors are
            # still logged.
            "django.request": {"level": request_level},
            # One line per request (config.middleware.RequestIdMiddleware): on by default in production only.
            "yoyaku.access": {"level": "INFO" if access_log else "WARNING"},
        },
    }
