"""Authentication for the JSON API (django-ninja): personal API tokens and the Django session.

- ``ApiTokenAuth``: ``Authorization: Bearer yoyaku_<prefix>_<secret>`` (accounts.models.ApiToken). A Bearer header
  that does not name a working token (unknown, revoked, expired, or its account inactive or its registration
  expired) is a 401 ``invalid_token`` at once, even when a session cookie came along: a client that sends a token
  means that token. Tokens need no CSRF token (a browser never adds the header by itself). A token of a user who
  must use a second factor and has none yet is refused: 403 ``mfa_required``.
- ``SessionAuth``: the logged-in browser session. Unsafe methods (POST …) need Django's CSRF token
  (``X-CSRFToken`` header with the ``csrftoken`` cookie), as django-ninja requires for cookie authentication.
  Unlike ninja's ``django_auth``, a request without a logged-in session skips the CSRF check, so an anonymous
  or token client gets the honest 401 rather than a CSRF 403.

``API_AUTH`` is the list the operations use: token first, then session.
"""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from config import clock

from .middleware import lacks_required_mfa, mfa_required_message
from .models import ApiToken, TokenRefused


class InvalidToken(AuthenticationError):
    """401 ``invalid_token``. The message says why only to a caller who sent a whole, right secret (an expired
    token, an expired registration); anything else gets the one sentence for unknown, revoked or inactive."""

    code = "invalid_token"

    def __init__(self, refused: TokenRefused | None = None):
        super().__init__(401, _message(refused))


def _message(refused: TokenRefused | None) -> str:
    if refused is not None and refused.reason == "expired":
        until = clock.localtime(refused.until)
        return _("This API token expired at %(time)s (Japan time). Make a new one on the API tokens page.") % {
            "time": f"{until:%Y-%m-%d %H:%M}"
        }
    if refused is not None and refused.reason == "registration_expired":
        return _(
            "This API token's account is not registered for today (valid until %(date)s): tokens work again "
            "after the registration is renewed at a counter."
        ) % {"date": f"{refused.until:%Y-%m-%d}" if refused.until else "—"}
    return _("This API token is not valid: it is unknown, revoked, or its account is inactive.")


class CsrfFailed(HttpError):
    code = "csrf_failed"

    def __init__(self):
        super().__init__(
            403, _("Requests that change something with a session need a CSRF token (X-CSRFToken header).")
        )


class MfaRequired(HttpError):
    """A token of a user who must use a second factor and has not set one up (accounts/middleware.py refuses
    such a user's session the same way): a token must not be a way around the second factor."""

    code = "mfa_required"

    def __init__(self):
        super().__init__(403, mfa_required_message())


class ApiTokenAuth(HttpBearer):
    def __call__(self, request):
        header = request.headers.get(self.header)
        if not header:
            return None
        scheme, _sep, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None  # another scheme: not ours, let the session decide
        return self.authenticate(request, token.strip())

    def authenticate(self, request, token):
        try:
            user = ApiToken.objects.authenticate(token)
        except TokenRefused as refused:
            raise InvalidToken(refused) from None
        if lacks_required_mfa(user):
            raise MfaRequired()
        return user


class SessionAuth(APIKeyCookie):
    """Django's session, with ninja's CSRF check for unsafe methods (only when a session is logged in)."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed()
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request, key):
        return request.user if request.user.is_authenticated else None


class Anonymous:
    """Last in the list of an endpoint that anyone may call: lets the request through as AnonymousUser."""

    def __call__(self, request):
        return AnonymousUser()


API_AUTH = [ApiTokenAuth(), SessionAuth()]
OPTIONAL_AUTH = [ApiTokenAuth(), SessionAuth(), Anonymous()]


def api_user(request):
    """The user the API request is authenticated as (AnonymousUser on public endpoints without credentials)."""
    return getattr(request, "auth", None) or AnonymousUser()
