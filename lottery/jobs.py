"""Scheduled lottery work (django-q2), scheduled in config/schedules.py. Every 5 minutes, anchored on
local midnight like reservations/jobs.py (the reasons are the same: a run late or twice catches up and changes
nothing more). Each service re-checks state under a row lock.

- ``run_draws``: for every municipality with a lottery policy, for the months of use whose application window has
  opened, make the draw record with its secret seed (its SHA-256 is public from then on); once the window has
  closed, commit the application list (K-LOT-1, S-LOT-1); from the policy's draw instant, draw (K-LOT-3, S-LOT-4).
- ``send_results``: from the results day, e-mail every applicant with an address once (K-LOT-3, S-LOT-5).
- ``purge_unconfirmed``: from the end of the confirmation window (Shiroi: the 26th), cancel unconfirmed wins and
  free their slots for first-come (S-LOT-5).
"""

import logging

from config import clock
from reservations import rules

from . import services
from .models import Draw, LotteryPolicy

logger = logging.getLogger(__name__)


def run_draws() -> dict[str, int]:
    now = clock.now()
    this_month = services.month_of(clock.localtime(now).date())
    counts = {"opened": 0, "committed": 0, "drawn": 0}
    for policy in LotteryPolicy.objects.select_related("municipality"):
        profile_rules = rules.ProfileRules.find(policy.municipality_id)
        if profile_rules is None:
            continue
        months = {services.add_months(this_month, n) for n in range(4)}
        months |= set(
            Draw.objects.filter(municipality_id=policy.municipality_id)
            .exclude(status=Draw.Status.DRAWN)
            .values_list("month", flat=True)
        )
        for month in sorted(months):
            line = services.timeline(profile_rules, policy, month)
            if line is None or now < line.applications_open:
                continue
            record = Draw.objects.filter(municipality_id=policy.municipality_id, month=month).first()
            if record is None:
                record = services.ensure_draw(municipality=policy.municipality_id, month=month, now=now)
                counts["opened"] += 1
            if record.status == Draw.Status.OPEN and now >= line.applications_close:
                services.commit(municipality=policy.municipality, month=month, now=now)
                counts["committed"] += 1
                record.refresh_from_db()
            if record.status == Draw.Status.COMMITTED and now >= line.draw_at:
                report = services.draw(municipality=policy.municipality, month=month, now=now)
                if not report.already_drawn:
                    counts["drawn"] += 1
                    logger.info(
                        "lottery %s %s drawn: %d applications, %d winners",
                        policy.municipality.slug,
                        f"{month:%Y-%m}",
                        report.applications,
                        report.winners,
                    )
    return counts


def send_results() -> dict[str, int]:
    sent = services.send_result_notices(now=clock.now())
    if sent:
        logger.info("send_results: %d lottery results e-mail(s) sent (K-LOT-3)", sent)
    return {"sent": sent}


def purge_unconfirmed() -> dict[str, int]:
    purged = services.purge_unconfirmed(now=clock.now())
    if purged:
        logger.info("purge_unconfirmed: %d unconfirmed lottery win(s) cancelled (S-LOT-5)", purged)
    return {"purged": purged}
