"""CSRF is enforced on every form (issue #6 done-when): a POST without the token is a 403, for every address of
the project — pages as a logged-in clerk or resident and as a visitor, the JSON API with a session."""

import pytest
from django.test import Client

from tests.accounts.url_walk import routes, tenant_objects, values_for
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.mark.parametrize("username", ["kodaira-clerk", "kodaira-group1", None])
def test_post_without_csrf_token_is_refused_everywhere(username):
    objects = tenant_objects("kodaira", user("kodaira-clerk"))
    client = Client(enforce_csrf_checks=True)
    if username:
        client.force_login(user(username))
    wrong = []
    for route in routes():
        url = route.url(values_for(route, "kodaira", objects))
        response = client.post(url, {"anything": "1"})
        if route.is_api and username is None:
            continue  # no session: the API answers 401, there is nothing to forge
        if route.is_api and response.status_code == 405:
            continue  # a read-only API address: it takes no POST at all
        if response.status_code != 403:
            wrong.append(f"POST {url} → {response.status_code}")
    assert wrong == [], "\n".join(wrong)


def test_the_same_post_with_the_token_gets_through():
    client = Client(enforce_csrf_checks=True)
    client.force_login(user("kodaira-group1"))
    page = client.get("/accounts/profile/")
    token = page.cookies["csrftoken"].value
    response = client.post("/accounts/profile/", {"save_language": "1", "language": "en", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and user("kodaira-group1").language == "en"
