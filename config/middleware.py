"""Answer 503 (with Retry-After) while the database cannot be reached, instead of a 500.

Persistent connections are not health-checked before each request (that check is a round trip on every request,
and the 9:00 rush needs it for bookings). When PostgreSQL has restarted, the first request on a dead connection
fails here with 503; Django then closes that connection, and the next request opens a fresh one: the portal
recovers by itself, and nothing was written by the failed request (its transaction never committed).
"""

import logging
import time

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.gzip import GZipMiddleware
from django.template import loader

from config import logging as yoyaku_logging

RETRY_AFTER_SECONDS = 5
DATABASE_DOWN = (OperationalError, InterfaceError)


def unavailable_response() -> HttpResponse:
    # No context processors and no database: the page must render while the database is down.
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_DOWN):
            return unavailable_response()
        return None


access_logger = logging.getLogger("yoyaku.access")


class RequestIdMiddleware:
    """Gives every request an id (issue #9): the incoming ``X-Request-ID`` when it is a sane token (a load
    balancer's or a client's), else a new one. The id is on the response's ``X-Request-ID`` header and, through
    ``config.logging.RequestIdFilter``, in every log record written while the request runs. When the
    ``yoyaku.access`` logger is on (production's default) it also writes one access line per request, with
    method, path, status and duration, in place of gunicorn's plain-text access log (secrets in the path, such as a
    calendar-feed key, are cut out by config.logging.RedactSecretsFilter on every handler).

    First in MIDDLEWARE, so that the other middleware's log records carry the id too. It costs a context-variable
    set and reset per request (a few microseconds; no database)."""

    HEADER = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = yoyaku_logging.request_id_from(request.META.get(self.HEADER))
        request.request_id = rid
        token = yoyaku_logging.request_id.set(rid)
        try:
            if access_logger.isEnabledFor(logging.INFO):
                started = time.perf_counter()
                response = self.get_response(request)
                access_logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            else:
                response = self.get_response(request)
            response["X-Request-ID"] = rid
            return response
        finally:
            yoyaku_logging.request_id.reset(token)


class CompressionMiddleware(GZipMiddleware):
    """gzip for pages and the API (issue #21 item 8): a week grid or a search page shrinks to about a fifth.

    BREACH: an attacker who can put text into a compressed response beside a secret, and watch the response's size,
    can guess the secret a character at a time. Django's GZipMiddleware pads each response with random bytes ("Heal
    the Breach"), and Django masks the CSRF token anew in every response, so the token on a form is not such a secret.
    Pages that show a real secret are not compressed at all (``NOT_COMPRESSED``): everything under /accounts/ (log-in,
    password, second factor, API tokens, recovery, notifications with reset links), the admin, and the calendar-feed
    pages and files (the feed's secret address). docs/security/deployment.md ("Compression and BREACH") says why.
    """

    NOT_COMPRESSED = ("/accounts/", "/admin/")

    def process_response(self, request, response):
        path = request.path
        if path.startswith(self.NOT_COMPRESSED) or "/my/calendar/" in path or path.endswith(".ics"):
            return response
        return super().process_response(request, response)
