"""Telling users what happened: the e-mail outbox (``accounts.models.Notice``; issue #8 item 4, issue #9 item 2).

``notify`` is called by a service inside its transaction. It renders the message in the user's language from
``templates/emails/<template>.txt`` (first line: the subject; the rest: the plain-text body), stores it once per
event ``key`` and sends it when the transaction commits. It also renders it in every language of the site
(``Notice.texts``), so the notifications page shows it in the reader's language (issue #21 item 8); the e-mail goes
in the user's language (``User.language``, else the site's default). A notice whose sending failed, or whose
process died before sending, is sent by the ``accounts.deliver_notices`` job.

Sending is claimed before the mail goes out (``sending_since``), so two workers never send one notice; a claim
older than ``STALE_CLAIM`` (the process died while sending) is retried. A mail is sent twice only when a process
dies in the instant between the mail server's acceptance and the ``sent_at`` write.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation

from config import clock

from .models import Notice

logger = logging.getLogger(__name__)

STALE_CLAIM = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 8


def render(template: str, context: dict, language: str) -> tuple[str, str]:
    """(subject, body) of ``templates/emails/<template>.txt`` in ``language``."""
    with translation.override(language):
        text = render_to_string(f"emails/{template}.txt", context)
    subject, _sep, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def render_all(template: str, context: dict) -> dict:
    """{language: {"subject", "body"}} of ``templates/emails/<template>.txt`` in every language of the site."""
    return {code: texts_of(*render(template, context, code)) for code, _name in settings.LANGUAGES}


def texts_of(subject: str, body: str) -> dict:
    return {"subject": subject[:200], "body": body}


def in_every_language(make) -> dict:
    """{language: {"subject", "body"}} from ``make()`` → (subject, body), called once per language of the site
    with that language active (for messages rendered elsewhere: allauth's mails, the expiry and lottery notices)."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = texts_of(*make())
    return texts


def notify(user, *, kind: str, key: str, template: str, context: dict, municipality=None) -> Notice | None:
    """Record the notice of event ``key`` for ``user`` (once: None when it exists already) and e-mail it after
    the surrounding transaction commits, when the user has an address. ``user`` None (a walk-in's booking,
    S-FC-3: no account, no address): nobody to tell, None."""
    if user is None:
        return None
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    texts = render_all(template, {"user": user, **context})
    if language not in texts:
        texts[language] = texts_of(*render(template, {"user": user, **context}, language))
    return record(
        user,
        kind=kind,
        key=key,
        subject=texts[language]["subject"],
        body=texts[language]["body"],
        email=user.email or "",
        language=language,
        municipality=municipality,
        texts=texts,
    )


def record(
    user,
    *,
    kind: str,
    key: str,
    subject: str,
    body: str,
    email: str,
    language: str,
    municipality=None,
    texts: dict | None = None,
) -> Notice | None:
    """Store an already rendered message as the notice of event ``key`` (once: None when it exists already) and
    send it after the surrounding transaction commits. ``user`` may be None (a mail to an address that belongs
    to no account, e.g. allauth's "no account uses this address" answer to a password reset). ``texts``: the
    message in the site's languages (``in_every_language``), for the notifications page."""
    try:
        with transaction.atomic():  # a savepoint: a duplicate event must not spoil the caller's transaction
            notice = Notice.objects.create(
                user=user,
                municipality=municipality or getattr(user, "municipality", None),
                kind=kind,
                key=key[:120],
                email=email or "",
                language=language,
                subject=subject[:200],
                body=body,
                texts=texts or {language: texts_of(subject, body)},
                created_at=clock.now(),
            )
    except IntegrityError:
        return None  # this event was told already
    if notice.email:
        transaction.on_commit(lambda: deliver(notice.pk))
    return notice


def record_sent(
    user,
    *,
    kind: str,
    key: str,
    subject: str,
    body: str,
    email: str,
    language: str,
    sent_at: dt.datetime,
    municipality=None,
    texts: dict | None = None,
) -> Notice | None:
    """Store a message that another outbox has just sent (the lottery results e-mail, K-LOT-3, sent once by
    ``lottery.services.send_result_notices``), so that the user's notifications page and the admin's outbox
    show it too. Never sent from here. Once per ``key``."""
    try:
        with transaction.atomic():
            return Notice.objects.create(
                user=user,
                municipality=municipality or getattr(user, "municipality", None),
                kind=kind,
                key=key[:120],
                email=email or "",
                language=language,
                subject=subject[:200],
                body=body,
                texts=texts or {language: texts_of(subject, body)},
                created_at=sent_at,
                sent_at=sent_at,
                attempts=1,
            )
    except IntegrityError:
        return None


def deliver(notice_id: int) -> bool:
    """Send one notice if nobody has (or is). True when this call sent it."""
    now = clock.now()
    with transaction.atomic():
        claimed = (
            Notice.objects.filter(pk=notice_id, sent_at__isnull=True)
            .exclude(email="")
            .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - STALE_CLAIM))
            .update(sending_since=now)
        )
    if not claimed:
        return False
    notice = Notice.objects.get(pk=notice_id)
    try:
        send_mail(notice.subject, notice.body, None, [notice.email])
    except Exception as error:
        logger.warning("notice %s not sent: %s", notice_id, error)
        Notice.objects.filter(pk=notice_id).update(
            sending_since=None, attempts=notice.attempts + 1, last_error=str(error)[:300]
        )
        return False
    Notice.objects.filter(pk=notice_id).update(sent_at=clock.now(), attempts=notice.attempts + 1)
    return True


def deliver_pending() -> int:
    """The retry job: every unsent notice with an address, oldest first. Returns how many were sent."""
    now = clock.now()
    pending = (
        Notice.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .exclude(email="")
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - STALE_CLAIM))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )
    return sum(deliver(pk) for pk in list(pending))
