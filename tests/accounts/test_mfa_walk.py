"""The second factor covers every page (accounts/middleware.py): an administrator without TOTP reaches only log-in,
log-out, the MFA set-up pages (with allauth's password reauthentication), language switching and the health probes.
Every other address of the project — walked from Django's URL resolver, admin included, GET and POST — sends them
to the TOTP set-up, or answers 403 ``mfa_required`` on the JSON API, and changes nothing."""

import hashlib
import json

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib.sessions.models import Session

from tests.accounts.url_walk import routes, tenant_objects, values_for
from tests.api.conftest import token_for
from tests.fees.test_cancellations import paid_tamba_booking
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded", "admin_mfa_required")]

ACTIVATE = "/accounts/2fa/totp/activate/"
OPEN_PAGES = {
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/i18n/setlang/",
    "/health/",
    "/ready/",
}
API_BODY = json.dumps({"unit_id": 1, "start": "2027-06-16T09:00:00+09:00", "end": "2027-06-16T12:00:00+09:00"})


def is_open(url: str) -> bool:
    return url in OPEN_PAGES or url.startswith("/accounts/2fa/")


def ask(client, route, url, method):
    if route.is_api:
        if method == "get":
            return client.get(url, {"from": "2027-06-16", "to": "2027-06-16"})
        return client.post(url, API_BODY, content_type="application/json")
    return getattr(client, method)(url)


def refused_for_mfa(route, response) -> bool:
    if route.is_api:
        return response.status_code == 403 and response.json()["code"] == "mfa_required"
    return response.status_code == 302 and response["Location"].split("?")[0] == ACTIVATE


def database_digest() -> str:
    """Every row of every table but the sessions'."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model is not Session:
            digest.update(repr(list(model.objects.order_by("pk").values_list())).encode())
    return digest.hexdigest()


def tamba_addresses():
    objects = tenant_objects("tamba", user("tamba-clerk"))
    objects["booking_id"] = paid_tamba_booking().pk  # a permit to show: the page the attacker opened
    for route in routes(every=True):
        yield route, route.url(values_for(route, "tamba", objects))


def test_every_address__administrator_without_totp__only_log_in_set_up_and_log_out_answer(client):
    addresses = list(tamba_addresses())
    client.force_login(user("tamba-admin"))
    before = database_digest()
    answered, wrong = set(), []
    for route, url in addresses:
        if url == "/accounts/logout/":
            continue  # below, last
        for method in ("get", "post"):
            response = ask(client, route, url, method)
            if is_open(url):
                answered.add(url)
            elif not refused_for_mfa(route, response):
                wrong.append(f"{method.upper()} {url} ({route.route}) → {response.status_code}")
        assert "_auth_user_id" in client.session, url
    assert len(addresses) > 200
    assert wrong == [], "\n".join(wrong)
    assert answered == (OPEN_PAGES - {"/accounts/logout/"}) | {
        "/accounts/2fa/",
        "/accounts/2fa/authenticate/",
        "/accounts/2fa/reauthenticate/",
        ACTIVATE,
        "/accounts/2fa/totp/deactivate/",
        "/accounts/2fa/recovery-codes/",
        "/accounts/2fa/recovery-codes/generate/",
        "/accounts/2fa/recovery-codes/download/",
    }
    assert database_digest() == before
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_the_api__refuses_the_session_and_a_token_of_an_administrator_without_totp(client):
    token = token_for("tamba-admin")
    answer = client.get(
        "/api/v1/tamba/reservations", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}
    )
    assert answer.status_code == 403 and answer.json() == {
        "code": "mfa_required",
        "message": "Administrators must use a second factor: set up an authenticator app (TOTP) before you continue.",
    }
    unit_id = tenant_objects("tamba", user("tamba-clerk"))["unit_id"]
    availability = f"/api/v1/tamba/units/{unit_id}/availability?from=2027-06-16&to=2027-06-16"  # credentials optional
    assert client.get(availability, headers={"Authorization": f"Bearer {token}"}).json()["code"] == "mfa_required"
    client.force_login(user("tamba-admin"))
    assert client.get("/api/v1/municipalities").json()["code"] == "mfa_required"


def test_administrator_with_totp__reaches_the_permit(client):
    booking = paid_tamba_booking()
    administrator = user("tamba-admin")
    TOTP.activate(administrator, generate_totp_secret())
    client.force_login(administrator)
    page = client.get(f"/tamba/bookings/{booking.pk}/permit/")
    assert page.status_code == 200 and booking.payment.permit_number in page.content.decode()


def test_a_deployment_can_require_it_of_clerks(client, settings):
    clerk = user("tamba-clerk")
    client.force_login(clerk)
    assert client.get("/tamba/counter/").status_code == 200  # optional for clerks by default
    settings.YOYAKU_MFA_REQUIRED_ROLES = ["operator", "administrator", "clerk"]
    assert client.get("/tamba/counter/")["Location"] == ACTIVATE + "?next=%2Ftamba%2Fcounter%2F"
    TOTP.activate(clerk, generate_totp_secret())
    assert client.get("/tamba/counter/").status_code == 200


def test_the_requirement_switched_off__as_tests_of_other_features_do(client, settings):
    settings.YOYAKU_ADMIN_MFA_REQUIRED = False
    client.force_login(user("tamba-admin"))
    assert client.get("/tamba/counter/").status_code == 200
