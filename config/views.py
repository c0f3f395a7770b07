import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.template.defaultfilters import filesizeformat
from django.views import defaults

from config.middleware import DATABASE_DOWN, unavailable_response


def health(request):
    """Liveness: the process answers. Also the trivial view the benchmarks compare against."""
    return JsonResponse({"status": "ok"})


def server_error(request):
    """handler500. DatabaseUnavailableMiddleware turns a view's database error into a 503, but a middleware's
    never reaches it: Django turns an exception raised in a middleware into this handler's answer, within the
    ``except`` block that caught it. A logged-in visitor's session and user are loaded by middleware before any
    view (accounts.middleware checks every signed-in user for administrators' second factor; the session is saved
    on the way out), so while PostgreSQL is down or restarting that visitor would get a 500. The same 503 with
    Retry-After here: JSON for the API, the 503 page elsewhere."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        if request.path.startswith("/api/"):
            from config.api import database_unavailable

            return database_unavailable(request)
        return unavailable_response()
    # No context processors: the page must render even when the database is down.
    return HttpResponseServerError(loader.get_template("500.html").render())


def bad_request(request, exception):
    """handler400. Django answers every SuspiciousOperation with 400; a body over DATA_UPLOAD_MAX_MEMORY_SIZE is
    one (read by the CSRF check or the view), but it is not malformed: 413, JSON for the API, a page elsewhere."""
    if isinstance(exception, RequestDataTooBig):
        if request.path.startswith("/api/"):
            from config.api import too_large

            return too_large(request)
        return render(request, "413.html", {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, status=413)
    return defaults.bad_request(request, exception)
