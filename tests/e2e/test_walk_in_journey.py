"""A Shiroi counter clerk on a 375-px phone, JavaScript off, books a court for a person without registration
(S-FC-3): name and phone, the fee paid at once (fees.services.book_and_pay). The clerk lands on the booking's
money page and opens the use permit, which names the walk-in. Every change is a POST answered by a redirect."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from facilities.models import Unit
from reservations.models import Reservation

from . import PHONE, log_in
from .conftest import assert_no_sideways_scroll

# Monday 2027-06-14 10:00; the use date 2027-06-15 is D-1: the counter books until the use time, paid at once
# (S-FC-3). tick=True keeps time flowing for the browser.
NOW = dt.datetime(2027, 6, 14, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
USE_DATE = "2027-06-15"


pytestmark = [pytest.mark.without_javascript, pytest.mark.demo_now(NOW)]


@pytest.mark.parametrize("viewport", [PHONE], ids=["phone-375"])
def test_shiroi_clerk_books_a_walk_in_paid_at_once_and_prints_the_permit(page, demo_site, screenshot):
    log_in(page, demo_site, "shiroi-clerk", "yoyaku-demo", "/shiroi/counter/")
    expect(page).to_have_url(re.compile(r"/shiroi/counter/$"))
    page.locator("[data-test=walk-in]").click()
    expect(page).to_have_url(re.compile(r"/shiroi/counter/walk-in/$"))

    court = Unit.objects.get(municipality__slug="shiroi", facility__code="minamiyama-tennis", code="court-1")
    page.locator("select#unit").select_option(value=str(court.pk))
    page.locator("input#date").fill(USE_DATE)
    page.locator("main form[method=get] button[type=submit]").click()
    morning = page.locator('[data-test=slots] li[data-span="0900-1100"]')
    expect(morning).to_have_attribute("data-answer", "pay_now")
    expect(morning).to_have_attribute("data-rule", "S-FC-3")
    morning.locator("[data-test=choose]").click()

    form = page.locator("[data-test=walk-in-form]")
    expect(form.locator("input[name=amount]")).to_have_value("630")
    form.locator("#walk_in_name").fill("飛込 花子")
    form.locator("#walk_in_phone").fill("047-492")  # too short: a clear error, nothing booked
    form.locator("input[name=receipt_number]").fill("R-2027-0001")
    form.locator("button[type=submit]").click()
    expect(page.locator("#walk_in_phone-error")).to_be_visible()
    assert not Reservation.objects.filter(walk_in_name="飛込 花子").exists()

    form = page.locator("[data-test=walk-in-form]")
    expect(form.locator("#walk_in_name")).to_have_value("飛込 花子")  # kept
    form.locator("#walk_in_phone").fill("047-492-1111")
    form.locator("input[name=receipt_number]").fill("R-2027-0001")
    assert_no_sideways_scroll(page)
    screenshot("shiroi-counter-walk-in-375")
    form.locator("button[type=submit]").click()

    booking = Reservation.objects.get(walk_in_name="飛込 花子")
    assert booking.user is None and booking.state == "confirmed" and booking.payment.amount == 630
    expect(page).to_have_url(re.compile(rf"/shiroi/counter/money/bookings/{booking.pk}/$"))
    expect(page.locator("[data-test=walk-in]")).to_contain_text("飛込 花子")
    assert_no_sideways_scroll(page)

    page.locator(f'a[href$="/shiroi/bookings/{booking.pk}/permit/"]').first.click()
    expect(page.locator("[data-test=permit-number]")).to_have_text(booking.payment.permit_number)
    expect(page.locator("[data-test=permit-holder]")).to_contain_text("飛込 花子")

    page.go_back()  # back after the POST: nothing is booked twice (Post/Redirect/Get)
    assert Reservation.objects.filter(walk_in_name="飛込 花子").count() == 1
