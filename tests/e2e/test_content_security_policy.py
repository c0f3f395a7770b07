"""The Content-Security-Policy (config/settings.py CONTENT_SECURITY_POLICY, django-csp) holds on real pages: a
browser opens a representative set — the resident's week grid and booking page (and Tamba's hourly one, whose
end time updates the fee through htmx), the log-in, a notice, the counter console and its statistics chart, the
Django admin's changelist, change form and closure year view, allauth's TOTP set-up (its QR code is a data:
image), Swagger UI at /api/v1/docs and an error page — and the browser reports no violation: no "Refused to …"
console message and no ``securitypolicyviolation`` event. Without 'unsafe-inline' a single style="…" attribute or
inline <script> in a template would show up here.

A control at the end shows the watch works: a style attribute added to a page is reported.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from accounts import notify
from accounts.models import Notice, User
from facilities.models import ClosureCalendar, Facility, Unit

from . import log_in

# Wednesday 2027-05-12 10:00: Kodaira's first-come booking is open for 2027-05-24 (K-FC-1, K-FC-2).
NOW = dt.datetime(2027, 5, 12, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
WEEK = "2027-05-24"

pytestmark = [pytest.mark.demo_now(NOW)]

# Every page gets this before its own scripts: violations reported to the page are kept on window.
WATCH_EVENTS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile || ""}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


class PolicyWatch:
    """Collects the browser's CSP reports (console and events) per page visited."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.failures: list[str] = []
        self.visited: list[str] = []
        page.context.add_init_script(WATCH_EVENTS)
        page.on("console", self._on_console)

    def _on_console(self, message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.console.append(text)

    def check(self, name: str) -> None:
        """Call once the page is complete: records what the browser reported since the last check."""
        self.page.wait_for_load_state("load")
        events = self.page.evaluate("window.__cspViolations || []")
        for report in self.console + events:
            self.failures.append(f"{name} ({self.page.url}): {report}")
        self.console.clear()
        self.visited.append(name)

    def style_applies(self, name: str, locator, prop: str, value: str) -> None:
        """A style moved from the template into static/css/ still applies (and was not merely dropped)."""
        actual = locator.evaluate("(el, prop) => getComputedStyle(el).getPropertyValue(prop)", prop)
        if actual != value:
            self.failures.append(f"{name} ({self.page.url}): {prop} is {actual!r}, not {value!r}")

    def assert_clean(self) -> None:
        assert not self.failures, "Content-Security-Policy violations:\n" + "\n".join(self.failures)


def test_pages_raise_no_policy_violation(page, demo_site):
    site = demo_site
    watch = PolicyWatch(page)
    room = Unit.objects.get(municipality__slug="kodaira", facility__code="nakajima", code="assembly-room")
    week = f"{site}/kodaira/units/{room.id}/week/{WEEK}/"

    # Anyone: the portal, the resident grid (week and month), the search, the log-in, a 404, the API's docs.
    for name, path in [
        ("home", "/"),
        ("municipality", "/kodaira/"),
        ("facility", "/kodaira/facilities/nakajima/"),
        ("week", week.removeprefix(site)),
        ("month", f"/kodaira/units/{room.id}/month/2027-05/"),
        ("search", f"/kodaira/search/?date_from={WEEK}"),
        ("login", "/accounts/login/"),
        ("not-found", "/kodaira/no-such-page/"),
    ]:
        page.goto(site + path)
        watch.check(name)
    response = page.goto(f"{site}/api/v1/docs")
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()  # Swagger UI has run and drawn the API
    watch.check("api-docs")

    # A resident: the booking page from the week grid, their bookings, a notice.
    log_in(page, site, "kodaira-group1", "1357", "/kodaira/")
    watch.check("logged-in")
    page.goto(week)
    page.locator('table.slot-grid td[data-state="open"] a').first.click()
    expect(page.locator("main form button[type=submit]").first).to_be_visible()
    expect(page.locator("script[src*=htmx]")).to_have_count(0)  # htmx only where a page uses it
    watch.check("booking")
    page.goto(f"{site}/kodaira/my/bookings/")
    watch.check("my-bookings")
    notify.record(
        User.objects.get(username="kodaira-group1"),
        kind=Notice.Kind.PAYMENT_DUE,
        key="csp:1",
        subject="お支払い期限",
        body="予約番号 1 のお支払い期限は\n2027年5月20日 です。",
        email="",
        language="ja",
    )
    page.goto(f"{site}/accounts/notifications/")
    page.locator("[data-test=notice] a").first.click()
    watch.check("notification")
    watch.style_applies("notification", page.locator("[data-test=body]"), "white-space", "pre-wrap")

    # A Tamba resident: the hourly confirm page, whose end-time select updates the fee and button with htmx.
    page.context.clear_cookies()
    tamba_room = Unit.objects.get(municipality__slug="tamba", facility__code="kaibara", code="large-meeting-room")
    hourly = f"/tamba/book/{tamba_room.id}/2027-06-15/0900-1000/?week=2027-06-14"
    log_in(page, site, "tamba-resident1", "yoyaku-demo", hourly)
    expect(page.locator("script[src*=htmx]")).to_have_count(1)
    watch.check("booking-hourly")
    page.locator("select#until").select_option("1200")
    expect(page.locator("[data-test=fee-total]")).to_contain_text("1,800")  # swapped in by htmx
    watch.check("booking-hourly-htmx")

    # A clerk: the counter console and the statistics chart.
    page.context.clear_cookies()
    log_in(page, site, "kodaira-clerk", "yoyaku-demo", "/kodaira/counter/")
    expect(page).to_have_url(re.compile(r"/kodaira/counter/$"))
    watch.check("counter")
    page.goto(f"{site}/kodaira/counter/exports/statistics/?from=2027-05&to=2027-05")
    watch.check("statistics")
    watch.style_applies("statistics", page.locator("[data-test=chart]").first, "max-width", "576px")  # 36rem

    # An administrator: the admin (changelist, change form, the closure calendar's year view) and TOTP set-up.
    page.context.clear_cookies()
    log_in(page, site, "kodaira-admin", "yoyaku-demo", "/admin/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    watch.check("admin-index")
    facility = Facility.objects.get(municipality__slug="kodaira", code="nakajima")
    page.goto(f"{site}/admin/facilities/facility/")
    watch.check("admin-changelist")
    page.goto(f"{site}/admin/facilities/facility/{facility.pk}/change/")
    expect(page.locator("#facility_form")).to_be_visible()
    watch.check("admin-change-form")
    calendar = ClosureCalendar.objects.filter(municipality__slug="kodaira").first()
    page.goto(f"{site}/admin/facilities/closurecalendar/{calendar.pk}/year/?year=2027")
    watch.check("admin-closure-year")
    watch.style_applies("admin-closure-year", page.locator(".year-grid"), "display", "grid")
    page.goto(f"{site}/accounts/reauthenticate/")
    expect(page.locator("input[name=password]")).to_be_visible()
    watch.check("reauthenticate")  # the page allauth shows before a new second factor when the log-in is older
    page.goto(f"{site}/accounts/2fa/totp/activate/")  # a log-in this recent needs no password again
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    qr_code = page.locator('img[src^="data:"]').first
    expect(qr_code).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth > 0", qr_code.element_handle())  # the data: image loaded
    watch.check("mfa-setup")

    assert len(watch.visited) >= 20
    watch.assert_clean()

    # The control: an inline style attribute is refused and reported.
    page.goto(site + "/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(200)
    watch.check("control")
    assert any("control" in failure for failure in watch.failures), "the watch did not see a violation"
