"""Months, the lottery policy and the draw's timeline (K-LOT-1, K-LOT-3, S-LOT-4, S-LOT-5).

- ``month_of`` / ``add_months`` / ``month_label`` — the month arithmetic and its label.
- ``policy_of`` — the municipality's lottery policy.
- ``lottery_windows`` / ``application_period`` / ``timeline`` — the profile's lottery-phase windows and, for a month,
  when applications open and close, when the draw runs, when results are published and when unconfirmed wins are
  purged.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import formats

from config import clock
from config.tenancy import pk_of
from facilities import daterules
from facilities.models import Phase
from lottery.models import LotteryPolicy
from reservations import rules

# Months and policy ------------------------------------------------------------------------------------------


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


add_months = daterules.add_months  # the month arithmetic of the date rules, not a copy


def month_label(month: dt.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def policy_of(municipality) -> LotteryPolicy | None:
    municipality_id = pk_of(municipality)
    return LotteryPolicy.objects.filter(municipality_id=municipality_id).first()


def _month_instant(text: str, month: dt.date, *, closes: bool = False) -> dt.datetime | None:
    """A policy date ("M-2/16 00:00") for use month ``month``; ``closes``: the first instant after the named minute."""
    if not text:
        return None
    rule = daterules.parse(text)
    slot_start = clock.at(month, dt.time(0))
    if closes:
        return daterules.closes_at(rule, use_date=month, slot_start=slot_start)
    return daterules.opens_at(rule, use_date=month, slot_start=slot_start)


def lottery_windows(profile_rules: rules.ProfileRules):
    return [w for w in profile_rules.windows if w.phase == Phase.LOTTERY]


def application_period(profile_rules: rules.ProfileRules, month: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    """From the earliest opening to the latest closing of the month's lottery windows (all channels); None
    without lottery windows. Evaluated for the first and last use date of the month (windows are stated as
    "M-2/…", which is the same for every day of M)."""
    last_day = add_months(month, 1) - dt.timedelta(days=1)
    opens, closes = [], []
    for window in lottery_windows(profile_rules):
        for day in (month, last_day):
            start = clock.at(day, dt.time(0))
            opens.append(daterules.opens_at(daterules.parse(window.opens), use_date=day, slot_start=start))
            closes.append(daterules.closes_at(daterules.parse(window.closes), use_date=day, slot_start=start))
    opens, closes = [o for o in opens if o], [c for c in closes if c]
    if not opens or not closes:
        return None
    return min(opens), max(closes)


@dataclass
class Timeline:
    """The instants of one month's lottery (K-LOT-3, S-LOT-4, S-LOT-5)."""

    applications_open: dt.datetime
    applications_close: dt.datetime
    draw_at: dt.datetime
    results_from: dt.datetime
    purge_at: dt.datetime | None  # first instant after the confirmation window; None without confirmation


def timeline(profile_rules: rules.ProfileRules, policy: LotteryPolicy, month: dt.date) -> Timeline | None:
    period = application_period(profile_rules, month)
    if period is None:
        return None
    return Timeline(
        applications_open=period[0],
        applications_close=period[1],
        draw_at=max(_month_instant(policy.draw_at, month), period[1]),
        results_from=_month_instant(policy.results_from, month),
        purge_at=_month_instant(policy.confirm_until, month, closes=True) if policy.confirmation_required else None,
    )
