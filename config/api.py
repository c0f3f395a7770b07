"""The JSON API (django-ninja): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Every error is JSON ``{"code": "...", "message": "..."}`` in the request's language — also for malformed input
(400 instead of ninja's 422), unknown addresses under /api/v1/ (404), wrong methods (405) and unexpected failures
(500). The operations live in each app's ``api.py`` (reservations/api.py: facilities, availability, bookings;
facilities/api.py: favourites; reservations/alert_api.py: cancellation alerts; accounts/api.py: /me and
notifications; lottery/api.py: lottery applications), registered below; authentication in ``accounts/auth.py``.
"""

import functools
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponseNotAllowed
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer

from config.middleware import RETRY_AFTER_SECONDS
from reservations import services
from reservations.api import ApiError, bookings, public

logger = logging.getLogger(__name__)

DESCRIPTION = """
Facility reservations for Japanese municipalities (Kodaira, Shiroi, Tamba, …).

**Authentication.** Either a personal API token — create one at `/accounts/tokens/` (shown once; only its SHA-256
is stored) and send `Authorization: Bearer yoyaku_…` — or the browser session of a logged-in user. With the
session, requests that change something (POST) need Django's CSRF token in an `X-CSRFToken` header. A Bearer
header with an unknown or revoked token is always a 401. Availability is public; a token or session adds, per
slot, whether you could book it.

**Tenancy.** Every address but `/me` names its municipality. Anything of another municipality — a unit, a
facility, a booking, an alert, a lottery application — is a 404 there, as are other users' bookings, alerts and
applications. `/reservations`, `/lottery/applications`, `/watches` and `/notifications` are for resident accounts
registered with that municipality: another municipality's account gets 403 `not_registered_here`, a staff account
403 `staff_account` (staff book for residents through the counter console). `/favourites` and `/me` take any
resident account — as on the pages, a resident may star another municipality's facilities — and answer a staff
account 403 `staff_account` too.

**Errors** are JSON `{"code", "message"}`, the message in the request's language (`Accept-Language`; Japanese by
default):

"""

# The table of errors, one row a status; joined into Markdown rows below (a table row cannot wrap).
ERROR_ROWS = [
    (
        "400",
        "`bad_request`, `range_too_long`",
        "malformed input: not a date, naive datetime, end before start, wrong types, unknown fields, unreadable JSON "
        "(`errors` lists the details)",
    ),
    (
        "401",
        "`not_authenticated`, `invalid_token`",
        "no credentials; a token that is unknown, revoked or expired, or whose account is withdrawn or its "
        'registration expired (the message says "expired" to the token\'s holder)',
    ),
    (
        "403",
        "`not_registered_here`, `staff_account`, `csrf_failed`, `mfa_required`",
        "see Tenancy; a session POST without CSRF token; a token or session of an administrator who has not set up "
        "the second factor the portal requires of them",
    ),
    (
        "404",
        "`not_found`",
        "unknown municipality, unit, facility, booking, alert, lottery application, address; another municipality's "
        "or user's",
    ),
    ("405", "`method_not_allowed`", "a method the address does not take (the `Allow` header lists those it does)"),
    ("409", "`slot_taken`", "someone holds (one of) the slots"),
    ("413", "`too_large`", "a request body larger than the server accepts (2.5 MB)"),
    (
        "422",
        "a rule id (`K-FC-1`, `S-FC-2`, `K-LOT-2`, `S-LOT-5`, `T-APP-3`, `T-USE-1`, `X-2`, …), or where no municipal "
        "rule applies a short code (`slot_past`, `alerts_limit`, …)",
        "a booking or lottery rule, or an alert's limit or check, refuses; `refusals` lists every refusal, the first "
        "being `code`/`message`",
    ),
]
DESCRIPTION += "| status | code | when |\n|---|---|---|\n" + "".join(f"| {s} | {c} | {w} |\n" for s, c, w in ERROR_ROWS)


class YoyakuAPI(NinjaAPI):
    def _get_urls(self):
        urls = super()._get_urls()
        for pattern in urls:
            # ninja's root raises an HTML 404; say where things are instead (every URL ninja gives is a pattern)
            if pattern.name == "api-root":  # type: ignore[union-attr]
                pattern.callback = functools.partial(_root, api=self)
            pattern.callback = _json_method_not_allowed(self, pattern.callback)
        return urls


def _root(request, api, **kwargs):
    return api.create_response(
        request,
        {
            "title": api.title,
            "version": api.version,
            "docs": f"{request.path}{api.docs_url.lstrip('/')}",
            "openapi": f"{request.path}{api.openapi_url.lstrip('/')}",
        },
        status=200,
    )


def _json_method_not_allowed(api, view):
    """ninja answers a wrong method with a plain-text 405; give the JSON error body instead."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = api.create_response(
                request,
                {
                    "code": "method_not_allowed",
                    "message": _("This address accepts only: %(methods)s.") % {"methods": allowed},
                },
                status=405,
            )
            response["Allow"] = allowed
        return response

    return wrapper


class Utf8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}  # 小平市, not \u5c0f\u5e73\u5e02 (the response says charset=utf-8)


api = YoyakuAPI(
    title="Yoyaku API", version="1", urls_namespace="api", description=DESCRIPTION, renderer=Utf8JSONRenderer()
)
api.add_router("", public)
api.add_router("", bookings)
api.add_router("", "facilities.api.favourite_router")
api.add_router("", "reservations.alert_api.watch_router")
api.add_router("", "accounts.api.account")
api.add_router("", "lottery.api.lottery_router")


def error(request, status: int, code: str, message, **extra):
    return api.create_response(request, {"code": code, "message": str(message), **extra}, status=status)


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return api.create_response(request, exc.body(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = [{"loc": [str(part) for part in e.get("loc", ())], "message": str(e.get("msg", ""))} for e in exc.errors]
    summary = "; ".join(f"{'.'.join(d['loc'])}: {d['message']}" for d in details)
    return error(
        request,
        400,
        "bad_request",
        _("The request is not in the expected form: %(details)s") % {"details": summary},
        errors=details,
    )


@api.exception_handler(Http404)
def on_not_found(request, exc: Http404):
    # Our selectors raise Http404 with a message for people; Django's own carry other things.
    message = exc.args[0] if exc.args and isinstance(exc.args[0], (str, Promise)) else _("Not found.")
    return error(request, 404, "not_found", message)


STATUS_CODES = {400: "bad_request", 401: "not_authenticated", 403: "forbidden", 404: "not_found", 429: "throttled"}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = getattr(exc, "code", None) or STATUS_CODES.get(exc.status_code, "error")
    if type(exc) is AuthenticationError:
        message = _("Log in, or send a personal API token: Authorization: Bearer <token>.")
    elif exc.status_code == 400:
        message = _("The request is not in the expected form: %(details)s") % {"details": exc.message}
    else:
        message = exc.message
    response = error(request, exc.status_code, code, message)
    if exc.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="yoyaku"'
    return response


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    """The database cannot be reached (config.middleware explains why this is a 503, not a 500)."""
    return database_unavailable(request)


def database_unavailable(request):
    """Also config.views.server_error's answer for /api/ when a middleware met the unreachable database."""
    response = error(
        request,
        503,
        "unavailable",
        _(
            "The portal cannot reach its database at the moment. Nothing was "
            "changed. Please try again in a few seconds."
        ),
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(RequestDataTooBig)
def on_too_large(request, exc):
    return too_large(request)


def too_large(request):
    """Also config.views.bad_request's answer for /api/ when a middleware read the oversized body first."""
    size = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE).replace("\xa0", " ")
    return error(
        request, 413, "too_large", _("The request is too large: at most %(size)s are accepted.") % {"size": size}
    )


@api.exception_handler(services.SlotTaken)
def on_slot_taken(request, exc: services.SlotTaken):
    first = exc.refusals[0]
    return error(request, 409, first.code, first.message)


# Refusals about who is asking rather than what is asked: 403, like the API's own membership check.
FORBIDDEN_REFUSALS = {"not_registered_here", "staff_account"}


@api.exception_handler(services.BookingRefused)
def on_booking_refused(request, exc: services.BookingRefused):
    first = exc.refusals[0]
    status = 403 if first.code in FORBIDDEN_REFUSALS else 422
    return error(request, status, first.code, first.message, refusals=[r.as_dict() for r in exc.refusals])


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    return error(request, 500, "server_error", _("Something went wrong on our side. Please try again later."))


# Last: any other address under /api/v1/ is a JSON 404, not the HTML page.
fallback = Router()


@fallback.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], "/{path:rest}", include_in_schema=False)
def unknown_address(request, rest: str):
    raise Http404(_("There is no such address in the API."))


api.add_router("", fallback)
