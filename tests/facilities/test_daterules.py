"""The date-rule vocabulary of rule profiles (facilities/daterules.py, DESIGN.md §3)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation

from config import clock
from facilities import daterules
from facilities.daterules import DateRule, business_days_before, closes_at, is_business_day, opens_at, parse, rule_date
from facilities.models import BookingLimit, BookingWindow, ClosureRule, RuleProfile
from tests.factories import (
    closed_at_year_end,
    closed_first_and_third_tuesdays_shifting,
    make_calendar,
    make_facility,
    make_municipality,
)

JST = ZoneInfo("Asia/Tokyo")


def jst(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=JST)


def date_of(text, use_date, **kwargs):
    return rule_date(parse(text), use_date=use_date, **kwargs)


# Parsing --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M-2/10 00:00", DateRule("month_day", months=2, day=10, time=dt.time(0, 0), text="M-2/10 00:00")),
        ("M-1/3 08:30", DateRule("month_day", months=1, day=3, time=dt.time(8, 30), text="M-1/3 08:30")),
        ("M-2/1 00:00", DateRule("month_day", months=2, day=1, time=dt.time(0, 0), text="M-2/1 00:00")),
        ("M-1/first-open 09:00", DateRule("first_open", months=1, time=dt.time(9, 0), text="M-1/first-open 09:00")),
        ("D-8 23:59", DateRule("days_before", days=8, time=dt.time(23, 59), text="D-8 23:59")),
        ("D-6 00:00", DateRule("days_before", days=6, time=dt.time(0, 0), text="D-6 00:00")),
        ("D 23:59", DateRule("days_before", days=0, time=dt.time(23, 59), text="D 23:59")),
        ("D-3bd 23:59", DateRule("days_before", days=3, business_days=True, time=dt.time(23, 59), text="D-3bd 23:59")),
        ("B+15 23:59", DateRule("after_booking", days=15, time=dt.time(23, 59), text="B+15 23:59")),
        ("B 23:59", DateRule("after_booking", days=0, time=dt.time(23, 59), text="B 23:59")),
        ("start", DateRule("slot_start", text="start")),
    ],
)
def test_parse__every_form(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("  D-8   23:59 ", "D-8 23:59"),  # spaces are not significant
        ("D-8 9:00", "D-8 9:00"),  # one-digit hour
        ("Ｄ－８　２３：５９", "D-8 23:59"),  # typed in full width with a Japanese input method
        ("Ｍ－１／ｆｉｒｓｔ－ｏｐｅｎ　０９：００", "M-1/first-open 09:00"),
    ],
)
def test_parse__spacing_and_full_width_forms(text, normal):
    assert parse(text) == parse(normal)
    assert parse(text).text == normal


def test_parse__only_b_rules_need_a_booking_date():
    assert parse("B+15 23:59").needs_booking_date
    assert not any(parse(t).needs_booking_date for t in ("D-8 23:59", "M-2/10 00:00", "start"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "   ",
        "D-8",  # no time
        "M-2/10",  # no time
        "M-1/first-open",  # no time
        "D+8 23:59",  # D counts back
        "B-1 23:59",  # B counts forward
        "D-8 24:00",  # hour out of range
        "D-8 23:60",  # minute out of range
        "D-8 23:5",  # minutes need two digits
        "M-2/0 00:00",  # no day 0
        "M-2/32 00:00",  # no day 32
        "M-2/100 00:00",
        "M/10 00:00",  # the month offset is required
        "M-2/last 00:00",  # not a form
        "M+1/10 00:00",
        "D-8bd",  # no time
        "B+15bd 23:59",  # business days only before the use date
        "d-8 23:59",  # case matters
        "start 09:00",
        "end",
        "D-٣ 23:59",  # digits of another script
        "tomorrow",
        "D-8 23:59 extra",
    ],
)
def test_parse__nonsense_is_a_validation_error(text):
    with pytest.raises(ValidationError):
        parse(text)


@pytest.fixture
def english():
    with translation.override("en"):
        yield


def test_parse__error_message_shows_the_text_and_examples(english):
    with pytest.raises(ValidationError) as error:
        parse("next week")
    message = " ".join(error.value.messages)
    assert "next week" in message and "D-8 23:59" in message


def test_parse__range_errors_say_what_is_wrong(english):
    with pytest.raises(ValidationError) as error:
        parse("M-2/32 00:00")
    assert "1–31" in " ".join(error.value.messages)
    with pytest.raises(ValidationError) as error:
        parse("D-8 25:00")
    assert "23:59" in " ".join(error.value.messages)


# Month arithmetic -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "use_date", "expected"),
    [
        ("M-2/10 00:00", dt.date(2027, 1, 20), dt.date(2026, 11, 10)),  # M-2 of January
        ("M-2/10 00:00", dt.date(2027, 2, 1), dt.date(2026, 12, 10)),  # M-2 of February
        ("M-2/10 00:00", dt.date(2027, 3, 31), dt.date(2027, 1, 10)),
        ("M-1/3 08:30", dt.date(2027, 1, 1), dt.date(2026, 12, 3)),  # M-1 of January
        ("M-2/1 00:00", dt.date(2027, 12, 31), dt.date(2027, 10, 1)),
        ("M-12/5 00:00", dt.date(2027, 6, 15), dt.date(2026, 6, 5)),
        ("M-13/5 00:00", dt.date(2027, 1, 15), dt.date(2025, 12, 5)),
        ("M-0/1 00:00", dt.date(2027, 6, 15), dt.date(2027, 6, 1)),
    ],
)
def test_rule_date__months_before_cross_year_ends(text, use_date, expected):
    assert date_of(text, use_date) == expected


@pytest.mark.parametrize(
    ("text", "use_date", "expected"),
    [
        ("M-1/31 00:00", dt.date(2027, 5, 10), dt.date(2027, 4, 30)),  # April has 30 days: clamped
        ("M-1/31 00:00", dt.date(2027, 8, 10), dt.date(2027, 7, 31)),  # July has 31
        ("M-1/30 00:00", dt.date(2027, 3, 10), dt.date(2027, 2, 28)),
        ("M-1/30 00:00", dt.date(2028, 3, 10), dt.date(2028, 2, 29)),  # leap year
        ("M-2/31 00:00", dt.date(2027, 1, 10), dt.date(2026, 11, 30)),  # clamped across the year end
        ("M-1/31 00:00", dt.date(2027, 1, 10), dt.date(2026, 12, 31)),
    ],
)
def test_rule_date__day_beyond_the_month_is_clamped_to_its_last_day(text, use_date, expected):
    assert date_of(text, use_date) == expected


@pytest.mark.parametrize(
    ("text", "use_date", "expected"),
    [
        ("D-8 23:59", dt.date(2027, 3, 5), dt.date(2027, 2, 25)),
        ("D-7 23:59", dt.date(2028, 3, 5), dt.date(2028, 2, 27)),  # across a leap day
        ("D-22 23:59", dt.date(2027, 1, 10), dt.date(2026, 12, 19)),
        ("D 23:59", dt.date(2027, 3, 5), dt.date(2027, 3, 5)),
    ],
)
def test_rule_date__calendar_days_before(text, use_date, expected):
    assert date_of(text, use_date) == expected


# Business days (T-APP-1 schools) ----------------------------------------------------------------------------------


def test_business_days__saturday_sunday_and_holidays_are_not():
    assert is_business_day(dt.date(2027, 7, 16))  # Friday
    assert not is_business_day(dt.date(2027, 7, 17))  # Saturday
    assert not is_business_day(dt.date(2027, 7, 18))  # Sunday
    assert not is_business_day(dt.date(2027, 7, 19))  # 海の日
    assert is_business_day(dt.date(2027, 12, 29))  # year-end closure days are not holidays of the nation


@pytest.mark.parametrize(
    ("use_date", "count", "expected"),
    [
        (dt.date(2027, 7, 20), 3, dt.date(2027, 7, 14)),  # Tue after a holiday Monday: Fri 16, Thu 15, Wed 14
        (dt.date(2027, 7, 20), 1, dt.date(2027, 7, 16)),
        (dt.date(2027, 5, 6), 3, dt.date(2027, 4, 27)),  # Golden Week: 5/3–5/5, the weekend, and 4/29 skipped
        (dt.date(2027, 7, 17), 1, dt.date(2027, 7, 16)),  # from a Saturday
        (dt.date(2027, 7, 14), 3, dt.date(2027, 7, 9)),  # a plain week: Tue 13, Mon 12, Fri 9
        (dt.date(2027, 7, 14), 0, dt.date(2027, 7, 14)),
    ],
)
def test_business_days__counted_back_over_holiday_weekends(use_date, count, expected):
    assert business_days_before(use_date, count) == expected


def test_business_days__d3bd_form():
    assert date_of("D-3bd 23:59", dt.date(2027, 7, 20)) == dt.date(2027, 7, 14)
    assert date_of("D-3 23:59", dt.date(2027, 7, 20)) == dt.date(2027, 7, 17)


# Opening and closing instants ---------------------------------------------------------------------------------------


def test_opens_at__is_the_named_minute():
    use_date = dt.date(2027, 6, 15)
    slot = clock.at(use_date, dt.time(9))
    assert opens_at(parse("M-1/3 08:30"), use_date=use_date, slot_start=slot) == jst(2027, 5, 3, 8, 30)
    assert opens_at(parse("D-6 00:00"), use_date=use_date, slot_start=slot) == jst(2027, 6, 9, 0, 0)


def test_closes_at__is_the_minute_after_the_named_minute():
    """ "Until D-8" includes the whole of D-8: 23:59:59.999 is inside, 00:00 of D-7 is the first refused instant."""
    use_date = dt.date(2027, 8, 20)
    slot = clock.at(use_date, dt.time(9))
    closes = closes_at(parse("D-8 23:59"), use_date=use_date, slot_start=slot)
    assert closes == jst(2027, 8, 13, 0, 0)
    assert jst(2027, 8, 12, 23, 59) + dt.timedelta(seconds=59, microseconds=999999) < closes
    assert closes_at(parse("D-7 00:00"), use_date=use_date, slot_start=slot) == jst(2027, 8, 13, 0, 1)


def test_start__opens_and_closes_at_the_slot_start():
    use_date = dt.date(2027, 8, 20)
    slot = clock.at(use_date, dt.time(18))
    assert opens_at(parse("start"), use_date=use_date, slot_start=slot) == slot
    assert closes_at(parse("start"), use_date=use_date, slot_start=slot) == slot  # the start itself is refused


def test_after_booking__counts_from_the_booking_day():
    use_date = dt.date(2027, 7, 20)
    slot = clock.at(use_date, dt.time(10))
    assert closes_at(parse("B+15 23:59"), use_date=use_date, slot_start=slot, booked_on=dt.date(2027, 6, 28)) == jst(
        2027, 7, 14
    )
    assert closes_at(parse("B 23:59"), use_date=use_date, slot_start=slot, booked_on=dt.date(2027, 6, 29)) == jst(
        2027, 6, 30
    )
    with time_machine.travel(jst(2027, 6, 29, 23, 30), tick=False):  # without a booking date: today in Japan
        assert closes_at(parse("B 23:59"), use_date=use_date, slot_start=slot) == jst(2027, 6, 30)
    with time_machine.travel(dt.datetime(2027, 6, 29, 15, 30, tzinfo=dt.UTC), tick=False):  # 00:30 on 06-30 in Japan
        assert closes_at(parse("B 23:59"), use_date=use_date, slot_start=slot) == jst(2027, 7, 1)


def test_within_daily_hours__online_until_midnight_and_staff_until_2200():
    online = (dt.time(10), dt.time(0))
    assert not daterules.within_daily_hours(jst(2027, 5, 1, 9, 59), *online)
    assert daterules.within_daily_hours(jst(2027, 5, 1, 10, 0), *online)
    assert daterules.within_daily_hours(jst(2027, 5, 1, 23, 59), *online)
    assert not daterules.within_daily_hours(jst(2027, 5, 2, 0, 0), *online)
    staff = (dt.time(9), dt.time(22))
    assert not daterules.within_daily_hours(jst(2027, 5, 1, 8, 59), *staff)
    assert daterules.within_daily_hours(jst(2027, 5, 1, 9, 0), *staff)
    assert daterules.within_daily_hours(jst(2027, 5, 1, 21, 59), *staff)
    assert not daterules.within_daily_hours(jst(2027, 5, 1, 22, 0), *staff)
    assert daterules.within_daily_hours(jst(2027, 5, 1, 3, 0), None, None)
    # An instant given in UTC is judged in Japan time: 01:00 UTC is 10:00 JST.
    assert daterules.within_daily_hours(dt.datetime(2027, 5, 1, 1, 0, tzinfo=dt.UTC), *online)


# First open day (K-FC-1) --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_open__skips_the_facilitys_closure_days():
    kodaira = make_municipality("kodaira")
    calendar = make_calendar(
        kodaira,
        rules=[
            closed_first_and_third_tuesdays_shifting(),
            closed_at_year_end(),
            {"kind": ClosureRule.Kind.DATES, "start_date": dt.date(2027, 7, 1)},
        ],
    )
    facility = make_facility(kodaira, calendar=calendar)
    rule = parse("M-1/first-open 09:00")
    aug = dt.date(2027, 8, 20)
    assert opens_at(rule, use_date=aug, slot_start=clock.at(aug, dt.time(9)), facility=facility) == jst(2027, 7, 2, 9)
    assert opens_at(rule, use_date=aug, slot_start=clock.at(aug, dt.time(9))) == jst(
        2027, 7, 1, 9
    )  # no facility: the 1st
    feb = dt.date(2028, 2, 10)  # January 2028: 1–3 year end, 4 the 1st Tuesday
    assert opens_at(rule, use_date=feb, slot_start=clock.at(feb, dt.time(9)), facility=facility) == jst(2028, 1, 5, 9)


@pytest.mark.django_db
def test_first_open__a_month_without_an_open_day_never_opens():
    town = make_municipality("town")
    calendar = make_calendar(
        town,
        rules=[{"kind": ClosureRule.Kind.DATES, "start_date": dt.date(2027, 7, 1), "end_date": dt.date(2027, 7, 31)}],
    )
    facility = make_facility(town, calendar=calendar)
    aug = dt.date(2027, 8, 20)
    rule = parse("M-1/first-open 09:00")
    assert rule_date(rule, use_date=aug, facility=facility) is None
    assert opens_at(rule, use_date=aug, slot_start=clock.at(aug, dt.time(9)), facility=facility) is None


# The profile rows validate their rules ------------------------------------------------------------------------------


def _window(**fields):
    values = {
        "phase": "first_come",
        "channel": "online",
        "opens": "M-1/3 08:30",
        "closes": "D-7 23:59",
        "opens_rule_id": "X",
        "closes_rule_id": "X",
    } | fields
    return BookingWindow(**values)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"opens": "D-3 00:00", "closes": "D-8 23:59"}, "closes"),  # closes before it opens
        ({"opens": "D-6 00:00", "closes": "D-6 00:00"}, None),  # an empty-looking window is allowed: one minute
        ({"opens": "M-1/3 08:30", "closes": "M-2/1 00:00"}, "closes"),
        ({"opens": "B 00:00", "closes": "D-7 23:59"}, "opens"),  # B… is for payment deadlines
        ({"closes": "D-7 25:00"}, "closes"),
        ({"pay_by": "next week"}, "pay_by"),
        ({"service_from": dt.time(10), "service_until": None}, "service_until"),
        ({"service_from": dt.time(22), "service_until": dt.time(9)}, "service_until"),
        ({"service_from": dt.time(10), "service_until": dt.time(0)}, None),  # 10:00–24:00
    ],
)
def test_booking_window__clean(fields, field):
    window = _window(**fields)
    if field is None:
        window.clean()
        return
    with pytest.raises(ValidationError) as error:
        window.clean()
    assert field in error.value.message_dict


def test_booking_limit__clean_refuses_unknown_origins():
    BookingLimit(
        rule_id="X", phase="first_come", scope="facility", count=4, counted_origins="first_come,lottery"
    ).clean()
    with pytest.raises(ValidationError) as error:
        BookingLimit(
            rule_id="X", phase="first_come", scope="facility", count=4, counted_origins="first_come,raffle"
        ).clean()
    assert "counted_origins" in error.value.message_dict


def test_rule_profile__clean_refuses_unknown_states():
    RuleProfile(online_cancellable_states="provisional, awaiting_payment").clean()
    with pytest.raises(ValidationError):
        RuleProfile(online_cancellable_states="provisional,paid").clean()


@pytest.mark.parametrize("module", ["kodaira", "shiroi", "tamba"])
def test_demo_profiles__every_window_and_limit_is_valid(module):
    import importlib

    profile = importlib.import_module(f"demo.{module}").PROFILE
    for spec in profile["windows"]:
        values = dict(spec)
        for key in ("service_from", "service_until"):
            if values.get(key):
                values[key] = dt.time.fromisoformat(values[key])
        window = _window(**values)
        window.clean()
        for field in ("opens", "closes", "pay_by"):
            if getattr(window, field):
                parse(getattr(window, field))
    for spec in profile["limits"]:
        limit = BookingLimit(**spec)
        limit.clean()
        if limit.lifted_from:
            parse(limit.lifted_from)
