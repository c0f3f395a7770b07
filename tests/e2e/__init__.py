"""Browser tests (Playwright + Debian's chromium). Fixtures are in conftest.py."""

# Viewports for the ``viewport`` fixture: @pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


def log_in(page, site_url: str, username: str, password: str, next_path: str = "/") -> None:
    """Log in through the allauth form (by user ID), as a resident does."""
    page.goto(f"{site_url}/accounts/login/?next={next_path}")
    page.locator('input[name="login"]').fill(username)
    page.locator('input[name="password"]').fill(password)
    page.locator('form button[type="submit"]').last.click()
