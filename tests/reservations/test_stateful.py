"""A Hypothesis state machine over the booking engine: a few users book slots of two units through the online
and counter channels, cancel online, the clock moves forward, and the confirmation and unpaid-cancellation jobs
run — in any order. After every step:

- no (unit, slot start) is held by two active bookings (X-3);
- slot holds exist for exactly the slots of the active bookings, and for nothing else;
- no user holds more than a limit allows (K-FC-3, S-FC-4), counting as the profile says (lottery wins and
  first-come bookings; not the bookings made after the limit was lifted for their use date, S-FC-4 from D-6);
- once a job has run, nothing it should have handled by then is left (K-FC-4, S-PAY-2, T-PAY-2).

Each municipality runs its own machine on the seeded demo profile. The monthly limits are lowered to 2 (rule
profiles are data, X-1) so that a short run reaches them. Every example runs inside a savepoint that is rolled
back at its end, so examples start from the same database.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from accounts.models import User
from config import clock
from facilities import daterules
from facilities.models import ACTIVE_STATES, BookingLimit, BookingState, Municipality
from facilities.slots import hours_for, slots_for_day
from reservations import jobs, rules, services
from reservations.models import Reservation, SlotHold

from .booking_helpers import jst, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SETTINGS = settings(
    max_examples=30,
    stateful_step_count=20,
    derandomize=True,  # the same runs on every machine: deterministic in CI
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Scenario:
    municipality: str
    units: tuple[tuple[str, str], ...]  # (facility code, unit code): two units
    days: tuple[dt.date, ...]  # use dates
    starts: tuple[dt.datetime, ...]  # where the clock may start: just before the edges that matter
    account_kind: str
    max_run: int = 1  # slots per booking (Tamba: runs of whole hours)


SCENARIOS = {
    # First-come at 中島 opens 2027-07-02 09:00 (K-FC-1); online closes at the end of D-8 (08-12 for 08-20), then
    # the counter takes last-minute bookings, confirmed at once (K-LM-1); provisional ones confirm at midnight.
    "kodaira": Scenario(
        "kodaira",
        (("nakajima", "assembly-room"), ("nakajima", "japanese-room")),
        (dt.date(2027, 8, 20), dt.date(2027, 8, 21)),
        (jst(2027, 7, 2, 8, 0), jst(2027, 8, 12, 22, 0), jst(2027, 8, 13, 22, 0)),
        "group",
    ),
    # First-come opens 2027-05-03 08:30 (S-FC-2); D-6 of 06-15 is 06-09: unpaid bookings go (S-PAY-2), the counter
    # goes on with the limit lifted (S-FC-4).
    "shiroi": Scenario(
        "shiroi",
        (("minamiyama-tennis", "court-1"), ("minamiyama-tennis", "court-2")),
        (dt.date(2027, 6, 15), dt.date(2027, 6, 16)),
        (jst(2027, 5, 3, 7, 30), jst(2027, 6, 8, 22, 0), jst(2027, 6, 9, 22, 0)),
        "individual",
    ),
    # Online 10:00–24:00 until D-22 (T-APP-2, T-APP-3), 15 days to pay (T-PAY-1), the same day from D-21 (T-PAY-3);
    # runs of whole hours (T-USE-1).
    "tamba": Scenario(
        "tamba",
        (("kaibara", "large-meeting-room"), ("kaibara", "small-meeting-room")),
        (dt.date(2027, 5, 25), dt.date(2027, 5, 26)),
        (jst(2027, 4, 1, 9, 30), jst(2027, 5, 3, 22, 0), jst(2027, 5, 4, 21, 0)),
        "card_holder",
        max_run=3,
    ),
}
USERS = 3
LOWERED_LIMIT = 2


def expected_slot_starts(reservation: Reservation, step: dt.timedelta) -> list[dt.datetime]:
    return [reservation.starts_at + i * step for i in range(reservation.slot_count)]


def machine_for(scenario: Scenario, users: list[User]):
    units = [unit(scenario.municipality, facility, code) for facility, code in scenario.units]
    slots = {
        (u.pk, day): slots_for_day(u.slot_scheme, hours_for(day, list(u.facility.opening_hours.all())), day)
        for u in units
        for day in scenario.days
    }
    steps = {u.pk: (u.slot_scheme.step() if u.slot_scheme.kind != "periods" else dt.timedelta(0)) for u in units}
    profile_rules = rules.ProfileRules.of(units[0].municipality_id)

    class BookingMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            self.traveller = time_machine.travel(scenario.starts[0], tick=False)
            self.clock = self.traveller.start()
            self.last_confirm_run = None
            self.last_purge_run = None

        def teardown(self):
            self.traveller.stop()
            transaction.savepoint_rollback(self.savepoint)

        # Steps -------------------------------------------------------------------------------------------------

        @initialize(start=st.sampled_from(scenario.starts))
        def set_the_clock(self, start):
            self.clock.move_to(start)

        slot_choice = {
            "who": st.integers(0, USERS - 1),
            "which": st.integers(0, 1),
            "day": st.integers(0, len(scenario.days) - 1),
            "index": st.integers(0, 6),
            "length": st.integers(1, scenario.max_run),
        }

        @rule(**slot_choice)
        def book_online(self, **choice):
            self.book(channel="online", **choice)

        @rule(**slot_choice)
        def book_at_the_counter(self, **choice):
            self.book(channel="counter", **choice)

        def book(self, who, which, day, index, length, channel):
            the_unit, the_day = units[which], scenario.days[day]
            offered = slots[(the_unit.pk, the_day)]
            chosen = offered[index % len(offered) :][:length]
            starts_at, ends_at = chosen[0].starts_at, chosen[-1].ends_at
            held_before = set(SlotHold.objects.filter(unit=the_unit).values_list("starts_at", flat=True))
            try:
                reservation = services.book(
                    user=users[who], unit=the_unit, starts_at=starts_at, ends_at=ends_at, channel=channel
                )
            except services.SlotTaken:
                event("book: slot_taken")
                assert held_before & {s.starts_at for s in chosen}, "SlotTaken though every slot was free"
            except services.BookingRefused as refused:
                event(f"book: refused {refused.refusals[0].code}")
                assert refused.refusals and all(r.code for r in refused.refusals)
            else:
                event(f"book: {reservation.origin} {reservation.state}")
                assert not held_before & {s.starts_at for s in chosen}, "booked a slot that was held"
                assert reservation.slot_count == len(chosen)

        @rule(who=st.integers(0, USERS - 1), pick=st.integers(0, 10))
        def cancel(self, who, pick):
            mine = list(Reservation.objects.filter(user=users[who]).order_by("pk"))
            if not mine:
                return
            target = mine[pick % len(mine)]
            refusal = rules.cancel_refusal(target, profile_rules, clock.now())
            try:
                services.cancel_online(user=users[who], reservation_id=target.pk)
            except services.BookingRefused as refused:
                event(f"cancel: refused {refused.refusals[0].code}")
                assert refusal is not None and refused.refusals[0].code == refusal.code
            else:
                event("cancel: done")
                assert refusal is None
                target.refresh_from_db()
                assert target.state == BookingState.CANCELLED and not target.holds.exists()

        @rule(pick=st.integers(0, 10), **slot_choice)
        def change(self, pick, who, which, day, index, length):
            mine = list(Reservation.objects.filter(user=users[who]).order_by("pk"))
            if not mine:
                return
            target = mine[pick % len(mine)]
            the_unit, the_day = units[which], scenario.days[day]
            chosen = slots[(the_unit.pk, the_day)][index % len(slots[(the_unit.pk, the_day)]) :][:length]
            before = (target.state, target.cancel_reason)
            try:
                new = services.change_online(
                    user=users[who],
                    reservation_id=target.pk,
                    unit=the_unit,
                    starts_at=chosen[0].starts_at,
                    ends_at=chosen[-1].ends_at,
                )
            except (services.SlotTaken, services.BookingRefused) as error:
                event(f"change: {error.refusals[0].code}")
                target.refresh_from_db()
                assert (target.state, target.cancel_reason) == before, "a refused change touched the old booking"
            else:
                event("change: done")
                target.refresh_from_db()
                assert target.state == BookingState.CANCELLED and not target.holds.exists()
                assert new.changed_from_id == target.pk and new.holds.count() == len(chosen)

        @rule(hours=st.one_of(st.integers(1, 12), st.integers(24, 24 * 12)))
        def advance_clock(self, hours):
            event("clock")
            self.clock.shift(dt.timedelta(hours=hours))

        @rule(job=st.sampled_from(["confirm", "cancel_unpaid"]))
        def run_job(self, job):
            if job == "confirm":
                event(f"confirm job: {jobs.confirm_due_bookings()['confirmed'] > 0}")
                self.last_confirm_run = clock.now()
                assert jobs.confirm_due_bookings() == {"confirmed": 0}  # idempotent
            else:
                event(f"unpaid job: {jobs.cancel_unpaid_bookings()['cancelled'] > 0}")
                self.last_purge_run = clock.now()
                assert jobs.cancel_unpaid_bookings() == {"cancelled": 0}  # idempotent

        # Invariants: one read of the active bookings, checked three ways --------------------------------------

        @invariant()
        def invariants_hold(self):
            active = list(
                Reservation.objects.filter(unit__in=units, state__in=ACTIVE_STATES).select_related("unit__facility")
            )
            self.check_no_slot_held_twice_and_holds_match(active)
            self.check_no_user_exceeds_a_limit(active)
            self.check_jobs_left_nothing_due()

        def check_no_slot_held_twice_and_holds_match(self, active):
            expected, taken = set(), set()
            for reservation in active:
                for start in expected_slot_starts(reservation, steps[reservation.unit_id]):
                    key = (reservation.unit_id, start)
                    assert key not in taken, f"slot {key} held by two active bookings"
                    taken.add(key)
                    expected.add((reservation.pk, reservation.unit_id, start))
            held = set(SlotHold.objects.filter(unit__in=units).values_list("reservation_id", "unit_id", "starts_at"))
            assert held == expected

        def check_no_user_exceeds_a_limit(self, active):
            for limit in profile_rules.limits:
                lifted = daterules.parse(limit.lifted_from) if limit.lifted_from else None
                totals = {}
                for reservation in active:
                    if reservation.origin not in limit.origins():
                        continue
                    use_date = clock.localtime(reservation.starts_at).date()
                    if lifted is not None:
                        lift = daterules.opens_at(
                            lifted,
                            use_date=use_date,
                            slot_start=reservation.starts_at,
                            facility=reservation.unit.facility,
                        )
                        if reservation.created_at >= lift:
                            continue  # booked when the limit no longer applied to that date (S-FC-4)
                    scope = {
                        BookingLimit.Scope.FACILITY: reservation.unit.facility_id,
                        BookingLimit.Scope.UNIT: reservation.unit_id,
                    }.get(limit.scope, reservation.municipality_id)
                    key = (reservation.user_id, scope, use_date.year, use_date.month)
                    totals[key] = totals.get(key, 0) + reservation.slot_count
                assert all(total <= limit.count for total in totals.values()), (limit.rule_id, totals)

        def check_jobs_left_nothing_due(self):
            if self.last_confirm_run is not None:
                assert not Reservation.objects.filter(
                    state=BookingState.PROVISIONAL, confirm_at__lte=self.last_confirm_run
                ).exists()
            if self.last_purge_run is not None:
                assert not Reservation.objects.filter(
                    state__in=[BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT], pay_by__lte=self.last_purge_run
                ).exists()

    return BookingMachine


@pytest.mark.parametrize("municipality", sorted(SCENARIOS))
def test_stateful__booking_changing_cancelling_and_jobs_in_any_order_keep_the_invariants(municipality):
    scenario = SCENARIOS[municipality]
    town = Municipality.objects.get(slug=municipality)
    BookingLimit.objects.filter(profile__municipality=town).update(count=LOWERED_LIMIT)
    users = [
        User.objects.create(
            username=f"{municipality}-machine-{n}",
            municipality=town,
            account_kind=scenario.account_kind,
            valid_from=dt.date(2020, 1, 1),
            valid_until=dt.date(2099, 3, 31),
        )
        for n in range(USERS)
    ]
    run_state_machine_as_test(machine_for(scenario, users), settings=SETTINGS)
