"""More counter journeys of issue #7 ("Done when"), in real Chromium against the demo data:

(a) a Tamba clerk books a resident's telephone request (T-APP-1: phone until the end of D-3; T-APP-3: staff
    service hours 09:00–22:00), on a 375-px phone, without JavaScript; the portal's notice is shown there too;
(b) an override with a recorded reason (T-APP-5: a public event outside the windows), visible as such on the day
    sheet and in the administrators' audit log; the same slot cannot be granted twice (X-3);
(c) closing a day that has a paid booking: the administrator's closure-calendar edit is refused, naming the
    booking, and links to the counter's "Close a facility" page, which cancels it with a full refund and a notice
    (T-CAN-2); then the same edit goes through and the year view shows the day closed.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import AuditEntry, Notice
from facilities.models import ClosureRule, Facility
from fees.models import Payment, PaymentPlace, Refund
from reservations.models import Reservation

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

TOKYO = ZoneInfo("Asia/Tokyo")
# Saturday 2027-07-17 14:00: Tuesday 07-20 is D-3 (the last day of the counter and phone window, T-APP-1),
# Monday 07-19 is D-2 (closed), Sunday 07-18 is D-1 (only an override can book it, T-APP-5).
SATURDAY = dt.datetime(2027, 7, 17, 14, 0, tzinfo=TOKYO)
D3, D2, D1 = "2027-07-20", "2027-07-19", "2027-07-18"
ROOM_LABEL = "柏原住民センター · 大会議室"
# Thursday 2027-05-20 10:00: a paid booking on Tuesday 06-15 stands in the way of closing that day.
CLOSURE_NOW = dt.datetime(2027, 5, 20, 10, 0, tzinfo=TOKYO)
CLOSED_DAY = dt.date(2027, 6, 15)


pytestmark = [pytest.mark.demo_now(SATURDAY)]


def _reservation_of(username):
    return Reservation.objects.select_related("booked_by").get(user__username=username)


def _open_user(page, query):
    page.locator("input#q").fill(query)
    page.locator("input#q").press("Enter")
    page.locator("[data-test=found] a").first.click()


# (a) A telephone booking in Tamba -----------------------------------------------------------------------------


@pytest.mark.parametrize("javascript", [False], ids=["no-js"])
@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_tamba_clerk_books_a_phone_request_within_the_service_hours(page, demo_site, screenshot):
    # The portal's notice (issue #7 item 4) on the municipality's page: a region with a heading, fits the phone.
    page.goto(f"{demo_site}/tamba/")
    notices = page.get_by_role("region", name=re.compile("お知らせ|Announcements"))
    expect(notices.locator("[data-test=announcement-title]")).to_contain_text("年末年始の休館")
    assert_no_sideways_scroll(page)
    screenshot("tamba-announcement-375")

    log_in(page, demo_site, "tamba-clerk", "yoyaku-demo", "/tamba/counter/")
    expect(page).to_have_url(re.compile(r"/tamba/counter/$"))
    _open_user(page, "バドミントン")
    expect(page.get_by_role("heading", level=1)).to_contain_text("丹波バドミントンクラブ")

    page.locator("[data-test=book]").click()
    page.locator("select#unit").select_option(label=ROOM_LABEL)
    page.locator("input#date").fill(D3)
    page.locator('input[name=channel][value="phone"]').check()
    page.locator("main form[method=get] button[type=submit]").click()
    ten = page.locator('[data-test=slots] li[data-span="1000-1100"]')
    expect(ten).to_have_attribute("data-answer", "open")  # D-3, 14:00: inside T-APP-1 and T-APP-3
    assert_no_sideways_scroll(page)
    screenshot("tamba-counter-phone-slots-375")

    # One day later is D-2: the phone window has closed (T-APP-1). The pager is a plain link.
    page.locator("nav.pager a[rel=prev]").click()
    expect(page.locator('[data-test=slots] li[data-span="1000-1100"]')).to_have_attribute("data-rule", "T-APP-1")
    page.locator("nav.pager a[rel=next]").click()

    ten = page.locator('[data-test=slots] li[data-span="1000-1100"]')
    ten.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/tamba/counter/users/\d+/$"))
    expect(page.locator(".message--success")).to_be_visible()
    booking = _reservation_of("tamba-resident1")
    assert (booking.channel, booking.booked_by.username, booking.state) == ("phone", "tamba-clerk", "awaiting_payment")
    assert booking.pay_by_rule_id == "T-PAY-3"  # from D-21 the fee is due the same day
    expect(page.locator(f"[data-test=upcoming] #booking-{booking.id} [data-test=payment]")).to_contain_text("T-PAY-3")
    assert_no_sideways_scroll(page)
    screenshot("tamba-counter-phone-booked-375")

    # At 22:30 the staff's service hours are over (T-APP-3): the next call cannot be booked, though D-3 lasts
    # until midnight. T-APP-4 (counter before phone at the same moment): the held slot is taken for both channels.
    with time_machine.travel(dt.datetime(2027, 7, 17, 22, 30, tzinfo=TOKYO), tick=True):
        # 8 h 30 without a request: the clerk's idle session has ended (YOYAKU_STAFF_IDLE_HOURS); log in again.
        log_in(page, demo_site, "tamba-clerk", "yoyaku-demo", "/tamba/counter/")
        expect(page).to_have_url(re.compile(r"/tamba/counter/$"))
        page.goto(
            f"{demo_site}/tamba/counter/users/{booking.user_id}/book/?unit={booking.unit_id}&date={D3}&channel=phone"
        )
        expect(page.locator('[data-test=slots] li[data-span="1100-1200"]')).to_have_attribute("data-rule", "T-APP-3")
        expect(page.locator('[data-test=slots] li[data-span="1000-1100"]')).to_have_attribute("data-answer", "taken")
        page.goto(
            f"{demo_site}/tamba/counter/users/{booking.user_id}/book/?unit={booking.unit_id}&date={D3}&channel=counter"
        )
        expect(page.locator('[data-test=slots] li[data-span="1000-1100"]')).to_have_attribute("data-answer", "taken")
    assert Reservation.objects.count() == 1


# (b) An override with a recorded reason (T-APP-5) ----------------------------------------------------------------


def test_tamba_override_outside_the_windows_is_recorded_and_shown_as_such(page, demo_site, screenshot):
    reason = "市民スポーツ大会（NPO法人主催の公益イベント）"
    log_in(page, demo_site, "tamba-clerk", "yoyaku-demo", "/tamba/counter/")
    _open_user(page, "バドミントン")
    person_url = page.url

    # The ordinary counter booking refuses D-1: the windows end at D-3 (T-APP-1).
    page.locator("[data-test=book]").click()
    page.locator("select#unit").select_option(label=ROOM_LABEL)
    page.locator("input#date").fill(D1)
    page.locator("main form[method=get] button[type=submit]").click()
    expect(page.locator('[data-test=slots] li[data-span="1000-1100"]')).to_have_attribute("data-rule", "T-APP-1")

    page.goto(person_url)
    page.locator('main a[href*="/counter/override/?user="]').click()
    expect(page.locator("[data-test=person]")).to_contain_text("丹波バドミントンクラブ")
    page.locator('input[name=kind][value="grant"]').check()
    page.locator("select#unit").select_option(label=ROOM_LABEL)
    page.locator("input#date").fill(D1)
    page.locator("input#start").fill("1000")
    page.locator("input#end").fill("1200")
    expect(page.locator("input#rule_id")).to_have_value("T-APP-5")
    page.locator("textarea#reason").fill(reason)
    screenshot("tamba-override-form")
    page.locator("main form[method=post] button[type=submit]").click()

    # Post/Redirect/Get to the day sheet, where the booking says it is an override, with its rule id and reason.
    expect(page).to_have_url(re.compile(rf"/tamba/counter/day/\?facility=kaibara&date={D1}"))
    expect(page.locator(".message--success")).to_be_visible()
    granted = _reservation_of("tamba-resident1")
    assert (granted.override_kind, granted.override_rule_id, granted.override_reason) == ("grant", "T-APP-5", reason)
    assert granted.state == "confirmed" and granted.booked_by.username == "tamba-clerk"
    row = page.locator(f"#booking-{granted.id}")
    expect(row).to_have_attribute("data-override", "grant")
    expect(row.locator("[data-test=override]")).to_contain_text("T-APP-5")
    expect(row.locator("[data-test=override]")).to_contain_text(reason)
    screenshot("tamba-override-day-sheet")

    # granting the same hours again is refused (409), nothing is booked twice.
    page.goto(f"{demo_site}/tamba/counter/override/?user={granted.user_id}")
    page.locator("select#unit").select_option(label=ROOM_LABEL)
    page.locator("input#date").fill(D1)
    page.locator("input#start").fill("1100")
    page.locator("input#end").fill("1200")
    page.locator("textarea#reason").fill(reason)
    with page.expect_response(lambda r: "/counter/override/" in r.url and r.request.method == "POST") as answer:
        page.locator("main form[method=post] button[type=submit]").click()
    assert answer.value.status == 409
    assert Reservation.objects.filter(unit_id=granted.unit_id).count() == 1

    # The administrator finds it in the audit log, as an override with its reason.
    entry = AuditEntry.objects.get(action="booking.override.grant")
    assert entry.actor.username == "tamba-clerk" and reason in entry.reason and "T-APP-5" in entry.reason
    page.context.clear_cookies()
    log_in(page, demo_site, "tamba-admin", "yoyaku-demo", "/admin/accounts/auditentry/?action=booking.override.grant")
    expect(page).to_have_url(re.compile(r"/admin/accounts/auditentry/"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("booking.override.grant")
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("main, #content").first).to_contain_text(reason)
    screenshot("tamba-override-audit-log")


# (c) Closing a day that has bookings (T-CAN-2) ---------------------------------------------------------------------


def _paid_booking_on_the_day_to_close():
    """A resident's counter booking of 柏原 大会議室 on 06-15, paid at the city office (made before the journey)."""
    from fees import services as fee_services
    from tests.reservations.booking_helpers import book, jst, make_user, unit, user

    room = unit("tamba", "kaibara", "large-meeting-room")
    resident = make_user("tamba", "card-closure", display_name="春日 花子", email="card-closure@example.jp")
    booking = book(
        jst(2027, 5, 10, 10),
        user=resident,
        unit=room,
        day=CLOSED_DAY,
        start="10:00",
        end="12:00",
        channel="counter",
        booked_by=user("tamba-clerk"),
    )
    with time_machine.travel(jst(2027, 5, 11, 10), tick=False):
        fee_services.record_payment(
            reservation_id=booking.pk,
            amount=booking.fee_total,
            receipt_number="R-E2E",
            place=PaymentPlace.objects.get(name_ja="丹波市役所（サンプル）"),
            staff=user("tamba-clerk"),
        )
    booking.refresh_from_db()
    assert booking.state == "confirmed" and booking.fee_total > 0
    return booking


def _add_one_off_closure(page, site, calendar, day: dt.date, note: str):
    page.goto(f"{site}/admin/facilities/closurecalendar/{calendar.pk}/change/")
    index = calendar.rules.count()  # the empty extra row comes after the saved rules
    page.locator(f'select[name="rules-{index}-kind"]').select_option("dates")
    page.locator(f'input[name="rules-{index}-start_date"]').fill(day.isoformat())
    page.locator(f'input[name="rules-{index}-note"]').fill(note)
    page.locator('input[name="_save"]').click()


@pytest.mark.parametrize("demo_now", [CLOSURE_NOW], ids=["2027-05-20"])
def test_tamba_administrator_closes_a_day_with_a_paid_booking(page, demo_site, screenshot):
    booking = _paid_booking_on_the_day_to_close()
    paid = Payment.objects.get(reservation=booking).amount
    calendar = Facility.objects.get(municipality__slug="tamba", code="kaibara").closure_calendar
    rules_before = calendar.rules.count()

    log_in(page, demo_site, "tamba-admin", "yoyaku-demo", "/admin/facilities/closurecalendar/")
    expect(page).to_have_url(re.compile(r"/admin/facilities/closurecalendar/"))
    _add_one_off_closure(page, demo_site, calendar, CLOSED_DAY, "空調設備の緊急工事")

    # Refused: the error names the booking that the closure would strand, and nothing is saved.
    error = page.locator(".errorlist", has_text=f"#{booking.pk}")
    expect(error).to_be_visible()
    expect(error).to_contain_text("春日 花子")
    assert calendar.rules.count() == rules_before
    screenshot("tamba-admin-closure-refused")

    # Its link opens the counter's "Close a facility" page with the facility and the day filled in.
    error.locator("a[data-test=close-facility-link]").click()
    expect(page).to_have_url(re.compile(r"/tamba/counter/money/closure/\?"))
    expect(page.locator("#id_facility")).to_have_value("kaibara")
    expect(page.locator("#id_date_from")).to_have_value(CLOSED_DAY.isoformat())
    expect(page.locator("#id_date_to")).to_have_value(CLOSED_DAY.isoformat())
    page.locator("#id_reason").fill("空調設備の緊急工事のため")
    page.locator("[data-test=closure-form] button.button--primary").click()

    # The bookings concerned, each with its refund: the whole fee (T-CAN-2). Nothing is cancelled by looking.
    affected = page.locator("[data-test=affected] tbody tr")
    expect(affected).to_have_count(1)
    expect(affected.first).to_contain_text(str(booking.pk))
    expect(affected.first).to_contain_text(f"{paid:,}")
    assert Reservation.objects.get(pk=booking.pk).is_active
    screenshot("tamba-closure-affected")
    page.locator('button[name=confirm][value="yes"]').click()
    expect(page.locator(".message--success")).to_be_visible()

    booking.refresh_from_db()
    assert not booking.is_active and booking.cancel_reason == Reservation.CancelReason.STAFF
    refund = Refund.objects.get(payment__reservation=booking)
    assert refund.amount == paid  # full refund (T-CAN-2)
    notice = Notice.objects.get(user=booking.user, kind=Notice.Kind.CANCELLED_BY_STAFF)
    assert notice.email == "card-closure@example.jp"
    assert AuditEntry.objects.filter(action="booking.cancel_for_facility", actor__username="tamba-admin").count() == 1

    # Now the same calendar edit goes through, and the year view shows the day closed.
    _add_one_off_closure(page, demo_site, calendar, CLOSED_DAY, "空調設備の緊急工事")
    expect(page).to_have_url(re.compile(r"/admin/facilities/closurecalendar/$"))
    assert calendar.rules.filter(kind=ClosureRule.Kind.DATES, start_date=CLOSED_DAY).exists()
    page.goto(f"{demo_site}/admin/facilities/closurecalendar/{calendar.pk}/year/?year=2027")
    screenshot("tamba-admin-closure-year-view")
    from facilities import calendars

    assert not calendars.is_open(Facility.objects.get(municipality__slug="tamba", code="kaibara"), CLOSED_DAY)
