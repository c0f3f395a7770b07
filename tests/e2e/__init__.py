"""Browser tests (Playwright + Debian's chromium). Fixtures are in conftest.py."""

# Viewports for the ``viewport`` fixture: @pytest.mark.parametrize("viewport", [PHONE], ids=["phone"])
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 812, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
