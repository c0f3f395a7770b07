"""Every refusal cites the rule it enforces (issue #19 item 4; docs/booking-refusals.md).

A refusal's ``code`` is the rule id of RULES.md (the seeds) whenever a municipal rule says no — taken from the
profile data where it differs per municipality (the slot rule, the registration rules, the payment places) — and a
short system code only where no municipal rule applies (slot_taken, slot_past, staff_only …).

- ``CASES``: one refusal per rule that once came out with a system code (Tamba 21:00–23:00 and an online 07:00
  start answered ``slot_invalid``, an override without a reason ``reason_required``, …). Each must cite its rule.
- ``SYSTEM_CODES``: every literal code the booking, lottery, fees, counter and registration services can answer,
  with why no municipal rule applies. A new literal code fails the scan below until it is listed here (and in the
  docs) — or, better, replaced by the rule id it enforces.
"""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.conf import settings

from accounts import registering
from accounts.models import Registration
from config import clock
from facilities.models import Municipality
from fees import services as fee_services
from fees.models import PaymentPlace
from lottery import services as lottery_services
from reservations import services
from tests.reservations.booking_helpers import attempt, book, jst, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

RULE_ID = re.compile(r"^(?:[KST]-[A-Z]+-\d+|X-\d+)$")


def codes_of(call) -> list[str]:
    """Run ``call``; the codes of the refusal it raises (a booking, lottery, payment or registration refusal)."""
    try:
        result = call()
    except (services.BookingError, registering.RegistrationRefused) as error:
        return [getattr(r, "code", None) or r.rule_id for r in getattr(error, "refusals", None) or error.problems]
    raise AssertionError(f"not refused: {result}")


def at(moment, call):
    with time_machine.travel(moment, tick=False):
        return codes_of(call)


# The cases --------------------------------------------------------------------------------------------------------

TAMBA_DAY = dt.date(2027, 7, 20)


def tamba_late_evening():
    """T-USE-1: usable 09:00–22:00 — 21:00–23:00 runs past it (once ``slot_invalid``)."""
    found = attempt(
        jst(2027, 6, 1, 10),
        user=user("tamba-resident1"),
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=TAMBA_DAY,
        start="21:00",
        end="23:00",
    )
    return found


def tamba_online_seven():
    """T-USE-1: sports units start at 07:00 only when staff approve it in advance — not online."""
    return attempt(
        jst(2027, 6, 1, 10),
        user=user("tamba-resident1"),
        unit=unit("tamba", "sample-school-gym", "gym"),
        day=TAMBA_DAY,
        start="07:00",
        end="09:00",
    )


def tamba_grant_without_reason():
    """T-APP-5: staff grant outside the windows, with a recorded reason (once ``reason_required``)."""
    return at(
        jst(2027, 6, 1, 10),
        lambda: services.book_override(
            user=user("tamba-resident1"),
            unit=unit("tamba", "kaibara", "large-meeting-room"),
            reason=" ",
            starts_at=jst(2027, 7, 20, 10),
            ends_at=jst(2027, 7, 20, 12),
            staff=user("tamba-clerk"),
        ),
    )


def tamba_early_start_without_reason():
    return at(
        jst(2027, 6, 1, 10),
        lambda: services.book_early_start(
            user=user("tamba-resident1"),
            unit=unit("tamba", "sample-school-gym", "gym"),
            reason="",
            starts_at=jst(2027, 7, 20, 7),
            ends_at=jst(2027, 7, 20, 9),
            staff=user("tamba-clerk"),
        ),
    )


def shiroi_evening_court():
    """S-HRS-1: tennis courts 07:00–19:00 from April to September (once ``slot_invalid``)."""
    return attempt(
        jst(2027, 5, 10, 10),
        user=make_user("shiroi", "evening"),
        day=dt.date(2027, 6, 15),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        start="19:00",
        end="21:00",
    )


def shiroi_early_start():
    return at(
        jst(2027, 3, 1, 10),
        lambda: services.book_early_start(
            user=user("shiroi-resident"),
            unit=unit("shiroi", "nakakido-tennis", "court-1"),
            reason="大会",
            starts_at=jst(2027, 3, 10, 6),
            ends_at=jst(2027, 3, 10, 7),
            staff=user("shiroi-clerk"),
        ),
    )


def kodaira_closure_day():
    """X-2: the center's closure calendar (2027-08-17, the 3rd Tuesday) — once ``facility_closed``."""
    return attempt(
        jst(2027, 7, 10, 10),
        user=user("kodaira-group1"),
        unit=unit("kodaira", "nakajima", "assembly-room"),
        day=dt.date(2027, 8, 17),
        start="09:00",
        end="12:00",
    )


def shiroi_lottery_twice():
    """S-LOT-3: no two applications for the same site and slot (once ``already_applied``)."""
    player, court = make_user("shiroi", "twice"), unit("shiroi", "minamiyama-tennis", "court-1")
    with time_machine.travel(jst(2027, 4, 10, 12), tick=False):
        lottery_services.apply(user=player, unit=court, starts_at=jst(2027, 6, 15, 9), ends_at=jst(2027, 6, 15, 11))
        return codes_of(
            lambda: lottery_services.apply(
                user=player, unit=court, starts_at=jst(2027, 6, 15, 9), ends_at=jst(2027, 6, 15, 11)
            )
        )


def kodaira_exempt_payment():
    """K-USE-2: an exempt group's booking has nothing to pay (once ``no_fee``)."""
    booking = book(
        jst(2027, 7, 5, 10),
        user=user("kodaira-group2"),
        unit=unit("kodaira", "josui-shinmachi", "assembly-room"),
        day=dt.date(2027, 8, 20),
        start="09:00",
        end="12:00",
    )
    return at(
        jst(2027, 8, 20, 9),
        lambda: fee_services.record_payment(
            reservation_id=booking.pk,
            amount=1,
            receipt_number="R",
            staff=user("kodaira-clerk"),
            place=PaymentPlace.objects.get(municipality__slug="kodaira"),
        ),
    )


def shiroi_payment_place_closed():
    """S-PAY-4: each payment place has its own closed days (once ``place_closed``)."""
    booking = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "payer"),
        day=dt.date(2027, 6, 15),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        start="09:00",
        end="11:00",
    )
    return at(
        jst(2027, 6, 5, 10),
        lambda: fee_services.record_payment(  # a Saturday: the city office is closed
            reservation_id=booking.pk,
            amount=630,
            receipt_number="R",
            staff=user("shiroi-clerk"),
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
        ),
    )


def tamba_payment_at_another_municipalitys_place():
    """T-PAY-1 (the municipality's payment places), not Shiroi's S-PAY-4 (once hard-coded)."""
    booking = book(
        jst(2027, 6, 1, 10),
        user=user("tamba-resident1"),
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=TAMBA_DAY,
        start="10:00",
        end="12:00",
    )
    return at(
        jst(2027, 6, 1, 11),
        lambda: fee_services.record_payment(
            reservation_id=booking.pk,
            amount=booking.fee_total,
            receipt_number="R",
            staff=user("tamba-clerk"),
            place=PaymentPlace.objects.get(name_ja="白井運動公園"),
        ),
    )


def weather_stop_not_begun():
    """S-WX-1: a stop is recorded once it happened (once ``stop_not_begun``)."""
    from fees.models import WeatherPolicy

    policy = WeatherPolicy.objects.get(municipality__slug="shiroi")
    return at(
        jst(2027, 6, 15, 9, 30),
        lambda: fee_services.weather_stop(
            day=dt.date(2027, 6, 15), start=dt.time(9, 30), end=None, policy=policy, now=clock.now()
        ),
    )


def kodaira_online_registration():
    """K-REG-1: registration only at a center's counter (once ``no_online_requests``)."""
    return codes_of(
        lambda: registering.request_online(
            Municipality.objects.get(slug="kodaira"), {"display_name": "新しい会", "username": "new-group"}
        )
    )


def shiroi_pending_request_booked_at_the_counter():
    """S-REG-1: an online request stays pending until the identity check (once ``account_inactive``)."""
    pending = make_user("shiroi", "pending", is_active=False)
    Registration.objects.create(
        user=pending,
        municipality=pending.municipality,
        status=Registration.Status.PENDING,
        created_at=jst(2027, 5, 1),
        person_name="白井 待子",
    )
    return attempt(
        jst(2027, 5, 10, 10),
        user=pending,
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 6, 15),
        start="09:00",
        end="11:00",
        channel="counter",
        booked_by=user("shiroi-clerk"),
    )


def tamba_reissued_card():
    """T-REG-2: a lost card withdraws the registration; the old user ID books nothing (once ``account_inactive``)."""
    old, new = make_user("tamba", "old-card", is_active=False), make_user("tamba", "new-card")
    withdrawn = Registration.objects.create(
        user=old,
        municipality=old.municipality,
        status=Registration.Status.WITHDRAWN,
        created_at=jst(2027, 1, 1),
        person_name="丹波 太郎",
    )
    Registration.objects.create(
        user=new, municipality=new.municipality, created_at=jst(2027, 5, 1), person_name="丹波 太郎", replaces=withdrawn
    )
    return attempt(
        jst(2027, 6, 1, 10),
        user=old,
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=TAMBA_DAY,
        start="10:00",
        end="12:00",
        channel="counter",
        booked_by=user("tamba-clerk"),
    )


CASES = [
    (tamba_late_evening, "T-USE-1"),
    (tamba_online_seven, "T-USE-1"),
    (tamba_grant_without_reason, "T-APP-5"),
    (tamba_early_start_without_reason, "T-USE-1"),
    (shiroi_evening_court, "S-HRS-1"),
    (shiroi_early_start, "S-HRS-1"),
    (kodaira_closure_day, "X-2"),
    (shiroi_lottery_twice, "S-LOT-3"),
    (kodaira_exempt_payment, "K-USE-2"),
    (shiroi_payment_place_closed, "S-PAY-4"),
    (tamba_payment_at_another_municipalitys_place, "T-PAY-1"),
    (weather_stop_not_begun, "S-WX-1"),
    (kodaira_online_registration, "K-REG-1"),
    (shiroi_pending_request_booked_at_the_counter, "S-REG-1"),
    (tamba_reissued_card, "T-REG-2"),
]


@pytest.mark.parametrize(("case", "rule_id"), CASES, ids=[case.__name__ for case, _rule in CASES])
def test_a_refusal_a_rule_covers_cites_the_rule(case, rule_id):
    codes = case()
    assert codes == [rule_id], f"{case.__name__}: {codes}, not {rule_id}"
    assert RULE_ID.match(rule_id)


# Where no municipal rule applies ----------------------------------------------------------------------------------

# Every literal code the services answer, and why no rule of the seeds covers it.
SYSTEM_CODES = {
    # who is asking
    "staff_only": "only a clerk of the municipality (authorization)",
    "staff_scope": "the clerk's counter scope (issue #7), not a municipal rule",
    "not_registered_here": "an account of another municipality: 403 in the API",
    "staff_account": "staff accounts book through the counter: 403 in the API",
    "counter_only": "a payment for several slots is taken at the counter, not by telephone: how the counter works",
    "payment_place": "a form field left empty (the payment place), not a municipal rule",
    "walk_in_unpaid": "the counter form's own rule: a person without an account has nothing to pay later from",
    "registration_required": "a walk-in where an action needs an account (an override, a transfer)",
    "account_inactive": "withdrawn for a reason no rule names (a duplicate); S-REG-1 and T-REG-2 are cited",
    "not_a_registration": "renewing a staff account or another municipality's",
    "registration_open_ended": "a profile whose registrations do not expire",
    "no_registration": "a municipality that registers no accounts on the portal",
    "not_pending": "a request already handled (a second click)",
    # what is asked does not exist or no longer applies
    "not_found": "no such booking",
    "not_active": "the booking or application is cancelled or withdrawn already",
    "already_paid": "a second payment (a second click)",
    "already_refunded": "a second refund (a race)",
    "already_marked": "a booking already marked as rained off",
    "claim_settled": "a rain/heat claim already transferred or refunded (409)",
    "not_won": "no win awaiting confirmation",
    "not_a_block": "releasing a booking that is not a block",
    "block_started": "a block stays on the record once it started",
    "key_already_lent": "a second click",
    "key_not_lent": "a second click",
    "key_already_returned": "a second click",
    "same_slot": "a change to the time the booking already has",
    "already_applied": "Kodaira: a second application for the same slot (Shiroi cites S-LOT-3)",
    "window_open": "the draw before applications close (a job run early)",
    "list_changed": "the committed list differs from the applications (the draw refuses to run)",
    # time and races
    "slot_past": "the slot has started",
    "slot_taken": "someone else holds the slot (409, X-3 is the database's)",
    "refund_changed": "the refund moved between the clerk's look and the confirmation (midnight passed)",
    # input of the clerk's forms
    "bad_input": "a form value that is not a number, date or time",
    "bad_period": "an end before the start",
    "bad_kind": "neither rain nor heat",
    "bad_minutes": "negative minutes",
    "attendance_invalid": "negative attendance",
    "times_invalid": "an end before the start",
    "wrong_amount": "the clerk typed another amount than the fee shown (the fee's rules are in its breakdown)",
    "reason_required": "a block or a closure without its reason (a grant cites its rule: T-APP-5, T-USE-1)",
    "rule_id_required": "a grant without the rule that allows it",
    "override_kind": "an unknown kind of block",
    "channel_unavailable": "an unknown channel, or no profile yet (a profile cites unavailable_channel_rule_id)",
    "unit_unavailable": "an administrator switched the unit off",
    "lottery_unavailable": "a municipality without a lottery",
    "no_weather_scheme": "a municipality without rain/heat transfers",
    "no_fee": "a booking without any fee (an exempt one cites K-USE-2)",
    "lottery": "the availability API's answer for a lottery cell (issue #19 item 7 answers it with the lottery state)",
    # cancellation alerts (issue #8): the portal's own service, its form's limits
    "alerts_unit": "a unit not in the chosen facility",
    "alerts_times": "an empty time range",
    "alerts_dates": "a date range backwards or too long",
    "alerts_over": "a date range already over",
    # the booking form's answers (issue #21 item 5): the profile asks them; no seed names a rule for them
    "purpose_required": "the profile asks the purpose of use and it was left empty",
    "purpose_too_long": "the purpose of use over its length",
    "headcount_required": "the profile asks the number of people and it was left empty",
    "headcount_invalid": "the number of people out of range",
    "terms_not_accepted": "the profile's terms of use not accepted",
    # the fallbacks of profile data left empty by an administrator (``rule_id or "…"``)
    "slot_invalid": "Kodaira's periods: the seed names no slot rule (profile.slot_rule_id empty)",
}

SCANNED = [
    "reservations",
    "lottery",
    "fees",
    "accounts/registering.py",
    "accounts/registration.py",
    "accounts/rules.py",
]
LITERAL = re.compile(r"""(?:Refusal|Problem|_refuse)\(\s*["']([a-z_]+)["']""")


def _sources():
    root = Path(settings.BASE_DIR)
    for name in SCANNED:
        path = root / name
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if "migrations" not in file.parts:
                yield file


def test_every_literal_code_is_a_listed_system_code():
    """A refusal written with a literal code fails here unless it is one of the listed system codes: a new refusal
    that a municipal rule covers must cite that rule (from the profile where it differs per municipality)."""
    found = {code: file.name for file in _sources() for code in LITERAL.findall(file.read_text())}
    assert found, "the scan found nothing: check SCANNED"
    unlisted = {code: name for code, name in found.items() if code not in SYSTEM_CODES}
    assert unlisted == {}, f"system codes without a reason in SYSTEM_CODES (cite the rule id instead?): {unlisted}"


def test_the_refusals_once_answered_with_system_codes_no_longer_are():
    found = {code for file in _sources() for code in LITERAL.findall(file.read_text())}
    for retired in (
        "facility_closed",
        "place_closed",
        "early_start_unavailable",
        "stop_not_begun",
        "stop_not_over",
        "no_online_requests",
    ):
        assert retired not in found, retired
