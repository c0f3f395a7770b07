"""Registration validity, renewal and expiry (issue #6 item 2): K-REG-3, S-REG-3, T-REG-1, on the seeded demo profiles.

Decisions tested here (accounts/registration.py): ``valid_until`` is the last valid day; "3 years from issue" ends
the day before the third anniversary; T-REG-1's renewal opens 3 calendar months before the last valid day.
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts import jobs, notify, registration, services
from accounts.models import User
from facilities.models import RuleProfile
from lottery import services as lottery_services
from reservations.models import Reservation
from tests.reservations.booking_helpers import attempt, jst, make_lottery_win, make_user, unit, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def profile(slug: str) -> RuleProfile:
    return RuleProfile.objects.get(municipality__slug=slug)


def renew_codes(resident, clerk, today):
    try:
        services.renew(resident, clerk, today=today)
    except services.RenewalError as error:
        return [refusal.code for refusal in error.refusals]
    return []


# Validity from the profile --------------------------------------------------------------------------------------


def test_validity__shiroi__until_march_31_of_the_following_year():
    assert registration.validity_until(profile("shiroi"), dt.date(2027, 2, 10)) == dt.date(2028, 3, 31)  # S-REG-3
    assert registration.validity_until(profile("shiroi"), dt.date(2027, 4, 1)) == dt.date(2028, 3, 31)
    assert registration.validity_until(profile("shiroi"), dt.date(2027, 12, 31)) == dt.date(2028, 3, 31)


def test_validity__three_years_from_issue__ends_the_day_before_the_anniversary():
    for slug in ("kodaira", "tamba"):  # K-REG-3, T-REG-1
        assert registration.validity_until(profile(slug), dt.date(2026, 4, 1)) == dt.date(2029, 3, 31)
        assert registration.validity_until(profile(slug), dt.date(2028, 2, 29)) == dt.date(2031, 2, 28)


def test_demo_users__validity_follows_their_profile():
    assert user("shiroi-resident").valid_until == dt.date(2027, 3, 31)
    assert user("kodaira-group1").valid_until == dt.date(2029, 3, 31)
    assert user("tamba-resident1").valid_until == dt.date(2029, 3, 31)
    assert user("kodaira-clerk").valid_until is None


# Expired registrations cannot book or apply (the refusal names the profile's rule) ----------------------------


def test_shiroi__registered_2027_02_10__valid_through_2028_03_31__refused_from_04_01():
    resident = make_user(
        "shiroi",
        "reg-shiroi",
        valid_from=dt.date(2027, 2, 10),
        valid_until=registration.validity_until(profile("shiroi"), dt.date(2027, 2, 10)),
    )
    assert resident.valid_until == dt.date(2028, 3, 31)
    assert resident.is_valid_on(dt.date(2028, 3, 31)) and not resident.is_valid_on(dt.date(2028, 4, 1))
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    day = dt.date(2028, 4, 20)
    before = attempt(jst(2028, 3, 31, 12, 0), user=resident, unit=court, day=day, start="09:00", end="11:00")
    after = attempt(jst(2028, 4, 1, 12, 0), user=resident, unit=court, day=day, start="09:00", end="11:00")
    assert isinstance(before, Reservation) or "S-REG-3" not in before
    assert isinstance(after, list) and "S-REG-3" in after


@pytest.mark.parametrize(
    ("slug", "facility", "code", "rule", "start", "end"),
    [
        ("kodaira", "nakajima", "assembly-room", "K-REG-3", "13:00", "17:00"),
        ("shiroi", "minamiyama-tennis", "court-1", "S-REG-3", "09:00", "11:00"),
        ("tamba", "kaibara", "large-meeting-room", "T-REG-1", "10:00", "12:00"),
    ],
)
def test_booking__expired_registration__refused_with_the_profile_rule(slug, facility, code, rule, start, end):
    expired = make_user(slug, f"expired-{slug}", valid_from=dt.date(2024, 4, 1), valid_until=dt.date(2027, 3, 31))
    valid = make_user(slug, f"valid-{slug}")
    room = unit(slug, facility, code)
    codes = attempt(jst(2027, 6, 10, 12, 0), user=expired, unit=room, day=dt.date(2027, 8, 20), start=start, end=end)
    assert isinstance(codes, list) and rule in codes
    other = attempt(jst(2027, 6, 10, 12, 0), user=valid, unit=room, day=dt.date(2027, 8, 20), start=start, end=end)
    assert isinstance(other, Reservation) or rule not in other


@pytest.mark.parametrize(
    ("slug", "facility", "code", "rule", "moment", "day"),
    [
        ("kodaira", "nakajima", "assembly-room", "K-REG-3", jst(2027, 6, 15, 12, 0), dt.date(2027, 8, 20)),
        ("shiroi", "minamiyama-tennis", "court-1", "S-REG-3", jst(2027, 4, 10, 12, 0), dt.date(2027, 6, 15)),
    ],
)
def test_lottery__expired_registration__refused_with_the_profile_rule(slug, facility, code, rule, moment, day):
    from config import clock

    expired = make_user(slug, f"expired-lot-{slug}", valid_from=dt.date(2024, 4, 1), valid_until=dt.date(2027, 3, 31))
    valid = make_user(slug, f"valid-lot-{slug}")
    room = unit(slug, facility, code)
    starts_at, ends_at = clock.at(day, dt.time(9)), clock.at(day, dt.time(11) if slug == "shiroi" else dt.time(12))
    with time_machine.travel(moment, tick=False):
        refused = lottery_services.evaluate(user=expired, unit=room, starts_at=starts_at, ends_at=ends_at).refusals
        accepted = lottery_services.evaluate(user=valid, unit=room, starts_at=starts_at, ends_at=ends_at).refusals
    assert rule in [r.code for r in refused]
    assert rule not in [r.code for r in accepted]


def test_expired_registration__can_still_log_in_and_see_its_bookings(client):
    expired = make_user("shiroi", "expired-login", valid_from=dt.date(2024, 4, 1), valid_until=dt.date(2025, 3, 31))
    expired.set_password("yoyaku-demo")
    expired.save()
    response = client.post("/accounts/login/", {"login": "expired-login", "password": "yoyaku-demo"})
    assert response.status_code == 302
    assert client.get("/shiroi/my/bookings/").status_code == 200


# Renewal at the counter (T-REG-1, S-REG-3) ----------------------------------------------------------------------


def test_tamba__renewal_refused_3_months_and_a_day_before_expiry__accepted_3_months_before():
    card = make_user("tamba", "reg-tamba", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    clerk = user("tamba-clerk")
    assert renew_codes(card, clerk, dt.date(2028, 12, 30)) == ["T-REG-1"]
    card.refresh_from_db()
    assert card.valid_until == dt.date(2029, 3, 31)
    assert renew_codes(card, clerk, dt.date(2028, 12, 31)) == []
    card.refresh_from_db()
    assert card.valid_until == dt.date(2032, 3, 31)  # the new 3 years follow on from the old end


def test_tamba__renewal_after_expiry__three_years_from_the_renewal_day():
    card = make_user("tamba", "reg-tamba-late", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    services.renew(card, user("tamba-clerk"), today=dt.date(2029, 5, 10))
    card.refresh_from_db()
    assert card.valid_until == dt.date(2032, 5, 9)


def test_shiroi__renewal__until_march_31_after_the_renewal_day():
    resident = make_user(
        "shiroi", "reg-shiroi-renew", valid_from=dt.date(2027, 2, 10), valid_until=dt.date(2028, 3, 31)
    )
    services.renew(resident, user("shiroi-clerk"), today=dt.date(2028, 3, 1))
    resident.refresh_from_db()
    assert resident.valid_until == dt.date(2029, 3, 31)


def test_renewal__only_by_staff_of_the_same_municipality():
    card = make_user("tamba", "reg-tamba-staff", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    assert renew_codes(card, user("shiroi-clerk"), dt.date(2029, 1, 10)) == ["staff_only"]
    assert renew_codes(card, user("tamba-resident1"), dt.date(2029, 1, 10)) == ["staff_only"]
    card.refresh_from_db()
    assert card.valid_until == dt.date(2029, 3, 31)


# Rolling renewal (K-REG-3) --------------------------------------------------------------------------------------


def test_kodaira__rolling_renewal__used_extended__unused_not__second_run_changes_nothing():
    room = unit("kodaira", "nakajima", "assembly-room")
    used = make_user("kodaira", "rolling-used", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    unused = make_user("kodaira", "rolling-unused", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    make_lottery_win(user=used, unit=room, day=dt.date(2028, 6, 20), start="13:00", end="17:00")
    # Booked but cancelled does not count as used.
    make_lottery_win(user=unused, unit=room, day=dt.date(2028, 6, 21), start="13:00", end="17:00", state="cancelled")

    with time_machine.travel(jst(2029, 3, 30, 0, 1), tick=False):
        assert services.apply_rolling_renewals() == 0  # not due before the last valid day
    with time_machine.travel(jst(2029, 3, 31, 0, 1), tick=False):
        assert jobs.apply_rolling_renewals() == {"extended": 1}
        assert services.apply_rolling_renewals() == 0  # second run: nothing more
    used.refresh_from_db()
    unused.refresh_from_db()
    assert used.valid_until == dt.date(2030, 3, 31)
    assert unused.valid_until == dt.date(2029, 3, 31)
    with time_machine.travel(jst(2029, 4, 1, 12, 0), tick=False):
        assert used.is_valid_on() and not unused.is_valid_on()

    # A year on, the use of 2028-06-20 is still within the 3 years ending on 2030-03-31: one more year.
    with time_machine.travel(jst(2030, 3, 31, 0, 1), tick=False):
        assert services.apply_rolling_renewals() == 1
    used.refresh_from_db()
    assert used.valid_until == dt.date(2031, 3, 31)
    # ... and on 2031-03-31 too (period 2028-04-01 – 2031-03-31); then it has fallen out of the period.
    with time_machine.travel(jst(2031, 3, 31, 0, 1), tick=False):
        assert services.apply_rolling_renewals() == 1
    with time_machine.travel(jst(2032, 3, 31, 0, 1), tick=False):
        assert services.apply_rolling_renewals() == 0
    used.refresh_from_db()
    assert used.valid_until == dt.date(2032, 3, 31)


def test_kodaira__rolling_renewal__a_slot_not_yet_ended_does_not_count():
    room = unit("kodaira", "nakajima", "assembly-room")
    group = make_user("kodaira", "rolling-today", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    make_lottery_win(user=group, unit=room, day=dt.date(2029, 3, 31), start="13:00", end="17:00")
    with time_machine.travel(jst(2029, 3, 31, 0, 1), tick=False):
        assert services.apply_rolling_renewals() == 0
    with time_machine.travel(jst(2029, 4, 1, 0, 1), tick=False):  # the next day's run catches it
        assert services.apply_rolling_renewals() == 1
    group.refresh_from_db()
    assert group.valid_until == dt.date(2030, 3, 31)


def test_rolling_renewal__not_for_profiles_without_it():
    card = make_user("tamba", "rolling-tamba", valid_from=dt.date(2026, 4, 1), valid_until=dt.date(2029, 3, 31))
    make_lottery_win(
        user=card,
        unit=unit("tamba", "kaibara", "large-meeting-room"),
        day=dt.date(2028, 6, 20),
        start="13:00",
        end="17:00",
    )
    with time_machine.travel(jst(2029, 3, 31, 0, 1), tick=False):
        services.apply_rolling_renewals()
    card.refresh_from_db()
    assert card.valid_until == dt.date(2029, 3, 31)


# Expiry e-mail ---------------------------------------------------------------------------------------------------


def expiry_run():
    """The job's notices, then the outbox sending them (after commit in production; the test's transaction never
    commits)."""
    services.send_expiry_notices()
    notify.deliver_pending()


def test_expiry_notice__sent_once_30_days_before__in_japanese():
    resident = make_user(
        "shiroi",
        "notice-shiroi",
        email="notice@example.com",
        valid_from=dt.date(2027, 2, 10),
        valid_until=dt.date(2028, 3, 31),
    )
    make_user("shiroi", "notice-no-address", valid_from=dt.date(2027, 2, 10), valid_until=dt.date(2028, 3, 31))
    mail.outbox.clear()
    with time_machine.travel(jst(2028, 2, 29, 9, 0), tick=False):
        expiry_run()
    assert [m for m in mail.outbox if m.to == ["notice@example.com"]] == []
    with time_machine.travel(jst(2028, 3, 1, 9, 0), tick=False):  # 30 days before 2028-03-31
        jobs.send_expiry_notices()
        notify.deliver_pending()
        expiry_run()
    with time_machine.travel(jst(2028, 3, 2, 9, 0), tick=False):
        expiry_run()
    sent = [m for m in mail.outbox if m.to == ["notice@example.com"]]
    assert len(sent) == 1
    assert "2028年3月31日" in sent[0].subject and "2028年3月31日" in sent[0].body
    resident.refresh_from_db()
    assert resident.expiry_notice_sent_for == dt.date(2028, 3, 31)

    # Renewed: the new end gets its own notice, 30 days before it.
    services.renew(resident, user("shiroi-clerk"), today=dt.date(2028, 3, 5))
    mail.outbox.clear()
    with time_machine.travel(jst(2029, 3, 1, 9, 0), tick=False):
        expiry_run()
    assert [m.to for m in mail.outbox if m.to == ["notice@example.com"]] == [["notice@example.com"]]


def test_expiry_notice__tamba_names_the_first_renewal_day():
    make_user(
        "tamba",
        "notice-tamba",
        email="card@example.com",
        valid_from=dt.date(2026, 4, 1),
        valid_until=dt.date(2029, 3, 31),
    )
    mail.outbox.clear()
    with time_machine.travel(jst(2029, 3, 1, 9, 0), tick=False):
        expiry_run()
    (message,) = [m for m in mail.outbox if m.to == ["card@example.com"]]
    assert "2028年12月31日" in message.body


def test_expiry_notice__not_for_a_kodaira_group_that_will_continue():
    room = unit("kodaira", "nakajima", "assembly-room")
    used = make_user(
        "kodaira",
        "notice-used",
        email="used@example.com",
        valid_from=dt.date(2026, 4, 1),
        valid_until=dt.date(2029, 3, 31),
    )
    make_user(
        "kodaira",
        "notice-unused",
        email="unused@example.com",
        valid_from=dt.date(2026, 4, 1),
        valid_until=dt.date(2029, 3, 31),
    )
    make_lottery_win(user=used, unit=room, day=dt.date(2028, 6, 20), start="13:00", end="17:00")
    mail.outbox.clear()
    with time_machine.travel(jst(2029, 3, 1, 9, 0), tick=False):
        expiry_run()
    assert sorted(m.to[0] for m in mail.outbox if m.to[0] in ("used@example.com", "unused@example.com")) == [
        "unused@example.com"
    ]
    assert User.objects.get(username="notice-used").expiry_notice_sent_for is None
