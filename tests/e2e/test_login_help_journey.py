"""The log-in page on a 375-px phone with JavaScript off: it logs in, and its links lead to the password reset
by e-mail (K-REG-4) and to T-REG-4 recovery."""

import pytest

from accounts.models import User
from facilities.models import Municipality, RuleProfile

from . import PHONE


@pytest.mark.django_db(transaction=True)
def test_login_page__phone_without_javascript__logs_in_and_links_recovery(browser, live_server):
    tamba = Municipality.objects.create(slug="tamba", name_ja="丹波市", name_en="Tamba")
    RuleProfile.objects.create(municipality=tamba, id_recovery_by_name_phone_email=True, recovery_rule_id="T-REG-4")
    User.objects.create_user("tamba-resident", password="yoyaku-demo", municipality=tamba)
    context = browser.new_context(
        viewport={"width": PHONE["width"], "height": PHONE["height"]}, java_script_enabled=False, locale="ja-JP"
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        help_box = page.locator('[data-test="login-help"]')
        assert help_box.is_visible() and help_box.bounding_box()["width"] <= 375
        page.locator('[data-test="recover-by-name"]').click()
        assert page.url.endswith("/accounts/recover/") and page.locator('input[name="phone"]').count() == 1
        page.go_back()
        page.locator('[data-test="reset-by-email"]').click()
        assert page.url.endswith("/accounts/password/reset/") and page.locator('input[name="email"]').count() == 1
        page.goto(f"{live_server.url}/accounts/login/?next=/accounts/profile/")
        page.locator('input[name="login"]').fill("tamba-resident")
        page.locator('input[name="password"]').fill("yoyaku-demo")
        page.locator("main button[type=submit]").click()
        assert page.url.endswith("/accounts/profile/")
    finally:
        context.close()
