"""Administrators need a second factor (issue #6, item 3): a municipal administrator (``staff_role`` administrator)
or an operator (superuser) without an active TOTP authenticator (allauth.mfa) is sent to set one up before any
page of ``/admin/`` or of a counter console (``/<municipality>/counter/…``). Clerks may add TOTP; residents are
not asked. Once TOTP is active, allauth asks for a code at every log-in, so every later session has both factors.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

PROTECTED_PATH = re.compile(r"^/(admin/|[^/]+/counter/)")


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class AdministratorMfaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            settings.YOYAKU_ADMIN_MFA_REQUIRED
            and user is not None
            and user.is_authenticated
            and PROTECTED_PATH.match(request.path_info)
            and user.is_administrator
            and not has_totp(user)
        ):
            messages.warning(request, _(
                "Administrators must use a second factor: set up an authenticator app (TOTP) before you continue."
            ))
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
