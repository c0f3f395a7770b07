"""Helpers for the lottery tests: applying at an instant, running the draw at an instant, and the demo months.

Shiroi, use month June 2027 (S-LOT-1..5): applications 2027-04-05 08:30 – 04-15 23:59, draw 04-16 00:00, results
and confirmation 04-18 – 04-25 23:59, purge 04-26 00:00; first-come opens 2027-05-03 08:30 (S-FC-2).
Kodaira, use month August 2027 (K-LOT-1..4): applications 2027-06-10 00:00 – 06-19 23:59, draw and results
06-20 00:00; first-come at 中島 opens 2027-07-02 09:00 (K-FC-1: 07-01 is a closure day there).
"""

import datetime as dt

import time_machine

from config import clock
from facilities.models import Municipality
from lottery import services
from lottery.models import Application, Draw
from tests.reservations.booking_helpers import jst

SHIROI_MONTH = dt.date(2027, 6, 1)
SHIROI_DAY = dt.date(2027, 6, 15)
SHIROI_IN_WINDOW = jst(2027, 4, 10, 12, 0)
SHIROI_DRAW = jst(2027, 4, 16, 0, 0)
SHIROI_RESULTS = jst(2027, 4, 18, 0, 0)
SHIROI_PURGE = jst(2027, 4, 26, 0, 0)

KODAIRA_MONTH = dt.date(2027, 8, 1)
KODAIRA_DAY = dt.date(2027, 8, 20)
KODAIRA_IN_WINDOW = jst(2027, 6, 15, 12, 0)
KODAIRA_DRAW = jst(2027, 6, 20, 0, 0)


def slot(day: dt.date, start: str, end: str):
    return clock.at(day, dt.time.fromisoformat(start)), clock.at(day, dt.time.fromisoformat(end))


def try_apply(moment, *, user, unit, day, start, end, channel="online", entered_by=None):
    """The Application, or the refusal codes (rule ids)."""
    starts_at, ends_at = slot(day, start, end)
    with time_machine.travel(moment, tick=False):
        try:
            return services.apply(
                user=user, unit=unit, starts_at=starts_at, ends_at=ends_at, channel=channel, entered_by=entered_by
            )
        except services.LotteryError as error:
            return [refusal.code for refusal in error.refusals]


def apply(moment, **kwargs) -> Application:
    result = try_apply(moment, **kwargs)
    assert isinstance(result, Application), f"refused: {result}"
    return result


def run_draw(moment, slug, month, **kwargs):
    with time_machine.travel(moment, tick=False):
        return services.draw(municipality=Municipality.objects.get(slug=slug), month=month, **kwargs)


def fix_seed(slug, month, seed, moment):
    """Make the month's draw record with a known seed (as if the secrets module had drawn it)."""
    with time_machine.travel(moment, tick=False):
        record = services.ensure_draw(municipality=Municipality.objects.get(slug=slug), month=month)
    record.seed = seed
    record.seed_sha256 = services.algorithm.sha256_hex(seed)
    record.save(update_fields=["seed", "seed_sha256"])
    return record


def state_of(*rows):
    return [type(row).objects.get(pk=row.pk).state for row in rows]


def draw_of(slug, month) -> Draw:
    return Draw.objects.get(municipality__slug=slug, month=month)
