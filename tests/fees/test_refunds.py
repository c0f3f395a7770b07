"""Refunds of a cancelled paid booking, at each edge, with the clock moved (time-machine):

- Shiroi: own reason, 50 % until the end of D-7 (S-CAN-2); from D-6 no cancellation at all (S-CAN-1); weather
  stops play: full refund (S-WX-1, when no transfer is made).
- Tamba: own reason, full until the end of D-3, nothing from D-2 (T-CAN-1); not the user's fault: full, whenever
  (T-CAN-2).
- Kodaira: the fee is paid on the day (K-USE-2), a cancellation before the slot returns what was paid (K-FC-4).
- Never more than was paid. Windows and rates are the profile's data (fees.models.RefundRule).
"""

import datetime as dt

import pytest
import time_machine

from fees.models import RefundRule
from fees.rules import refund

from .helpers import jst

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

USE_DATE = dt.date(2027, 6, 15)  # D-7 = 06-08, D-3 = 06-12


def refund_at(moment, municipality, paid, cause="own", **kwargs):
    with time_machine.travel(moment, tick=False):
        return refund(municipality=_municipality(municipality), paid=paid, use_date=USE_DATE, cause=cause, **kwargs)


def _municipality(slug):
    from facilities.models import Municipality

    return Municipality.objects.get(slug=slug)


# Shiroi ------------------------------------------------------------------------------------------------------


def test_refund__shiroi__half_until_the_end_of_d7():
    result = refund_at(jst(2027, 6, 8, 23, 59), "shiroi", 1030)
    assert (result.amount, result.percent, result.rule_id, result.cancellable) == (515, 50, "S-CAN-2", True)
    assert result.deadline == jst(2027, 6, 9, 0, 0)  # the first instant it no longer applies


def test_refund__shiroi__from_d6_a_paid_booking_can_no_longer_be_cancelled():
    result = refund_at(jst(2027, 6, 9, 0, 0), "shiroi", 1030)
    assert (result.amount, result.rule_id, result.cancellable) == (0, "S-CAN-1", False)


def test_refund__shiroi__long_before_still_half():
    assert refund_at(jst(2027, 5, 3, 8, 30), "shiroi", 6960).amount == 3480


@pytest.mark.parametrize("moment", [jst(2027, 6, 8, 12, 0), jst(2027, 6, 15, 10, 0), jst(2027, 7, 1, 9, 0)])
def test_refund__shiroi__rained_off_is_refunded_in_full(moment):
    result = refund_at(moment, "shiroi", 2100, cause="weather")
    assert (result.amount, result.rule_id) == (2100, "S-WX-1")


@pytest.mark.parametrize(("paid", "expected"), [(150, 75), (75, 37), (3, 1), (1, 1), (0, 0)])
def test_refund__shiroi__half_cuts_fractions_off_and_a_whole_below_one_yen_counts_as_one(paid, expected):
    """端数計算法 第2条第1項 (fractions of a yen cut off) and 第2条第2項 (a debt below one yen counts as one yen)."""
    assert refund_at(jst(2027, 6, 1, 12, 0), "shiroi", paid).amount == expected


# Tamba -------------------------------------------------------------------------------------------------------


def test_refund__tamba__full_until_the_end_of_d3():
    result = refund_at(jst(2027, 6, 12, 23, 59), "tamba", 1800)
    assert (result.amount, result.percent, result.rule_id, result.cancellable) == (1800, 100, "T-CAN-1", True)


@pytest.mark.parametrize("moment", [jst(2027, 6, 13, 0, 0), jst(2027, 6, 14, 12, 0), jst(2027, 6, 15, 8, 0)])
def test_refund__tamba__nothing_from_d2_but_cancellation_is_still_accepted(moment):
    result = refund_at(moment, "tamba", 1800)
    assert (result.amount, result.rule_id, result.cancellable) == (0, "T-CAN-1", True)


@pytest.mark.parametrize("cause", ["weather", "facility"])
@pytest.mark.parametrize("moment", [jst(2027, 5, 1, 10, 0), jst(2027, 6, 13, 0, 0), jst(2027, 6, 15, 21, 0)])
def test_refund__tamba__not_the_users_fault_is_refunded_in_full_whenever(cause, moment):
    result = refund_at(moment, "tamba", 1800, cause=cause)
    assert (result.amount, result.rule_id, result.deadline) == (1800, "T-CAN-2", None)


# Kodaira -----------------------------------------------------------------------------------------------------


def test_refund__kodaira__whatever_was_paid_comes_back_until_the_slot_starts():
    starts_at = jst(2027, 6, 15, 13, 0)
    before = refund_at(jst(2027, 6, 15, 12, 59), "kodaira", 600, starts_at=starts_at)
    assert (before.amount, before.rule_id) == (600, "K-FC-4")
    after = refund_at(jst(2027, 6, 15, 13, 0), "kodaira", 600, starts_at=starts_at)
    assert (after.amount, after.cancellable) == (0, False)


# Always ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("municipality", ["shiroi", "tamba", "kodaira"])
@pytest.mark.parametrize("cause", ["own", "weather", "facility"])
@pytest.mark.parametrize("paid", [0, 1, 2, 3, 99, 101, 150, 1031, 6960])
def test_refund__never_above_what_was_paid(municipality, cause, paid):
    for moment in (jst(2027, 4, 1), jst(2027, 6, 8, 23, 59), jst(2027, 6, 12, 23, 59), jst(2027, 6, 15, 23, 0)):
        result = refund_at(moment, municipality, paid, cause=cause)
        assert 0 <= result.amount <= paid


def test_refund__windows_are_profile_data():
    """Moving Shiroi's deadline to D-10 moves the edge: no code change (X-1)."""
    rule = RefundRule.objects.get(municipality__slug="shiroi", rule_id="S-CAN-2")
    rule.until = "D-10 23:59"
    rule.full_clean()
    rule.save()
    assert refund_at(jst(2027, 6, 5, 23, 59), "shiroi", 1000).amount == 500
    assert refund_at(jst(2027, 6, 6, 0, 0), "shiroi", 1000).rule_id == "S-CAN-1"


def test_refund__without_a_rule_for_the_cause_nothing_is_refunded():
    RefundRule.objects.filter(municipality__slug="tamba", cause="weather").delete()
    result = refund_at(jst(2027, 6, 1), "tamba", 1800, cause="weather")
    assert (result.amount, result.rule_id) == (0, "no_refund_rule")


@pytest.mark.parametrize("paid", [-1, 1.5, True, "100"])
def test_refund__paid_amount_must_be_whole_non_negative_yen(paid):
    with pytest.raises(ValueError):
        refund_at(jst(2027, 6, 1), "shiroi", paid)


def test_refund__unknown_cause_is_an_error():
    with pytest.raises(ValueError):
        refund_at(jst(2027, 6, 1), "shiroi", 100, cause="bored")
