"""Cancellation alerts (issue #8 item 2): watching a taken slot or a pattern, the e-mail when a slot frees up.

Shiroi, 南山公園 tennis (S-HRS-1: June 07:00–19:00, 2-hour slots). Use day 2027-06-15 is a Tuesday; bookings are
made online on 2027-05-03 08:30 (S-FC-2) and are provisional until paid (S-PAY-1), so their holder may cancel
them online (S-PAY-3). The unpaid deadline is the end of D-7: the job cancels at 2027-06-09 00:00, the first
refused minute (S-PAY-2).
"""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client

from accounts.models import Notice
from reservations import alerts, jobs, services
from reservations.models import FreedSlot, Reservation, SlotWatch
from tests.reservations.booking_helpers import book, jst, make_lottery_win, make_user, unit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

BOOKED_AT = jst(2027, 5, 3, 8, 30)
USE_DAY = dt.date(2027, 6, 15)  # a Tuesday
WEEK = "2027-06-13"  # a Sunday: week grids start on Sunday
BASE = "https://yoyaku.example/"


def travel(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def court():
    return unit("shiroi", "minamiyama-tennis", "court-1")


@pytest.fixture
def court2():
    return unit("shiroi", "minamiyama-tennis", "court-2")


@pytest.fixture
def holder():
    return make_user("shiroi", "holder", email="holder@example.jp")


@pytest.fixture
def taken(holder, court):
    """The holder's provisional booking of court 1, 2027-06-15 09:00–11:00."""
    return book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="09:00", end="11:00")


def resident(name):
    return make_user("shiroi", name, email=f"{name}@example.jp")


def watch(user, court, moment=jst(2027, 5, 4, 10), start="09:00", end="11:00", day=USE_DAY):
    with travel(moment):
        created, _new = alerts.watch_slot(
            user=user,
            unit=court,
            starts_at=jst(day.year, day.month, day.day, *map(int, start.split(":"))),
            ends_at=jst(day.year, day.month, day.day, *map(int, end.split(":"))),
            base_url=BASE,
        )
    return created


def cancel(capture, reservation, moment=jst(2027, 5, 10, 12)):
    """The holder cancels online (S-PAY-3), the after-commit hooks run."""
    with travel(moment), capture(execute=True):
        services.cancel_online(user=reservation.user, reservation_id=reservation.pk)


def release(capture, reservation, moment=jst(2027, 5, 10, 12), reason=Reservation.CancelReason.STAFF):
    """Any other path that frees a booking's slots (fees' counter cancellation and closures use this one)."""
    with travel(moment), capture(execute=True), transaction.atomic():
        locked = Reservation.objects.select_for_update().get(pk=reservation.pk)
        services.release(locked, reason=reason, now=moment)


def logged_in(user, moment=jst(2027, 5, 4, 10)) -> Client:
    """A client logged in at ``moment`` (a session lasts two weeks: log in when the test's clock is)."""
    client = Client()
    with travel(moment):
        client.force_login(user)
    return client


def alert_mails():
    return [m for m in mail.outbox if "/book/" in m.body]


def slot_link(court, day="2027-06-15", span="0900-1100"):
    return f"https://yoyaku.example/shiroi/book/{court.pk}/{day}/{span}/"


# Slot watches -------------------------------------------------------------------------------------------------


def test_slot_watch__fires_once_on_cancel_with_a_link_to_book(taken, court, django_capture_on_commit_callbacks):
    watcher = resident("watcher")
    w = watch(watcher, court)
    mail.outbox.clear()
    cancel(django_capture_on_commit_callbacks, taken)

    sent = alert_mails()
    assert [m.to for m in sent] == [["watcher@example.jp"]]
    assert slot_link(court) in sent[0].body
    assert "09:00–11:00" in sent[0].body
    w.refresh_from_db()
    assert w.fired_at == jst(2027, 5, 10, 12) and w.fire_count == 1 and w.status(jst(2027, 5, 10, 12)) == "fired"
    notice = Notice.objects.get(user=watcher)
    assert (
        notice.kind == alerts.NOTICE_KIND
        and notice.key == f"slot_free:{w.pk}:{court.pk}:{int(jst(2027, 6, 15, 9).timestamp())}:{taken.pk}"
    )
    # No automatic booking, no hold: the slot is first-come.
    assert not Reservation.objects.filter(user=watcher).exists()

    # The slot is taken and freed again: a slot watch fired once and is done.
    again = book(jst(2027, 5, 11, 9), user=resident("other"), unit=court, day=USE_DAY, start="09:00", end="11:00")
    mail.outbox.clear()
    cancel(django_capture_on_commit_callbacks, again, moment=jst(2027, 5, 12, 9))
    assert alert_mails() == []


def test_slot_watch__hook_running_twice_for_one_freeing_tells_once(taken, court, django_capture_on_commit_callbacks):
    watch(resident("watcher"), court)
    cancel(django_capture_on_commit_callbacks, taken)
    freeing = FreedSlot.objects.get(reservation_id=taken.pk)
    assert freeing.handled_at == jst(2027, 5, 10, 12)  # told by the hook at once
    # As if the hook's process had died after writing the notice but before the row's commit: handled again.
    FreedSlot.objects.filter(pk=freeing.pk).update(handled_at=None)
    with travel(jst(2027, 5, 10, 12, 1)), django_capture_on_commit_callbacks(execute=True):
        assert alerts.slots_freed() == {"handled": 1, "told": 0}
    assert Notice.objects.filter(kind=alerts.NOTICE_KIND).count() == 1


def test_slot_watch__emails_follow_the_order_of_asking(taken, court, django_capture_on_commit_callbacks):
    second, first, third = resident("second"), resident("first"), resident("third")
    watch(second, court, moment=jst(2027, 5, 4, 10))
    watch(first, court, moment=jst(2027, 5, 4, 9))  # written after, but asked earlier
    watch(third, court, moment=jst(2027, 5, 4, 10))  # the same minute as "second": the id decides
    mail.outbox.clear()
    cancel(django_capture_on_commit_callbacks, taken)
    assert [m.to[0] for m in alert_mails()] == ["first@example.jp", "second@example.jp", "third@example.jp"]
    notices = Notice.objects.filter(kind=alerts.NOTICE_KIND).order_by("id")
    assert [n.user.username for n in notices] == ["first", "second", "third"]


def test_slot_watch__the_canceller_is_not_notified(taken, court, holder, django_capture_on_commit_callbacks):
    # The holder also watches the facility's Tuesday mornings (a pattern covering their own booking).
    with travel(jst(2027, 5, 4, 10)):
        alerts.watch_pattern(
            user=holder,
            pattern=alerts.Pattern(
                facility=court.facility,
                unit=None,
                unit_kind="",
                weekday=1,
                from_minute=8 * 60,
                to_minute=12 * 60,
                date_from=dt.date(2027, 6, 1),
                date_to=dt.date(2027, 6, 30),
            ),
            base_url=BASE,
        )
    watch(resident("watcher"), court)
    mail.outbox.clear()
    cancel(django_capture_on_commit_callbacks, taken)
    assert [m.to[0] for m in alert_mails()] == ["watcher@example.jp"]
    assert not Notice.objects.filter(user=holder, kind=alerts.NOTICE_KIND).exists()


def test_slot_watch__unpaid_deletion_fires_at_the_first_refused_minute(
    taken, court, django_capture_on_commit_callbacks
):
    w = watch(resident("watcher"), court)
    mail.outbox.clear()
    with travel(jst(2027, 6, 8, 23, 59)), django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel_unpaid_bookings() == {"cancelled": 0}  # the last minute still on time (S-PAY-2)
    assert alert_mails() == []
    with travel(jst(2027, 6, 9, 0, 0)), django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel_unpaid_bookings() == {"cancelled": 1}
    assert [m.to[0] for m in alert_mails()] == ["watcher@example.jp"]
    w.refresh_from_db()
    assert w.fired_at == jst(2027, 6, 9, 0, 0)
    with travel(jst(2027, 6, 9, 0, 5)), django_capture_on_commit_callbacks(execute=True):
        assert jobs.cancel_unpaid_bookings() == {"cancelled": 0}
    assert len(alert_mails()) == 1


def test_slot_watch__facility_closure_and_lottery_forfeit_free_slots_too(
    taken, court, court2, django_capture_on_commit_callbacks
):
    """T-CAN-2 (fees.services.cancel_for_facility → services.release) and S-LOT-5 (lottery.services._free)."""
    from accounts.models import User
    from fees import services as fee_services
    from lottery import services as lottery_services

    win = make_lottery_win(
        user=resident("winner"), unit=court2, day=USE_DAY, start="09:00", end="11:00", state="provisional"
    )
    watcher = resident("watcher")
    watch(watcher, court)
    watch(watcher, court2)
    mail.outbox.clear()
    clerk = User.objects.get(username="shiroi-clerk")
    with travel(jst(2027, 5, 10, 12)), django_capture_on_commit_callbacks(execute=True):
        fee_services.cancel_for_facility(
            municipality_id=court.municipality_id,
            units=[court],
            date_from=USE_DAY,
            date_to=USE_DAY,
            staff=clerk,
            reason="repairs of the fence",
        )
    assert [slot_link(court) in m.body for m in alert_mails()] == [True]
    with travel(jst(2027, 5, 10, 13)), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lottery_services._free([win.pk], reason=Reservation.CancelReason.USER, now=jst(2027, 5, 10, 13))
    assert [(slot_link(court) in m.body, slot_link(court2) in m.body) for m in alert_mails()] == [
        (True, False),
        (False, True),
    ]


def test_slot_watch__a_slot_held_again_in_the_same_transaction_tells_nobody(
    taken, court, django_capture_on_commit_callbacks
):
    w = watch(resident("watcher"), court)
    with travel(jst(2027, 5, 10, 12)), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = Reservation.objects.select_for_update().get(pk=taken.pk)
        services.release(locked, reason=Reservation.CancelReason.STAFF, now=jst(2027, 5, 10, 12))
        book(jst(2027, 5, 10, 12), user=resident("quick"), unit=court, day=USE_DAY, start="09:00", end="11:00")
    assert not Notice.objects.filter(kind=alerts.NOTICE_KIND).exists()
    w.refresh_from_db()
    assert w.fired_at is None  # still watching


def test_slot_watch__refused_for_a_free_slot_own_booking_or_the_past(taken, court, holder):
    with pytest.raises(alerts.AlertRefused) as free:
        watch(resident("watcher"), court, start="11:00", end="13:00")
    assert free.value.refusal.code == "slot_free"
    with pytest.raises(alerts.AlertRefused) as mine:
        watch(holder, court)
    assert mine.value.refusal.code == "slot_mine"
    with pytest.raises(alerts.AlertRefused) as past:
        watch(resident("late"), court, moment=jst(2027, 6, 15, 9))
    assert past.value.refusal.code == "slot_past"


def test_slot_watch__expires_by_itself_when_the_slot_starts(taken, court):
    watcher = resident("watcher")
    w = watch(watcher, court)
    assert w.is_active(jst(2027, 6, 15, 8, 59))
    assert not w.is_active(jst(2027, 6, 15, 9, 0))
    with travel(jst(2027, 6, 15, 9, 0)):
        listed = alerts.my_watches(user=watcher, municipality_id=court.municipality_id)
    assert listed["active"] == [] and [x.current_status for x in listed["ended"]] == ["over"]


# Pattern watches ----------------------------------------------------------------------------------------------


def test_pattern__matches_only_its_weekday_time_and_range(holder, court, court2, django_capture_on_commit_callbacks):
    watcher = resident("watcher")
    with travel(jst(2027, 5, 4, 10)):
        w = alerts.watch_pattern(
            user=watcher,
            base_url=BASE,
            pattern=alerts.Pattern(
                facility=court.facility,
                unit=None,
                unit_kind="",
                weekday=1,
                from_minute=8 * 60,
                to_minute=12 * 60,
                date_from=dt.date(2027, 6, 1),
                date_to=dt.date(2027, 6, 30),
            ),
        )
    bookings = {
        "match": book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="09:00", end="11:00"),
        "match_court2": book(BOOKED_AT, user=holder, unit=court2, day=USE_DAY, start="09:00", end="11:00"),
        "afternoon": book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="15:00", end="17:00"),
        "past_noon": book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="11:00", end="13:00"),
        "wednesday": book(BOOKED_AT, user=holder, unit=court, day=dt.date(2027, 6, 16), start="09:00", end="11:00"),
        "july": make_lottery_win(user=holder, unit=court, day=dt.date(2027, 7, 6), start="09:00", end="11:00"),
        "other_site": book(
            BOOKED_AT,
            user=holder,
            unit=unit("shiroi", "nakakido-tennis", "court-1"),
            day=USE_DAY,
            start="09:00",
            end="11:00",
        ),
    }
    mail.outbox.clear()
    for reservation in bookings.values():
        release(django_capture_on_commit_callbacks, reservation)
    sent = alert_mails()
    assert len(sent) == 2  # once per freed matching slot: court 1 and court 2 on Tuesday 09:00–11:00
    assert slot_link(court) in sent[0].body and slot_link(court2) in sent[1].body
    w.refresh_from_db()
    assert (w.fire_count, w.fired_at, w.is_active(jst(2027, 5, 10, 12))) == (2, None, True)  # keeps watching
    assert not w.is_active(jst(2027, 7, 1, 0, 0))  # its range is over after June 30


def test_pattern__one_unit_only(holder, court, court2, django_capture_on_commit_callbacks):
    watcher = resident("watcher")
    with travel(jst(2027, 5, 4, 10)):
        alerts.watch_pattern(
            user=watcher,
            base_url=BASE,
            pattern=alerts.Pattern(
                facility=court.facility,
                unit=court2,
                unit_kind="",
                weekday=None,
                from_minute=7 * 60,
                to_minute=19 * 60,
                date_from=dt.date(2027, 6, 1),
                date_to=dt.date(2027, 6, 30),
            ),
        )
    one = book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="09:00", end="11:00")
    two = book(BOOKED_AT, user=holder, unit=court2, day=USE_DAY, start="13:00", end="15:00")
    mail.outbox.clear()
    release(django_capture_on_commit_callbacks, one)
    release(django_capture_on_commit_callbacks, two)
    assert [slot_link(court2, span="1300-1500") in m.body for m in alert_mails()] == [True]


def test_pattern__refusals(court):
    watcher = resident("watcher")
    base = {
        "facility": court.facility,
        "unit": None,
        "unit_kind": "",
        "weekday": 5,
        "from_minute": 9 * 60,
        "to_minute": 12 * 60,
        "date_from": dt.date(2027, 5, 1),
        "date_to": dt.date(2027, 5, 31),
    }
    cases = {
        "alerts_times": {"from_minute": 12 * 60, "to_minute": 9 * 60},
        "alerts_dates": {"date_to": dt.date(2027, 4, 30)},
        "alerts_over": {"date_from": dt.date(2027, 4, 1), "date_to": dt.date(2027, 4, 30)},
    }
    for code, change in cases.items():
        with travel(jst(2027, 5, 4, 10)), pytest.raises(alerts.AlertRefused) as refused:
            alerts.watch_pattern(user=watcher, pattern=alerts.Pattern(**{**base, **change}))
        assert refused.value.refusal.code == code


# Limits, stopping, pages ----------------------------------------------------------------------------------------


def pattern_for_day(court, day: dt.date):
    return alerts.Pattern(
        facility=court.facility,
        unit=None,
        unit_kind="",
        weekday=None,
        from_minute=9 * 60,
        to_minute=12 * 60,
        date_from=day,
        date_to=day,
    )


def test_limit__the_21st_active_watch_is_refused_and_ended_ones_do_not_count(court):
    watcher = resident("watcher")
    with travel(jst(2027, 5, 4, 10)):
        for i in range(alerts.MAX_ACTIVE_WATCHES):
            alerts.watch_pattern(
                user=watcher, pattern=pattern_for_day(court, dt.date(2027, 5, 5) + dt.timedelta(days=i))
            )
        with pytest.raises(alerts.AlertRefused) as refused:
            alerts.watch_pattern(user=watcher, pattern=pattern_for_day(court, dt.date(2027, 6, 30)))
    assert refused.value.refusal.code == "alerts_limit"
    assert SlotWatch.objects.filter(user=watcher).count() == alerts.MAX_ACTIVE_WATCHES
    # The page says so too (422, the code on the page).
    client = logged_in(watcher)
    with travel(jst(2027, 5, 4, 10)):
        response = client.post(
            "/shiroi/alerts/new/",
            {
                "where": f"f:{court.facility_id}",
                "weekday": "5",
                "time_from": "09:00",
                "time_to": "12:00",
                "date_from": "2027-06-01",
                "date_to": "2027-06-30",
            },
        )
    assert response.status_code == 422 and "alerts_limit" in response.content.decode()
    # The first one's day is over on 2027-05-06: one place is free again.
    with travel(jst(2027, 5, 6, 0, 0)):
        alerts.watch_pattern(user=watcher, pattern=pattern_for_day(court, dt.date(2027, 6, 30)))


def test_page__pattern_form_creates_a_watch_prg(court):
    watcher = resident("watcher")
    client = logged_in(watcher)
    with travel(jst(2027, 5, 4, 10)):
        form = client.get("/shiroi/alerts/new/?facility=minamiyama-tennis")
        assert form.status_code == 200 and f'value="f:{court.facility_id}" selected' in form.content.decode()
        response = client.post(
            "/shiroi/alerts/new/",
            {
                "where": f"u:{court.pk}",
                "weekday": "5",
                "time_from": "07:00",
                "time_to": "00:00",
                "date_from": "2027-05-01",
                "date_to": "2027-05-31",
            },
        )
        assert response.status_code == 302 and response["Location"] == "/shiroi/alerts/"
        page = client.get("/shiroi/alerts/").content.decode()
    w = SlotWatch.objects.get(user=watcher)
    assert (w.kind, w.unit_id, w.weekday, w.from_minute, w.to_minute, w.base_url) == (
        "pattern",
        court.pk,
        5,
        420,
        1440,
        "http://testserver/",
    )
    assert f'id="alert-{w.pk}"' in page and "07:00–24:00" in page


def test_page__watch_button_on_others_booked_slots_and_prg(taken, court, holder):
    watcher = resident("watcher")
    client = logged_in(watcher)
    action = f"/shiroi/alerts/watch/{court.pk}/2027-06-15/0900-1100/?week={WEEK}"
    with travel(jst(2027, 5, 4, 10)):
        grid = client.get(f"/shiroi/units/{court.pk}/week/{WEEK}/").content.decode()
        assert action.replace("?", "?") in grid.replace("&amp;", "&")
        response = client.post(action)
        assert response.status_code == 302 and response["Location"] == f"/shiroi/units/{court.pk}/week/{WEEK}/"
        told = client.get(response["Location"]).content.decode()
        assert "南山公園テニスコート 1番コート、2027年6月15日 09:00–11:00" in told  # the date in words, not 2027-06-15
        assert client.post(action).status_code == 302  # asking twice: still one watch
        # A free slot: straight to its booking page.
        free = client.post(f"/shiroi/alerts/watch/{court.pk}/2027-06-15/1100-1300/?week={WEEK}")
        assert free["Location"].startswith(f"/shiroi/book/{court.pk}/2027-06-15/1100-1300/")
        # The holder sees their own slot (◎), no watch button for it.
        owner = logged_in(holder)
        assert (
            f"/alerts/watch/{court.pk}/2027-06-15/0900-1100/"
            not in owner.get(f"/shiroi/units/{court.pk}/week/{WEEK}/").content.decode()
        )
    assert SlotWatch.objects.filter(user=watcher).count() == 1
    w = SlotWatch.objects.get(user=watcher)
    assert (w.kind, w.unit_id, w.starts_at, w.ends_at, w.base_url) == (
        "slot",
        court.pk,
        jst(2027, 6, 15, 9),
        jst(2027, 6, 15, 11),
        "http://testserver/",
    )


def test_stop__a_stopped_watch_is_not_told(taken, court, django_capture_on_commit_callbacks):
    watcher = resident("watcher")
    w = watch(watcher, court)
    client = logged_in(watcher)
    with travel(jst(2027, 5, 5, 10)):
        response = client.post(f"/shiroi/alerts/{w.pk}/stop/")
        assert response.status_code == 302 and response["Location"] == "/shiroi/alerts/"
        page = client.get("/shiroi/alerts/").content.decode()
    w.refresh_from_db()
    assert w.stopped_at == jst(2027, 5, 5, 10)
    assert 'data-status="stopped"' in page
    mail.outbox.clear()
    cancel(django_capture_on_commit_callbacks, taken)
    assert alert_mails() == []


def test_stop__another_users_watch_or_municipality_is_404(taken, court):
    w = watch(resident("watcher"), court)
    intruder = logged_in(resident("intruder"))
    with travel(jst(2027, 5, 5, 10)):
        assert intruder.post(f"/shiroi/alerts/{w.pk}/stop/").status_code == 404
        assert intruder.get("/kodaira/alerts/").status_code == 404  # a Shiroi account has no Kodaira alerts
        assert intruder.get("/shiroi/alerts/").status_code == 200
    w.refresh_from_db()
    assert w.stopped_at is None
    anonymous = Client()
    assert anonymous.get("/shiroi/alerts/").status_code == 302  # to the log-in page


# Freeings whose hook never ran (issue #9 item 2): the durable record and the job --------------------------------


def cancel_and_die(capture, reservation, moment=jst(2027, 5, 10, 12)):
    """The holder cancels online and the cancellation commits, but the process dies before its after-commit hooks
    run: neither the alerts nor any e-mail go out."""
    with travel(moment), capture(execute=False):
        services.cancel_online(user=reservation.user, reservation_id=reservation.pk)


def run_job(capture, moment):
    with travel(moment), capture(execute=True):
        return jobs.tell_freed_slots()


def test_hook_never_ran__the_job_tells_the_watchers_once_in_the_order_they_asked(
    taken, court, holder, django_capture_on_commit_callbacks
):
    second, first = resident("second"), resident("first")
    watch(second, court, moment=jst(2027, 5, 4, 10))
    watch(first, court, moment=jst(2027, 5, 4, 9))  # written after, asked earlier
    later = book(BOOKED_AT, user=holder, unit=court, day=USE_DAY, start="13:00", end="15:00")
    with travel(jst(2027, 5, 4, 11)):  # and afternoons on court 1, which the 13:00 freeing matches
        alerts.watch_pattern(
            user=second,
            pattern=alerts.Pattern(
                facility=court.facility,
                unit=court,
                unit_kind="",
                weekday=None,
                from_minute=12 * 60,
                to_minute=24 * 60,
                date_from=USE_DAY,
                date_to=USE_DAY,
            ),
            base_url=BASE,
        )
    mail.outbox.clear()
    cancel_and_die(django_capture_on_commit_callbacks, later, moment=jst(2027, 5, 10, 11))
    cancel_and_die(django_capture_on_commit_callbacks, taken, moment=jst(2027, 5, 10, 12))

    assert alert_mails() == [] and not Notice.objects.filter(kind=alerts.NOTICE_KIND).exists()
    assert list(
        FreedSlot.objects.values_list("reservation_id", "starts_at", "holder_id", "freed_at", "handled_at")
    ) == [
        (later.pk, jst(2027, 6, 15, 13), holder.pk, jst(2027, 5, 10, 11), None),
        (taken.pk, jst(2027, 6, 15, 9), holder.pk, jst(2027, 5, 10, 12), None),
    ]

    assert run_job(django_capture_on_commit_callbacks, jst(2027, 5, 10, 12, 1)) == {
        "handled": 2,
        "told": 3,
        "deleted": 0,
    }
    # Oldest freeing first (13:00, to the pattern), then the 09:00 slot's watchers in the order they asked.
    assert [(m.to[0], "13:00–15:00" in m.body) for m in alert_mails()] == [
        ("second@example.jp", True),
        ("first@example.jp", False),
        ("second@example.jp", False),
    ]
    assert [slot_link(court, span="1300-1500") in m.body for m in alert_mails()] == [True, False, False]
    assert set(FreedSlot.objects.values_list("handled_at", flat=True)) == {jst(2027, 5, 10, 12, 1)}

    assert run_job(django_capture_on_commit_callbacks, jst(2027, 5, 10, 12, 2)) == {
        "handled": 0,
        "told": 0,
        "deleted": 0,
    }
    assert len(alert_mails()) == 3


def test_hook_never_ran__a_slot_taken_again_before_the_job_tells_nobody(
    taken, court, django_capture_on_commit_callbacks
):
    w = watch(resident("watcher"), court)
    cancel_and_die(django_capture_on_commit_callbacks, taken)
    book(jst(2027, 5, 10, 12, 0), user=resident("quick"), unit=court, day=USE_DAY, start="09:00", end="11:00")
    assert run_job(django_capture_on_commit_callbacks, jst(2027, 5, 10, 12, 1)) == {
        "handled": 1,
        "told": 0,
        "deleted": 0,
    }
    assert not Notice.objects.filter(kind=alerts.NOTICE_KIND).exists()
    w.refresh_from_db()
    assert w.fired_at is None  # still watching


def test_rolled_back_cancellation__no_freeing_recorded(taken, court):
    watch(resident("watcher"), court)

    def cancel_then_fail():
        with transaction.atomic():
            services.cancel_online(user=taken.user, reservation_id=taken.pk)
            raise RuntimeError("the request failed after the cancellation")

    with travel(jst(2027, 5, 10, 12)), pytest.raises(RuntimeError):
        cancel_then_fail()
    assert not FreedSlot.objects.exists()
    taken.refresh_from_db()
    assert taken.holds.exists()


def test_job__deletes_rows_handled_more_than_a_week_ago__keeps_the_rest(
    taken, court, django_capture_on_commit_callbacks
):
    cancel(django_capture_on_commit_callbacks, taken, moment=jst(2027, 5, 10, 12))  # handled at once
    other = book(BOOKED_AT, user=taken.user, unit=court, day=USE_DAY, start="13:00", end="15:00")
    cancel_and_die(django_capture_on_commit_callbacks, other, moment=jst(2027, 5, 11, 12))  # not handled
    assert run_job(django_capture_on_commit_callbacks, jst(2027, 5, 10, 12) + alerts.KEEP_HANDLED)["deleted"] == 0
    # The 13:00 row, handled by this run at 5/17 12:00, stays a week more; the 09:00 row is a week old: deleted.
    assert run_job(django_capture_on_commit_callbacks, jst(2027, 5, 17, 12, 1)) == {
        "handled": 0,
        "told": 0,
        "deleted": 1,
    }
    assert list(FreedSlot.objects.values_list("reservation_id", flat=True)) == [other.pk]


def test_job__registered_every_minute():
    from django_q.models import Schedule

    name, func = "reservations.tell_freed_slots", "reservations.jobs.tell_freed_slots"
    row = Schedule.objects.get(name=name)
    assert (row.func, row.schedule_type, row.minutes, row.repeats) == (func, Schedule.MINUTES, 1, -1)
