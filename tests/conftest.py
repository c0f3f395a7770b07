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
