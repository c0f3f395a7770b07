"""Answer 503 (with Retry-After) while the database cannot be reached, instead of a 500.

Persistent connections are not health-checked before each request (that check is a round trip on every request,
and the 9:00 rush needs it for bookings). When PostgreSQL has restarted, the first request on a dead connection
fails here with 503; Django then closes that connection, and the next request opens a fresh one: the portal
recovers by itself, and nothing was written by the failed request (its transaction never committed).
"""

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader

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
