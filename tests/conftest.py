import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Demo data sets ~16 passwords; PBKDF2's deliberate slowness is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_catalogue_cache():
    """facilities.cache trusts the catalogue version it read for a second; a test's rolled-back changes must not
    reach the next test through it."""
    from facilities import cache

    cache.reset()
    yield
    cache.reset()


@pytest.fixture(autouse=True)
def administrators_without_totp(settings):
    """Administrators must set up TOTP before /admin/ and counter pages (accounts/middleware.py). Tests of other
    features log administrators in with force_login and no authenticator; tests/accounts/test_mfa.py (and the
    audit-log admin test) switch the requirement back on with the ``admin_mfa_required`` fixture."""
    settings.YOYAKU_ADMIN_MFA_REQUIRED = False


@pytest.fixture
def admin_mfa_required(settings):
    settings.YOYAKU_ADMIN_MFA_REQUIRED = True
