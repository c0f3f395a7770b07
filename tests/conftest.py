"""Fixtures shared by the whole suite. Markers (pyproject.toml): ``postgresql`` tests are skipped, with the reason,
when the run uses another database; ``slow``, ``e2e``, ``without_javascript``, ``demo_now`` as CONTRIBUTING.md says."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from tests.lottery.helpers import SHIROI_DAY, SHIROI_IN_WINDOW, apply
from tests.reservations.booking_helpers import FAST_HASHER, make_user, unit


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.postgresql("why")``: skipped unless the tests run on PostgreSQL (DATABASE_URL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgresql")
        if marker is not None:
            why = f" ({marker.args[0]})" if marker.args else ""
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs PostgreSQL{why}; this run uses {connection.vendor}: set DATABASE_URL=postgres://…"
                )
            )


@pytest.fixture(scope="session", autouse=True)
def uploads_in_a_temporary_directory(tmp_path_factory):
    """Uploads (facility photos) and the demo's drawn photos go to a directory of this run, not to media/."""
    with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
        yield


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


# The demo data ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """``seed_demo`` once per test module, inside a transaction that is rolled back after the module's last test.

    Each test's own transaction (the ``db`` fixture) is a savepoint inside it, so tests see the demo data and
    never each other's rows. Not for ``transaction=True`` tests.
    """
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHER):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# Lottery applications (tests/lottery, the counter's exports) ---------------------------------------------------


@pytest.fixture
def shiroi_players():
    """Five Shiroi residents; ann applies in English (her results e-mail is in English), eve has no address."""
    names = ["ann", "bob", "cat", "dan", "eve"]
    return {
        name: make_user("shiroi", f"lot-{name}", email="" if name == "eve" else f"{name}@example.com") for name in names
    }


@pytest.fixture
def shiroi_applications(shiroi_players):
    """Court 1 of 南山 at 09:00: ann, bob, cat, dan. Court 1 of 十余一 at 09:00 (another site, same hour): ann,
    eve. Court 1 of 南山 at 11:00: bob alone."""
    from django.utils import translation

    minamiyama = unit("shiroi", "minamiyama-tennis", "court-1")
    toyoichi = unit("shiroi", "toyoichi-tennis", "court-1")
    p = shiroi_players
    made = {}
    for name in ["ann", "bob", "cat", "dan"]:
        with translation.override("en" if name == "ann" else "ja"):
            made[(name, "minamiyama-09")] = apply(
                SHIROI_IN_WINDOW, user=p[name], unit=minamiyama, day=SHIROI_DAY, start="09:00", end="11:00"
            )
    for name in ["ann", "eve"]:
        with translation.override("en" if name == "ann" else "ja"):
            made[(name, "toyoichi-09")] = apply(
                SHIROI_IN_WINDOW, user=p[name], unit=toyoichi, day=SHIROI_DAY, start="09:00", end="11:00"
            )
    made[("bob", "minamiyama-11")] = apply(
        SHIROI_IN_WINDOW, user=p["bob"], unit=minamiyama, day=SHIROI_DAY, start="11:00", end="13:00"
    )
    return made
