"""The lottery admin: a municipal administrator edits their own lottery policy and reads their draws and results
(tenant scoping as in facilities/admin.py); nobody edits applications or results by hand."""

import pytest

from lottery.models import LotteryPolicy
from tests.reservations.booking_helpers import user

from .helpers import SHIROI_DRAW, SHIROI_MONTH, run_draw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def test_admin__policy_list_shows_only_the_own_municipality(client):
    client.force_login(user("shiroi-admin"))
    page = client.get("/admin/lottery/lotterypolicy/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "白井市" in body and "小平市" not in body
    kodaira = LotteryPolicy.objects.get(municipality__slug="kodaira")
    assert client.get(f"/admin/lottery/lotterypolicy/{kodaira.pk}/change/").status_code in (302, 404)


def test_admin__draws_and_results_are_read_only(client, shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    client.force_login(user("shiroi-admin"))
    for path in ("/admin/lottery/draw/", "/admin/lottery/drawresult/", "/admin/lottery/application/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "add/" not in page.content.decode().split("<main", 1)[-1] or "addlink" not in page.content.decode()
    body = client.get("/admin/lottery/draw/").content.decode()
    assert "2027" in body
    assert client.get("/admin/lottery/application/add/").status_code == 403


def test_admin__policy_validation_needs_a_confirmation_deadline():
    from django.core.exceptions import ValidationError

    policy = LotteryPolicy.objects.get(municipality__slug="shiroi")
    policy.confirm_until = ""
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert "confirm_until" in error.value.message_dict
    policy.confirm_until = "D-3 23:59"
    with pytest.raises(ValidationError):
        policy.full_clean()
