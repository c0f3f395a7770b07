"""Browser tests: Playwright (sync API) driving Debian's /usr/bin/chromium against pytest-django's live_server.

Every test in this folder is marked ``e2e`` (deselect with ``-m "not e2e"``).

Fixtures
  browser     one Chromium for the whole session
  viewport    the page size; desktop by default. A test asks for a phone with
              ``@pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])`` (PHONE, 375×812, is in
              tests/e2e/__init__.py).
  context     a fresh browser context: locale ja-JP, time zone Asia/Tokyo, the viewport above
  page        a page in that context; on failure a screenshot goes to test-artifacts/screenshots/
  screenshot  screenshot("name") saves a full-page PNG test-artifacts/screenshots/name.png

Pages must be opened on ``live_server.url`` (which needs the ``transactional_db``; asking for
``live_server`` is enough).
"""

import contextlib
import os
import re
from pathlib import Path

import pytest

from . import DESKTOP

# Playwright's sync API keeps an asyncio event loop in the test thread, which trips Django's
# "you cannot call this from an async context" guard for every ORM call made afterwards in this
# thread (fixtures, seed data, the rest of the session). The ORM is only ever called synchronously
# here, so the guard is switched off for the test process.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"

CHROMIUM = os.environ.get("YOYAKU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

DEFAULT_TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium and fonts-noto-cjk "
            "(apt-get install -y chromium fonts-noto-cjk; scripts/test.sh does this as root)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def viewport():
    return DESKTOP


@pytest.fixture
def javascript(request):
    """On, unless the module or test is marked ``without_javascript`` (journeys that must work without it)."""
    return request.node.get_closest_marker("without_javascript") is None


@pytest.fixture
def demo_now(request):
    """The instant of the demo site's clock: the module's or test's ``demo_now(moment)`` marker."""
    marker = request.node.get_closest_marker("demo_now")
    if marker is None:
        pytest.fail("a browser test that uses demo_site needs pytest.mark.demo_now(moment)", pytrace=False)
    return marker.args[0]


@pytest.fixture
def context(browser, viewport, javascript):
    size = {"width": viewport["width"], "height": viewport["height"]}
    extra = {k: v for k, v in viewport.items() if k not in ("width", "height")}
    context = browser.new_context(
        viewport=size,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        java_script_enabled=javascript,
        extra_http_headers={"Accept-Language": "ja-JP,ja;q=0.9"},
        **extra,
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:150]


@pytest.fixture
def page(context, request):
    page = context.new_page()
    yield page
    failed = any(
        getattr(request.node, f"rep_{when}", None) and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed and not page.is_closed():
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a failing page must not hide the real failure
            page.screenshot(path=str(SCREENSHOT_DIR / f"FAILED-{_safe_name(request.node.nodeid)}.png"), full_page=True)


@pytest.fixture
def screenshot(page):
    def take(name: str, *, full_page: bool = True) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / (name if name.endswith(".png") else f"{name}.png")
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@pytest.fixture
def demo_site(live_server, demo_now):
    """The demo data on the live server, the clock at the test module's ``demo_now`` fixture (tick=True keeps
    time flowing for sessions and timeouts)."""
    import time_machine
    from django.core.management import call_command

    with time_machine.travel(demo_now, tick=True):
        call_command("seed_demo", verbosity=0)
        yield live_server.url


def assert_no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width}px wide on a 375px phone (horizontal overflow)"
