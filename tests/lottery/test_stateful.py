"""A Hypothesis state machine over the monthly lottery, through lottery.services and the lottery jobs: a few
residents apply for slots of two units of one site, withdraw, confirm or give up wins, the clock moves through the
month's timeline (application window, draw, results, confirmation window, purge), and the draw and purge jobs run —
in any order. After every step:

- no user has more live applications for the month than the monthly allowance (K-LOT-2, S-LOT-2; lowered to 2
  for Shiroi, rule profiles being data, X-1), nor, in Shiroi, two for the same site at the same time (S-LOT-3);
- applications were made and withdrawn only inside the application window (K-LOT-1, S-LOT-1);
- a slot has at most one win; every win (won or confirmed) holds its slot with an active booking, and every given-up
  or expired win's booking is cancelled and holds nothing (X-3, S-LOT-5);
- wins were confirmed only inside the confirmation window (S-LOT-5), and in Kodaira never (K-LOT-4);
- until the draw's results moment, every application a resident sees reads applied (K-LOT-3, S-LOT-5).

Each example runs inside a savepoint rolled back at its end (as tests/reservations/test_stateful.py).
"""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.models import User
from config import clock
from facilities.models import ACTIVE_STATES, BookingLimit, Municipality, Phase
from facilities.slots import hours_for, slots_for_day
from lottery import jobs, selectors, services
from lottery.models import Application, Draw
from reservations import rules
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import jst, unit

from .helpers import KODAIRA_DAY, KODAIRA_MONTH, SHIROI_DAY, SHIROI_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Scenario:
    municipality: str
    units: tuple[tuple[str, str], ...]
    day: dt.date
    month: dt.date
    starts: tuple[dt.datetime, ...]  # where the clock may start: in the application window
    account_kind: str


SCENARIOS = {
    # K-LOT-1: 06-10 00:00 – 06-19 23:59; draw and results 06-20 00:00; wins are bookings (K-LOT-4).
    "kodaira": Scenario(
        "kodaira",
        (("nakajima", "assembly-room"), ("nakajima", "japanese-room")),
        KODAIRA_DAY,
        KODAIRA_MONTH,
        (jst(2027, 6, 12, 12, 0),),
        "group",
    ),
    # S-LOT-1: 04-05 08:30 – 04-15 23:59; draw 04-16; results and confirmation 04-18 – 04-25 23:59; purge 04-26.
    "shiroi": Scenario(
        "shiroi",
        (("minamiyama-tennis", "court-1"), ("minamiyama-tennis", "court-2")),
        SHIROI_DAY,
        SHIROI_MONTH,
        (jst(2027, 4, 8, 12, 0),),
        "individual",
    ),
}
USERS = 3
LOWERED_LIMIT = 2


def machine_for(scenario: Scenario, users: list[User]):
    units = [unit(scenario.municipality, facility, code) for facility, code in scenario.units]
    slots = {
        u.pk: slots_for_day(u.slot_scheme, hours_for(scenario.day, list(u.facility.opening_hours.all())), scenario.day)
        for u in units
    }
    municipality = units[0].municipality
    profile_rules = rules.ProfileRules.of(municipality.pk)
    policy = services.policy_of(municipality)
    line = services.timeline(profile_rules, policy, scenario.month)
    limits = [limit for limit in profile_rules.limits if limit.phase == Phase.LOTTERY]

    class LotteryMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            self.traveller = time_machine.travel(scenario.starts[0], tick=False)
            self.clock = self.traveller.start()
            self.confirmed_at: list[dt.datetime] = []

        def teardown(self):
            self.traveller.stop()
            transaction.savepoint_rollback(self.savepoint)

        @initialize(start=st.sampled_from(scenario.starts))
        def set_the_clock(self, start):
            self.clock.move_to(start)

        # Steps -------------------------------------------------------------------------------------------------

        @rule(who=st.integers(0, USERS - 1), which=st.integers(0, 1), index=st.integers(0, 5))
        def apply(self, who, which, index):
            offered = slots[units[which].pk]
            chosen = offered[index % len(offered)]
            now = clock.now()
            try:
                application = services.apply(
                    user=users[who], unit=units[which], starts_at=chosen.starts_at, ends_at=chosen.ends_at
                )
            except services.LotteryError as refused:
                event(f"apply: refused {refused.refusals[0].code}")
                assert all(r.code for r in refused.refusals)
            else:
                event("apply: done")
                assert line.applications_open <= now < line.applications_close
                assert application.state == Application.State.APPLIED

        def pick(self, index, *, prefer=None):
            """One of the month's applications (any user's; one in state ``prefer`` if there is one), acted on by
            its owner."""
            found = Application.objects.filter(municipality=municipality, month=scenario.month).order_by("pk")
            if prefer is not None and found.filter(state=prefer).exists():
                found = found.filter(state=prefer)
            found = list(found)
            return found[index % len(found)] if found else None

        @rule(index=st.integers(0, 20))
        def withdraw(self, index):
            target = self.pick(index)
            if target is None:
                return
            before = target.state
            try:
                services.withdraw(user=target.user, application_id=target.pk)
            except services.LotteryError as refused:
                event(f"withdraw: refused {refused.refusals[0].code}")
                target.refresh_from_db()
                assert target.state == before
            else:
                event("withdraw: done")
                assert before == Application.State.APPLIED
                assert line.applications_open <= clock.now() < line.applications_close

        @rule(index=st.integers(0, 20), give_up=st.booleans())
        def confirm_or_forfeit(self, index, give_up):
            target = self.pick(index, prefer=Application.State.WON)
            if target is None:
                return
            action = services.forfeit_win if give_up else services.confirm_win
            try:
                done = action(user=target.user, application_id=target.pk)
            except services.LotteryError as refused:
                event(f"{action.__name__}: refused {refused.refusals[0].code}")
            else:
                event(f"{action.__name__}: done")
                assert done.state == (Application.State.FORFEITED if give_up else Application.State.CONFIRMED)
                self.confirmed_at.append(clock.now())

        def wins_to_confirm(self) -> bool:
            return (
                policy.confirmation_required
                and line.results_from <= clock.now() < line.purge_at
                and Application.objects.filter(
                    municipality=municipality, month=scenario.month, state=Application.State.WON
                ).exists()
            )

        @precondition(wins_to_confirm)
        @rule(index=st.integers(0, 20), give_up=st.booleans())
        def confirm_or_forfeit_a_win_in_time(self, index, give_up):
            """As above, when a Shiroi win awaits confirmation in its window: it is taken (S-LOT-5)."""
            target = self.pick(index, prefer=Application.State.WON)
            action = services.forfeit_win if give_up else services.confirm_win
            done = action(user=target.user, application_id=target.pk)
            event(f"{action.__name__}: done in time")
            assert done.state == (Application.State.FORFEITED if give_up else Application.State.CONFIRMED)
            self.confirmed_at.append(clock.now())

        minute = dt.timedelta(minutes=1)
        edges = [line.applications_close - minute, line.applications_close, line.draw_at, line.results_from]
        if line.purge_at is not None:
            edges += [line.purge_at - minute, line.purge_at]

        @rule(edge=st.sampled_from(sorted(set(edges))))
        def to_an_edge(self, edge):
            """Forward to an instant that matters — the window's last minute and its close, the draw, the results,
            the confirmation window's last minute and the purge — and the jobs' run there (the scheduler's, every
            5 minutes in production; ``run_job`` runs them at any other moment)."""
            if edge > clock.now():
                event("clock: edge")
                self.clock.move_to(edge)
            jobs.run_draws()
            jobs.purge_unconfirmed()

        @rule(hours=st.one_of(st.integers(1, 12), st.integers(24, 48)))
        def advance_clock(self, hours):
            event("clock")
            self.clock.shift(dt.timedelta(hours=hours))

        @rule(job=st.sampled_from(["draws", "purge"]))
        def run_job(self, job):
            if job == "draws":
                event(f"draw job: {jobs.run_draws()['drawn'] > 0}")
                assert jobs.run_draws()["drawn"] == 0  # idempotent
            else:
                event(f"purge job: {jobs.purge_unconfirmed()['purged'] > 0}")
                assert jobs.purge_unconfirmed() == {"purged": 0}

        # Invariants -------------------------------------------------------------------------------------------

        @invariant()
        def invariants_hold(self):
            applications = list(
                Application.objects.filter(municipality=municipality, month=scenario.month).select_related("unit")
            )
            self.check_allowances_and_windows(applications)
            self.check_wins_hold_their_slots(applications)
            self.check_confirmations()
            self.check_nothing_told_early(applications)

        def check_allowances_and_windows(self, applications):
            live = [a for a in applications if a.withdrawn_at is None]
            for limit in limits:
                counts = {}
                for a in live:
                    counts[a.user_id] = counts.get(a.user_id, 0) + 1
                assert all(n <= limit.count for n in counts.values()), (limit.rule_id, counts)
            if policy.one_per_site_and_time:
                seen = set()
                for a in live:
                    key = (a.user_id, a.unit.facility_id, a.starts_at)
                    assert key not in seen, f"S-LOT-3: {key} twice"
                    seen.add(key)
            for a in applications:
                assert line.applications_open <= a.created_at < line.applications_close
                if a.withdrawn_at is not None:
                    assert a.withdrawn_at < line.applications_close

        def check_wins_hold_their_slots(self, applications):
            winners = {}
            for a in applications:
                if a.state in (Application.State.WON, Application.State.CONFIRMED):
                    key = (a.unit_id, a.starts_at)
                    assert key not in winners, f"two wins for {key}"
                    winners[key] = a
                    reservation = Reservation.objects.get(pk=a.reservation_id)
                    assert reservation.state in ACTIVE_STATES and reservation.user_id == a.user_id
                    assert SlotHold.objects.filter(
                        reservation=reservation, unit_id=a.unit_id, starts_at=a.starts_at
                    ).exists()
                elif a.state in (Application.State.FORFEITED, Application.State.EXPIRED):
                    reservation = Reservation.objects.get(pk=a.reservation_id)
                    assert reservation.state not in ACTIVE_STATES and not reservation.holds.exists()

        def check_confirmations(self):
            for moment in self.confirmed_at:
                assert policy.confirmation_required, "K-LOT-4: nothing to confirm"
                assert line.results_from <= moment < line.purge_at

        def check_nothing_told_early(self, applications):
            draw = Draw.objects.filter(municipality=municipality, month=scenario.month).first()
            now = clock.now()
            published = selectors.results_published(draw, now)
            assert published == (draw is not None and draw.status == Draw.Status.DRAWN and now >= line.results_from)
            if not published:
                assert {selectors.resident_state(a.state, published=False) for a in applications} <= {
                    Application.State.APPLIED,
                    Application.State.WITHDRAWN,
                }

    return LotteryMachine


@pytest.mark.parametrize("municipality", sorted(SCENARIOS))
def test_stateful__applying_withdrawing_confirming_and_the_jobs_in_any_order_keep_the_invariants(municipality):
    scenario = SCENARIOS[municipality]
    town = Municipality.objects.get(slug=municipality)
    BookingLimit.objects.filter(profile__municipality=town, phase=Phase.LOTTERY).update(count=LOWERED_LIMIT)
    users = [
        User.objects.create(
            username=f"{municipality}-lottery-machine-{n}",
            municipality=town,
            account_kind=scenario.account_kind,
            valid_from=dt.date(2020, 1, 1),
            valid_until=dt.date(2099, 3, 31),
        )
        for n in range(USERS)
    ]
    run_state_machine_as_test(machine_for(scenario, users), settings=SETTINGS)
