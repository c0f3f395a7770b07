"""Sessions of staff: the second factor that the policy requires, and the end of an idle working day.

**Second factor (allauth.mfa).** A user the policy requires a second factor of (``YOYAKU_MFA_REQUIRED_ROLES``:
administrators and operators; a deployment may add clerks) and who has no active TOTP authenticator may reach
only what it takes to set one up: log-in, log-out, allauth's MFA pages (``/accounts/2fa/…``) and the password
reauthentication that allauth asks before adding a factor, language switching, static files and the health
probes. Every other page sends them to the TOTP set-up, and the JSON API answers 403 ``mfa_required`` (a token of
such a user is refused the same way, accounts/auth.py). An allow-list, not a list of protected pages: a new page
that shows other people's data (a permit, an export) is covered without anyone remembering to add it. Once TOTP is
active, allauth asks for a code at every log-in, so every later session has both factors.

**Idle staff sessions.** A staff member's session (clerk, administrator, operator) ends after
``YOYAKU_STAFF_IDLE_HOURS`` without a request; residents keep Django's normal session length.
"""

import datetime as dt
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from config import clock

# Where the TOTP set-up was started from: the recovery codes page links back to it (templates/mfa/recovery_codes).
MFA_NEXT_SESSION_KEY = "yoyaku_mfa_next"

# Second factor ------------------------------------------------------------------------------------------------------


def staff_roles(user) -> set[str]:
    """The roles of ``user`` that ``YOYAKU_MFA_REQUIRED_ROLES`` names: operator (superuser), administrator, clerk."""
    roles = set()
    if user.is_superuser:
        roles.add("operator")
    if user.account_kind == user.AccountKind.STAFF:
        roles.add("administrator" if user.staff_role == user.StaffRole.ADMINISTRATOR else "clerk")
    return roles


def mfa_required(user) -> bool:
    return settings.YOYAKU_ADMIN_MFA_REQUIRED and bool(staff_roles(user) & set(settings.YOYAKU_MFA_REQUIRED_ROLES))


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def lacks_required_mfa(user) -> bool:
    return mfa_required(user) and not has_totp(user)


def mfa_required_message() -> str:
    return _("Administrators must use a second factor: set up an authenticator app (TOTP) before you continue.")


@cache
def _open_paths() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact paths, path prefixes) a user without the required second factor may still reach."""
    exact = frozenset(
        reverse(name)
        for name in (
            "account_login",
            "account_logout",
            "account_reauthenticate",
            "set_language",
            "health",
            "ready",
        )
    )
    return exact, (reverse("mfa_index"), settings.STATIC_URL)


def is_open_without_mfa(path: str) -> bool:
    exact, prefixes = _open_paths()
    return path in exact or path.startswith(prefixes)


class AdministratorMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.YOYAKU_ADMIN_MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and not is_open_without_mfa(request.path_info)
            and lacks_required_mfa(user)
        ):
            if request.path_info.startswith("/api/"):
                return JsonResponse(
                    {"code": "mfa_required", "message": mfa_required_message()},
                    status=403,
                    json_dumps_params={"ensure_ascii": False},
                )
            messages.warning(request, mfa_required_message())
            activate = reverse("mfa_activate_totp")
            if request.method == "GET":  # back here once TOTP is set up (the recovery codes' "Continue" link)
                return redirect(f"{activate}?{urlencode({'next': request.get_full_path()})}")
            return redirect(activate)
        if (
            user is not None
            and user.is_authenticated
            and request.method == "GET"
            and request.path_info == reverse("mfa_activate_totp")
            and request.GET.get("next")
            and url_has_allowed_host_and_scheme(request.GET["next"], allowed_hosts={request.get_host()})
        ):
            request.session[MFA_NEXT_SESSION_KEY] = request.GET["next"]
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code == 302
            and request.path_info == reverse("mfa_activate_totp")
            and user is not None
            and user.is_authenticated
            and has_totp(user)
        ):
            from accounts.credentials import MFA_SET_UP_AT_SESSION_KEY

            # The code typed seconds ago: the recovery codes that follow need no password (credentials.py).
            request.session[MFA_SET_UP_AT_SESSION_KEY] = clock.now().timestamp()
        return response


# Idle staff sessions ------------------------------------------------------------------------------------------------

LAST_SEEN_KEY = "yoyaku.staff_last_seen"  # epoch seconds of the staff member's last request (at most a minute old)
LAST_SEEN_PRECISION = dt.timedelta(minutes=1)  # the session is written at most once a minute, not on every request


def is_staff_member(user) -> bool:
    return user.is_superuser or user.account_kind == user.AccountKind.STAFF


def staff_session_starts(sender, request, user, **kwargs):
    """On log-in (user_logged_in, connected in AccountsConfig.ready)."""
    if is_staff_member(user):
        request.session[LAST_SEEN_KEY] = int(clock.now().timestamp())


class StaffIdleSessionMiddleware:
    """Ends a staff member's session after ``YOYAKU_STAFF_IDLE_HOURS`` without a request: the next request logs
    them out and sends them to log-in with a sentence saying why (an API request continues as anonymous: 401)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and is_staff_member(user):
            now = int(clock.now().timestamp())
            last_seen = request.session.get(LAST_SEEN_KEY, now)
            idle_limit = dt.timedelta(hours=settings.YOYAKU_STAFF_IDLE_HOURS)
            if now - last_seen >= idle_limit.total_seconds():
                return self._end(request, idle_limit)
            if now - last_seen >= LAST_SEEN_PRECISION.total_seconds() or LAST_SEEN_KEY not in request.session:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)

    def _end(self, request, idle_limit: dt.timedelta):
        logout(request)
        if request.path_info.startswith("/api/"):
            return self.get_response(request)  # the API answers an anonymous request itself (401 JSON)
        messages.info(
            request,
            _("You were logged out because your session was idle for %(hours)s hours. Please log in again.")
            % {"hours": settings.YOYAKU_STAFF_IDLE_HOURS},
        )
        return redirect_to_login(request.get_full_path())
