"""The money pages in real Chromium, on a 375-px phone, JavaScript off (issue #5 and issue #7's money pages):

1. Thursday 2026-10-08: a Shiroi clerk finds the resident, takes the payment of a provisional booking (S-PAY-1)
   and opens its use permit; then cancels another, paid booking for the user's own reason, the refund (half,
   S-CAN-2) shown before confirming.
2. Tuesday 2026-10-20, the use day: rain from 09:30 at 南山公園. From the day sheet the clerk marks the site's
   stop (S-WX-1): the confirm step lists the paid booking, then it is marked.
3. The resident, logged in, transfers the stopped booking online to another date (振替, S-WX-1) and sees the new
   permit number on *My bookings*.
4. The takings report shows the day's figures: on 10-08 630 yen taken, 315 paid back; on 10-20 the transfer's
   630 yen carried over, nothing taken.

After every POST the back button is pressed: nothing is recorded twice (Post/Redirect/Get, and the services
refuse a second payment, cancellation, mark or transfer). The demo accounts of Shiroi are valid until 2027-03-31
(S-REG-3), so the journey is in autumn 2026.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import Notice, User
from fees import services as fee_services
from fees.models import Payment, PaymentPlace, Refund, WeatherClaim
from reservations.models import Reservation
from tests.reservations.booking_helpers import book, unit

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

TOKYO = ZoneInfo("Asia/Tokyo")
COUNTER_DAY = dt.datetime(2026, 10, 8, 10, 0, tzinfo=TOKYO)  # Thursday: 白井市役所生涯学習課 is open (S-PAY-4)
RAIN_DAY = dt.date(2026, 10, 20)  # Tuesday; the booking to pay is due by the end of D-7, 10-13 (S-PAY-2)
CANCEL_DAY = dt.date(2026, 10, 22)  # D-14 on 10-08: own-reason cancellation allowed, half back (S-CAN-1/2)
TRANSFER_TO = "2026-10-27"
BOOKED_AT = dt.datetime(2026, 9, 3, 9, 0, tzinfo=TOKYO)  # October's first-come window opened 09-03 08:30 (S-FC-2)
PAID_AT = dt.datetime(2026, 10, 1, 10, 0, tzinfo=TOKYO)


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(COUNTER_DAY)]


def _bookings():
    """The resident's two online bookings at 南山公園 court 1; the second paid at the city office on 10-01."""
    resident = User.objects.get(username="shiroi-resident")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    to_pay = book(BOOKED_AT, user=resident, unit=court, day=RAIN_DAY, start="09:00", end="11:00")
    to_cancel = book(BOOKED_AT, user=resident, unit=court, day=CANCEL_DAY, start="09:00", end="11:00")
    with time_machine.travel(PAID_AT, tick=False):
        fee_services.record_payment(
            reservation_id=to_cancel.pk,
            amount=to_cancel.fee_total,
            receipt_number="R-1001",
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
            staff=User.objects.get(username="shiroi-clerk"),
        )
    to_cancel.refresh_from_db()
    return to_pay, to_cancel


def _fits(page):
    """No sideways scrolling on the 375-px phone, measured once the stylesheet has loaded (the DOM is there
    earlier, and a page without its CSS is wider)."""
    page.wait_for_load_state("load")
    assert_no_sideways_scroll(page)


def _switch_user(page, site, username, next_path):
    page.context.clear_cookies()
    log_in(page, site, username, "yoyaku-demo", next_path)
    expect(page).to_have_url(re.compile(re.escape(next_path.split("?")[0])))


def _open_money_page(page, booking):
    page.locator(f"#booking-{booking.pk} [data-test=money]").click()
    expect(page).to_have_url(re.compile(rf"/shiroi/counter/money/bookings/{booking.pk}/$"))


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_shiroi_money_journey(page, demo_site, screenshot):
    to_pay, to_cancel = _bookings()
    assert (to_pay.state, to_pay.fee_total, to_cancel.state) == ("provisional", 630, "confirmed")

    # 1. The counter on 10-08: find the resident, pay, print the permit. ------------------------------------------
    log_in(page, demo_site, "shiroi-clerk", "yoyaku-demo", "/shiroi/counter/")
    page.locator("input#q").fill("shiroi-resident")
    page.locator("input#q").press("Enter")
    page.locator("[data-test=found] a").first.click()
    user_page = page.url
    _open_money_page(page, to_pay)
    form = page.locator("[data-test=pay-form]")
    expect(form.locator("input[name=amount]")).to_have_value("630")
    form.locator("input[name=receipt_number]").fill("R-2026-1008")
    _fits(page)
    screenshot("shiroi-money-pay-375")
    form.locator("button[type=submit]").click()

    payment = Payment.objects.get(reservation=to_pay)
    assert (payment.amount, payment.receipt_number) == (630, "R-2026-1008")
    assert Reservation.objects.get(pk=to_pay.pk).state == "confirmed"  # S-PAY-1
    expect(page).to_have_url(re.compile(rf"/shiroi/bookings/{to_pay.pk}/permit/$"))
    expect(page.locator("[data-test=permit-number]")).to_have_text(payment.permit_number)
    expect(page.locator("[data-test=permit-holder]")).to_contain_text("shiroi-resident")
    screenshot("shiroi-money-permit-375")

    page.go_back()  # the money page again: it shows the payment, no form; nothing is paid twice
    expect(page).to_have_url(re.compile(rf"/shiroi/counter/money/bookings/{to_pay.pk}/$"))
    expect(page.locator("[data-test=payment]")).to_contain_text(payment.permit_number)
    expect(page.locator("[data-test=pay-form]")).to_have_count(0)
    assert Payment.objects.filter(reservation=to_pay).count() == 1

    # Cancel the other booking: the refund is on the page before the clerk confirms (S-CAN-2: half of 630).
    page.goto(user_page)
    _open_money_page(page, to_cancel)
    quote = page.locator("[data-test=refund-quote]")
    expect(quote).to_contain_text("315")
    expect(quote).to_contain_text("S-CAN-2")
    assert not Refund.objects.exists()  # shown, not yet done
    cancel = page.locator("[data-test=cancel-form]")
    cancel.locator("select[name=place]").select_option(label="白井市役所生涯学習課")  # where the 315 yen is paid back
    cancel.locator("input[name=reason]").fill("本人都合")
    _fits(page)
    screenshot("shiroi-money-cancel-refund-375")
    cancel.locator("button[type=submit]").click()

    expect(page.locator(".message--success")).to_contain_text("315")
    refund = Refund.objects.get(payment__reservation=to_cancel)
    assert (refund.amount, refund.rule_id, refund.recorded_by.username, refund.place.name_ja) == (
        315,
        "S-CAN-2",
        "shiroi-clerk",
        "白井市役所生涯学習課",
    )
    assert not Reservation.objects.get(pk=to_cancel.pk).is_active
    expect(page.locator("[data-test=refund]")).to_contain_text("315")
    expect(page.locator("[data-test=cancel-form]")).to_have_count(0)  # nothing left to cancel
    page.go_back()
    expect(page.locator("[data-test=cancel-form]")).to_have_count(0)
    assert Refund.objects.count() == 1

    # 2. The use day, 10:00: rain since 09:30 at 南山公園. Day sheet → mark the site's stop. ------------------------
    with time_machine.travel(dt.datetime(2026, 10, 20, 10, 0, tzinfo=TOKYO), tick=True):
        _switch_user(page, demo_site, "shiroi-clerk", "/shiroi/counter/")
        # The console's home is the day's board (issue #22): the site's day sheet is linked from its table.
        page.locator("select#board-facility").select_option(value="minamiyama-tennis")
        page.locator("#board-date").fill(RAIN_DAY.isoformat())
        page.locator("form.board-controls button[type=submit]").click()
        page.locator('section[data-facility="minamiyama-tennis"] .board-sheet-link').click()
        page.locator("[data-test=weather-day-link]").click()
        expect(page).to_have_url(
            re.compile(r"/shiroi/counter/money/weather-day/\?facility=minamiyama-tennis&date=2026-10-20$")
        )
        form = page.locator("[data-test=weather-day-form]")
        expect(form.locator("select[name=facility]")).to_have_value("minamiyama-tennis")
        form.locator("select[name=kind]").select_option(value="rain")
        form.locator("input[name=start]").fill("09:30")
        form.locator("button[type=submit]").click()

        to_mark = page.locator("[data-test=to-mark]")
        expect(to_mark.locator("tbody tr")).to_have_count(1)
        expect(to_mark.locator(f'tr[data-booking="{to_pay.pk}"]')).to_contain_text("09:00–11:00")
        assert not WeatherClaim.objects.exists()  # the confirm step writes nothing
        _fits(page)
        screenshot("shiroi-money-weather-day-confirm-375")
        page.locator("[data-test=weather-day-confirm] button[type=submit]").click()

        expect(page.locator(".message--success")).to_be_visible()
        expect(page.locator(f'[data-test=marked] tr[data-booking="{to_pay.pk}"]')).to_be_visible()
        claim = WeatherClaim.objects.get()
        assert (claim.reservation_id, claim.kind, claim.transfer_until) == (to_pay.pk, "rain", dt.date(2027, 10, 20))
        assert Notice.objects.filter(kind=Notice.Kind.WEATHER, user__username="shiroi-resident").count() == 1
        screenshot("shiroi-money-weather-day-marked-375")
        page.go_back()  # the confirm step again: the booking shows as marked, there is nothing to confirm
        expect(page.locator(f'[data-test=marked] tr[data-booking="{to_pay.pk}"]')).to_be_visible()
        expect(page.locator("[data-test=weather-day-confirm]")).to_have_count(0)
        assert WeatherClaim.objects.count() == 1
        assert Notice.objects.filter(kind=Notice.Kind.WEATHER).count() == 1

    # 3. The resident, 10:30, moves the stopped booking to another date online. -------------------------------------
    with time_machine.travel(dt.datetime(2026, 10, 20, 10, 30, tzinfo=TOKYO), tick=True):
        _switch_user(page, demo_site, "shiroi-resident", "/shiroi/my/bookings/")
        page.locator(f"#booking-{to_pay.pk} [data-test=transfer]").click()
        expect(page).to_have_url(re.compile(rf"/shiroi/my/bookings/{to_pay.pk}/transfer/"))
        _fits(page)
        screenshot("shiroi-money-transfer-slots-375")
        page.locator(f'[data-test=slot][href*="/{TRANSFER_TO}/0900-1100/"]').click()
        expect(page.locator("[data-test=to-pay]")).to_contain_text("S-WX-1")
        page.locator("[data-test=transfer]").click()

        claim.refresh_from_db()
        new = claim.transferred_to
        assert new is not None and new.user.username == "shiroi-resident"
        assert (new.unit_id, new.starts_at.date().isoformat(), new.state) == (to_pay.unit_id, TRANSFER_TO, "confirmed")
        new_payment = Payment.objects.get(reservation=new)
        assert (new_payment.method, new_payment.carried_amount) == ("carried", 630)
        assert new_payment.permit_number != payment.permit_number
        expect(page).to_have_url(re.compile(rf"/shiroi/my/bookings/#booking-{new.pk}$"))
        expect(page.locator(f"#booking-{new.pk} [data-test=permit]")).to_have_text(new_payment.permit_number)
        expect(page.locator(f"#booking-{to_pay.pk} [data-test=weather]")).to_contain_text(str(new.pk))
        _fits(page)
        screenshot("shiroi-money-transferred-375")
        page.go_back()  # the confirm page again: it says the transfer is made and shows my bookings
        expect(page).to_have_url(re.compile(r"/shiroi/my/bookings/"))
        assert (
            Reservation.objects.filter(user__username="shiroi-resident", starts_at__date__gte="2026-10-27").count() == 1
        )
        assert Payment.objects.filter(carried_from=payment).count() == 1

    # 4. The takings report: the counter day and the rain day. -------------------------------------------------------
    with time_machine.travel(dt.datetime(2026, 10, 20, 17, 0, tzinfo=TOKYO), tick=True):
        _switch_user(page, demo_site, "shiroi-clerk", "/shiroi/counter/reports/")
        page.locator("input#date").first.fill(COUNTER_DAY.date().isoformat())
        page.locator("main form").first.locator("button[type=submit]").click()
        expect(page).to_have_url(re.compile(r"/shiroi/counter/reports/takings/2026-10-08/$"))
        city_office = page.locator("[data-test=place]", has_text="白井市役所生涯学習課")
        totals = city_office.locator("[data-test=place-total] dd")
        expect(totals.nth(0)).to_contain_text("630")  # cash taken
        expect(totals.nth(1)).to_contain_text("315")  # refunded
        expect(totals.nth(2)).to_contain_text("315")  # net
        expect(city_office.locator("[data-test=payment]")).to_contain_text(payment.permit_number)
        expect(city_office.locator("[data-test=refund]")).to_contain_text("315")
        _fits(page)
        screenshot("shiroi-money-takings-375")

        page.goto(f"{demo_site}/shiroi/counter/reports/takings/{RAIN_DAY.isoformat()}/")
        city_office = page.locator("[data-test=place]", has_text="白井市役所生涯学習課")
        expect(city_office.locator("[data-test=payment]")).to_contain_text(new_payment.permit_number)
        totals = city_office.locator("[data-test=place-total] dd")
        expect(totals.nth(0)).to_contain_text(re.compile(r"^\s*0\D.*630"))  # 0 taken (630 carried over)
        expect(totals.nth(2)).to_contain_text(re.compile(r"^\s*0\D"))
