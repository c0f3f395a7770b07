import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Demo data sets ~16 passwords; PBKDF2's deliberate slowness is not what these tests measure."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
