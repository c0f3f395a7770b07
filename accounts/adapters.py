import hashlib

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied

from accounts import breaker, throttle


class NoOpenSignupAdapter(DefaultAccountAdapter):
    """Accounts are registered following each municipality's rules (K-REG-1 at the counter, S-REG-1 with an
    identity check, T-REG-1 with a card), never by an open sign-up form.

    Log-in goes through ``accounts.throttle`` (issue #6; 4-digit PINs, K-REG-1 Interpretation): every attempt is
    checked and counted in ``pre_authenticate`` before the password is tried, refunded when it was right, and a
    repeated failure may notify the user (``authentication_failed``). While the site-wide breaker
    (``accounts.breaker``) is on, an attempt from an unknown device is sent to an e-mailed one-time code instead,
    before any password is checked; every failed log-in is counted for the breaker. allauth's own per-key lock-out
    (``login_failed``, 5 failures in 5 minutes for anyone) is switched off in settings: that is the Kawasaki rule.
    """

    def is_open_for_signup(self, request):
        return False

    # allauth's own e-mails go through the outbox --------------------------------------------------------------

    def send_mail(self, template_prefix, email, context):
        """Every e-mail allauth sends (password reset K-REG-4, "no account uses this address", address
        confirmation, notifications) is rendered in the user's language (the request's language when no account
        is known), stored as an ``accounts.Notice`` (kind ``account_email``) and sent by the outbox
        (accounts/notify.py: after commit, retried by the ``accounts.deliver_notices`` job).

        Once per event: the key is the mail's template and a digest of the address and of what makes the event
        (the reset link, the confirmation key, the code), so the same event is never stored or sent twice. The
        answer to the request is the same whether or not the address is known (``ACCOUNT_PREVENT_ENUMERATION``):
        both paths store and send one mail."""
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site
        from django.utils import translation

        from accounts import notify
        from accounts.models import Notice, User
        from config import clock

        request = allauth_context.request
        user = context.get("user")
        if not isinstance(user, User):
            user = None
        language = (
            (user.language if user is not None and user.language else "")
            or translation.get_language()
            or settings.LANGUAGE_CODE
        )
        ctx = {"request": request, "email": email, "current_site": get_current_site(request), **context}
        with translation.override(language):
            message = self.render_mail(template_prefix, email, ctx)

        def in_active_language():
            mail = self.render_mail(template_prefix, email, ctx)
            return mail.subject, mail.body

        name = template_prefix.rsplit("/", 1)[-1]
        event = next(
            (str(context[k]) for k in ("password_reset_url", "activate_url", "key", "code") if context.get(k)), ""
        )
        event = event or clock.now().isoformat()  # a notification: one per call (allauth rate-limits the requests)
        digest = hashlib.sha256(f"{name}|{email.strip().lower()}|{event}".encode()).hexdigest()[:32]
        notify.record(
            user,
            kind=Notice.Kind.ACCOUNT_EMAIL,
            key=f"account:{name[:40]}:{digest}",
            subject=message.subject,
            body=message.body,
            email=email,
            language=language,
            texts=notify.in_every_language(in_active_language),  # the notifications page in the reader's language
        )

    # A new password ---------------------------------------------------------------------------------------------

    def set_password(self, user, password):
        """allauth's change page, its set page and its reset-from-key page (the e-mailed link, which K-REG-4's
        reset by e-mail and T-REG-4's recovery mail lead to) all save the new password here: one transaction that
        also lifts the log-in throttle and revokes the account's API tokens and calendar-feed keys, and tells the
        user (accounts.credentials.set_password)."""
        from allauth.core import context as allauth_context

        from accounts import credentials
        from accounts.models import Revocation

        request = allauth_context.request
        match = getattr(request, "resolver_match", None)
        by_link = match is not None and match.url_name == "account_reset_password_from_key"
        reason = Revocation.PASSWORD_RESET if by_link else Revocation.PASSWORD_CHANGED
        credentials.set_password(user, password, reason=reason, by=user)

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """allauth asks for the password again before sensitive steps (an API token, a calendar-feed key, setting up
        TOTP) unless the user *re*authenticated within ``ACCOUNT_REAUTHENTICATION_TIMEOUT``; a log-in that recent
        counts too here, so nobody is asked for the password they typed a minute ago."""
        from allauth.core import context as allauth_context

        from accounts import credentials

        request = allauth_context.request
        if request is not None and not credentials.reauthentication_needed(request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)

    # Log-in throttling -------------------------------------------------------------------------------------------

    def _login_user(self, credentials):
        """The account a log-in names: by user ID, else (allauth passes an address as both) by the e-mail address
        of exactly one active account. None for an unknown or shared address."""
        from accounts.models import User

        username, email = credentials.get("username"), credentials.get("email")
        if username:
            users = list(User.objects.filter(username__iexact=username.strip())[:2])
            if users or not email:
                return users[0] if len(users) == 1 else None
        if not email:
            return None
        # Active accounts only: a re-issued card's old account keeps the address (T-REG-2).
        users = list(User.objects.filter(email__iexact=email.strip(), is_active=True)[:2])
        return users[0] if len(users) == 1 else None

    def _login_user_id(self, credentials) -> int | None:
        user = self._login_user(credentials)
        return user.pk if user is not None else None

    def _client_ip(self, request) -> str:
        # allauth's resolution: REMOTE_ADDR, or X-Forwarded-For only with ALLAUTH_TRUSTED_PROXY_COUNT set
        # (or a header named by ALLAUTH_TRUSTED_CLIENT_IP_HEADER): never a header a client could forge.
        try:
            return self.get_client_ip(request)
        except PermissionDenied:
            return "unknown"

    def pre_authenticate(self, request, **credentials):
        login = credentials.get("username") or credentials.get("email") or ""
        user = self._login_user(credentials)
        user_id = user.pk if user is not None else None
        device_nonce = throttle.read_device_cookie(request).get(user_id) if user_id is not None else None
        signed_in = getattr(getattr(request, "user", None), "is_authenticated", False)  # reauthentication
        held = breaker.hold(request, user) if not device_nonce and not signed_in else None
        if held is not None:
            # The site-wide breaker is on: an unknown device gets the e-mailed code before any password is
            # checked, so the answer is the same whether the password was right or not.
            raise ImmediateHttpResponse(held)
        try:
            self._yoyaku_attempt = throttle.begin(
                user_id=user_id, login=login, ip=self._client_ip(request), device_nonce=device_nonce
            )
        except throttle.Refused as refused:
            breaker.record_failure()
            raise forms.ValidationError(refused.message(), code="too_many_login_attempts") from None
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request, **credentials):
        self._yoyaku_attempt = None
        if credentials.get("email") and self._login_user_id(credentials) is None:
            # An address no active account or several accounts have (a family's shared address): refused like a
            # wrong password, counted like an unknown user ID, and no password is tried, so one guess can never
            # test a PIN against several accounts at once.
            from accounts.models import User

            self.pre_authenticate(request, **credentials)
            User().set_password(credentials.get("password") or "")  # the same time as a real check
            self.authentication_failed(request, **credentials)
            return None
        user = super().authenticate(request, **credentials)
        if user is not None and self._yoyaku_attempt is not None:
            self._yoyaku_attempt.succeeded()
        return user

    def authentication_failed(self, request, **credentials):
        super().authentication_failed(request, **credentials)
        breaker.record_failure()
        if getattr(self, "_yoyaku_attempt", None) is not None:
            self._yoyaku_attempt.failed()

    def get_login_redirect_url(self, request):
        """Where a log-in without a ``next`` address lands (issue #22, item 1): a counter clerk on the console of
        their municipality (its home is today's board), an administrator on the admin; residents as before."""
        from django.urls import reverse

        user = getattr(request, "user", None)
        if getattr(user, "is_authenticated", False) and user.account_kind == user.AccountKind.STAFF:
            if user.staff_role == user.StaffRole.ADMINISTRATOR and user.is_staff:
                return reverse("admin:index")
            if user.municipality_id is not None:
                return reverse("counter:home", args=[user.municipality.slug])
        return super().get_login_redirect_url(request)

    def post_login(self, request, user, **kwargs):
        from allauth.account.internal.flows.login import get_authentication_records

        response = super().post_login(request, user, **kwargs)
        # This browser is now a known device of the account (OWASP device cookies).
        throttle.remember_device(request, response, user)
        records = get_authentication_records(request, user)
        if records and records[-1].get("method") == "code":
            # The breaker's e-mailed code proved the owner's address, as a recovery by e-mail does.
            throttle.refill_budget(user.pk)
        pending = throttle.take_pending_notice(user)
        if pending:
            messages.warning(request, throttle.notice_text(user, *pending))
        return response
