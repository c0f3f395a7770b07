"""Tenancy (issue #6 item 5): every page and API address of the project, filled in with Kodaira's objects, is a
404 for Shiroi's staff and residents — whether the address names Kodaira (counter pages) or Shiroi with Kodaira's
ids. Nothing tells them which Kodaira ids exist.

Each address is asked with GET and POST. A 405 says only that the *route* does not take that method (the same
for every id), so it is allowed beside the 404 of the other method. The JSON API refuses staff accounts as a
whole (403 ``staff_account``, before any look-up): the same answer for every id, so allowed for the clerk.
"""

import json

import pytest

from tests.accounts.url_walk import routes, tenant_objects, values_for
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

API_BODY = json.dumps({"unit_id": 1, "start": "2027-06-16T09:00:00+09:00", "end": "2027-06-16T12:00:00+09:00"})


def addresses(kodaira_objects):
    for route in routes():
        if route.is_counter:
            yield route, route.url(values_for(route, "kodaira", kodaira_objects))  # Kodaira's own counter
        if route.has_objects:
            yield route, route.url(values_for(route, "shiroi", kodaira_objects))  # Shiroi's address, Kodaira's ids


def ask(client, route, url, method):
    if route.is_api:
        if method == "get":
            return client.get(url, {"from": "2027-06-16", "to": "2027-06-16"})
        return client.post(url, API_BODY, content_type="application/json")
    return getattr(client, method)(url)


def answers_nothing(route, response, is_staff) -> bool:
    if response.status_code in (404, 405):
        return True
    return is_staff and route.is_api and response.status_code == 403 and response.json().get("code") == "staff_account"


@pytest.mark.parametrize("username", ["shiroi-clerk", "shiroi-resident"])
def test_every_address_with_another_municipalitys_ids_is_404(client, username):
    kodaira = tenant_objects("kodaira", user("kodaira-clerk"))
    me = user(username)
    client.force_login(me)
    checked, wrong = 0, []
    for route, url in addresses(kodaira):
        codes = {}
        for method in ("get", "post"):
            response = ask(client, route, url, method)
            codes[method] = response.status_code
            if not answers_nothing(route, response, me.account_kind == "staff"):
                wrong.append(f"{method.upper()} {url} ({route.route}) → {response.status_code}")
        if 404 not in codes.values() and not (route.is_api and me.account_kind == "staff"):
            wrong.append(f"{url} ({route.route}): no 404, {codes}")
        checked += 1
    assert checked > 30
    assert wrong == [], "\n".join(wrong)


def test_the_walk_reaches_real_pages(client):
    """With its own municipality's ids the same clerk is not refused: the addresses the walk builds are real."""
    from tests.accounts.helpers import counter

    shiroi = tenant_objects("shiroi", user("shiroi-clerk"))
    client.force_login(user("shiroi-clerk"))
    assert client.get(counter("shiroi", "account", shiroi["user_pk"])).status_code == 200
    assert client.get(counter("shiroi", "index")).status_code == 200


def test_the_walk_uses_real_ids_of_the_resident_owning_them(client):
    """The walk's ids are the owner's real objects, so the 404 above comes from the tenant and user checks, not
    from ids that exist nowhere: the resident who owns them opens each resident page with them (issue #19 item 8:
    the token and notification addresses were once filled in with a user id). On 2027-05-01 the walk's lottery
    win (2027-06-16) is published (K-LOT-3), so its use permit is out too (K-USE-1)."""
    import time_machine

    from accounts.models import ApiToken
    from tests.reservations.booking_helpers import jst

    kodaira = tenant_objects("kodaira", user("kodaira-clerk"))
    owner = kodaira["owner"]
    missing = []
    with time_machine.travel(jst(2027, 5, 1, 10, 0), tick=False):
        client.force_login(owner)
        for route in routes():
            if route.is_counter or route.is_api or (not route.has_objects and "pk" not in route.params):
                continue
            if "/transfer/" in route.route:
                continue  # S-WX-1 transfers: Kodaira has no rain/heat scheme, so these are 404 for every booking
            url = route.url(values_for(route, "kodaira", kodaira))
            if client.get(url).status_code == 404:
                missing.append(f"{url} ({route.route})")
        assert client.get(f"/accounts/notifications/{kodaira['notice_pk']}/").status_code == 200
        client.post(f"/accounts/tokens/{kodaira['token_pk']}/revoke/")
    assert missing == [], "\n".join(missing)
    assert ApiToken.objects.get(pk=kodaira["token_pk"]).revoked_at is not None
