"""T-REG-4: a user who forgot the user ID or password types name, phone number and e-mail address; when all three
match one active account of a municipality whose profile offers it, that account's address gets an e-mail with
the user ID and a password-reset link (allauth's reset-by-key page). Otherwise nothing is sent.

**Reveals nothing.** The page answers the same words whether or not an account matched, and the request does the
same work either way: it only queues ``recover`` for the django-q worker (one row in the ORM broker). Looking
the account up, and the e-mail, happen in the worker, so neither the answer nor its timing depends on whether
the account exists. At most one e-mail per account every ``MAIL_INTERVAL_MINUTES`` (the outbox refuses a second
notice of the same event key).
"""

import logging

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.urls import reverse

from config import clock

from .models import Notice, User
from .notify import notify
from .rules import normalize_phone, normalize_text

logger = logging.getLogger(__name__)

MAIL_INTERVAL_MINUTES = 10


def request_recovery(*, name: str, phone: str, email: str, base_url: str) -> None:
    """Called by the page: queue the look-up (the only thing the request does)."""
    from django_q.tasks import async_task

    async_task("accounts.recovery.recover", name, phone, email, base_url, task_name="accounts.recovery")


def matching_accounts(name: str, phone: str, email: str) -> list[User]:
    candidates = User.objects.filter(
        is_active=True,
        email__iexact=email.strip(),
        municipality__rule_profile__id_recovery_by_name_phone_email=True,
    ).exclude(account_kind=User.AccountKind.STAFF)
    wanted_name, wanted_phone = normalize_text(name), normalize_phone(phone)
    return [
        user
        for user in candidates
        if wanted_name
        and normalize_text(user.display_name) == wanted_name
        and wanted_phone
        and normalize_phone(user.phone) == wanted_phone
    ]


def reset_url(user: User, base_url: str) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def recover(name: str, phone: str, email: str, base_url: str) -> int:
    """The worker's part: e-mail every account that matches all three. Returns how many were told."""
    now = clock.now()
    window = now.strftime("%Y%m%d%H") + f"{now.minute // MAIL_INTERVAL_MINUTES}"
    told = 0
    for user in matching_accounts(name, phone, email):
        rule = user.municipality.rule_profile.recovery_rule_id or "T-REG-4"
        sent = notify(
            user,
            kind=Notice.Kind.ACCOUNT_RECOVERY,
            key=f"recovery:{user.pk}:{window}",
            template="account_recovery",
            context={"username": user.get_username(), "reset_url": reset_url(user, base_url), "rule": rule},
        )
        told += sent is not None
    logger.info("account recovery: %d account(s) told", told)
    return told
