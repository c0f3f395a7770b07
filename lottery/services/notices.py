"""The results e-mail of the monthly lottery (K-LOT-3).

- ``prepare_result_notices`` — one outbox row per applicant with an address, once a draw's results are published.
- ``send_result_notices`` — sends the outbox, once per applicant; a failed send is retried by the next run.
- ``result_message`` — the subject and body of one applicant's results, in their language.
"""

import datetime as dt
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import formats, translation
from django.utils.translation import gettext as _

from accounts import notify
from accounts.models import Notice
from config import clock
from facilities import daterules
from lottery.models import Application, Draw, ResultNotice
from reservations import rules

from .months import month_label, policy_of

logger = logging.getLogger(__name__)


# Results e-mail (K-LOT-3) -----------------------------------------------------------------------------------


def prepare_result_notices(*, now: dt.datetime | None = None) -> int:
    """One outbox row per applicant with an address, for every draw whose results are published."""
    now = now or clock.now()
    created = 0
    due = Draw.objects.filter(status=Draw.Status.DRAWN, results_from__lte=now, notices_prepared_at__isnull=True)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            record = Draw.objects.select_for_update().get(pk=pk)
            if record.notices_prepared_at is not None:
                continue
            latest_language = {}
            rows = (
                Application.objects.filter(municipality_id=record.municipality_id, month=record.month)
                .exclude(state=Application.State.WITHDRAWN)
                .exclude(user__email="")
                .order_by("created_at", "pk")
                .values_list("user_id", "user__email", "language")
            )
            for user_id, email, language in rows.iterator(chunk_size=10000):
                latest_language[user_id] = (email, language)
            notices = [
                ResultNotice(draw=record, user_id=u, email=e, language=lang, created_at=now)
                for u, (e, lang) in latest_language.items()
            ]
            ResultNotice.objects.bulk_create(notices, batch_size=2000, ignore_conflicts=True)
            record.notices_prepared_at = now
            record.save(update_fields=["notices_prepared_at"])
            created += len(notices)
    return created


SEND_PER_RUN = 2000  # a run stays well inside the job timeout; the next run (5 minutes later) sends the rest


def send_result_notices(*, now: dt.datetime | None = None, limit: int = SEND_PER_RUN) -> int:
    """Send unsent results e-mails, each once: the row is locked, marked sent and the mail sent in one
    transaction (a failed send rolls the mark back; the next run retries it, and one failure does not stop the
    others). At most ``limit`` per run."""
    now = now or clock.now()
    prepare_result_notices(now=now)
    sent = 0
    for pk in list(
        ResultNotice.objects.filter(sent_at__isnull=True).order_by("pk").values_list("pk", flat=True)[:limit]
    ):
        try:
            with transaction.atomic():
                notice = (
                    ResultNotice.objects.select_for_update(**_skip_locked()).filter(pk=pk, sent_at__isnull=True).first()
                )
                if notice is None:
                    continue
                subject, body = result_message(notice)
                notice.sent_at = now
                notice.save(update_fields=["sent_at"])
                send_mail(subject, body, None, [notice.email])
                # Also on the applicant's notifications page (issue #8 item 4), in the same transaction.
                notify.record_sent(
                    notice.user,
                    kind=Notice.Kind.LOTTERY_RESULT,
                    key=f"lottery:{notice.draw_id}:{notice.user_id}",
                    subject=subject,
                    body=body,
                    email=notice.email,
                    language=notice.language or "ja",
                    sent_at=now,
                    texts={code: notify.texts_of(*result_message(notice, code)) for code, _name in settings.LANGUAGES},
                )
                sent += 1
        except Exception:
            logger.exception("lottery results e-mail %s not sent; retried by the next run", pk)
    return sent


def _skip_locked() -> dict:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


def result_message(notice: ResultNotice, language: str | None = None) -> tuple[str, str]:
    """The results e-mail in the applicant's language (the language of their latest application), or in
    ``language`` (the notifications page's copy in each language of the site)."""
    record = Draw.objects.select_related("municipality").get(pk=notice.draw_id)
    policy = policy_of(record.municipality_id)
    applications = (
        Application.objects.filter(municipality_id=record.municipality_id, month=record.month, user_id=notice.user_id)
        .exclude(state=Application.State.WITHDRAWN)
        .select_related("unit__facility")
        .order_by("starts_at", "unit_id")
    )
    language = language or notice.language or "ja"
    with translation.override(language):
        month = month_label(record.month)
        subject = _("%(municipality)s lottery results for %(month)s") % {
            "municipality": record.municipality.name,
            "month": month,
        }
        outcome = {
            Application.State.WON: _("won"),
            Application.State.LOST: _("not won"),
            Application.State.CONFIRMED: _("won"),
            Application.State.FORFEITED: _("won (given up)"),
            Application.State.EXPIRED: _("won (not confirmed in time)"),
        }
        lines = [_("The results of your lottery applications for %(month)s:") % {"month": month}, ""]
        any_win = False
        for application in applications:
            local = clock.localtime(application.starts_at)
            any_win |= application.state == Application.State.WON
            lines.append(
                "- {} {}, {} {}–{}: {}".format(
                    application.unit.facility.name,
                    application.unit.name,
                    formats.date_format(local, "DATE_FORMAT"),
                    f"{local:%H:%M}",
                    f"{clock.localtime(application.ends_at):%H:%M}",
                    outcome.get(application.state, application.get_state_display()),
                )
            )
        lines.append("")
        if any_win and policy.confirmation_required and record.purge_at:
            lines.append(
                _(
                    "Please confirm each win by %(deadline)s, or give it up; wins not confirmed by then are cancelled "
                    "(%(rule)s)."
                )
                % {
                    "deadline": rules.when(record.purge_at - daterules.ONE_MINUTE),
                    "rule": policy.confirmation_rule_id or "S-LOT-5",
                }
            )
        elif any_win:
            lines.append(
                _("Your wins are bookings; you need not do anything more (%(rule)s).")
                % {"rule": policy.win_rule_id or "K-LOT-4"}
            )
        lines.append(_("Slots not won can be booked first come, first served when booking opens."))
        lines.append("")
        lines.append(
            _(
                "Anyone can check the draw: the seed and the application list are published with their SHA-256 "
                "commitments."
            )
        )
    return subject, "\n".join(lines)
