"""Fee schedules, exemptions and refund rules in the Django admin: scoped to the administrator's municipality,
and nonsense is refused with a message that says what is wrong (negative prices, overlapping validity, a
multiplier of 0, two prices for the same thing, refunds above what was paid)."""

import datetime as dt

import pytest

from fees.models import FeeExemption, FeeSchedule, RefundRule

from .helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

ADD_SCHEDULE = "/admin/fees/feeschedule/add/"


@pytest.fixture
def shiroi_admin(client, settings):
    client.force_login(user("shiroi-admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # messages below are the English source strings
    return client


def schedule_form(rates=(), **fields):
    data = {
        "name_ja": "新料金",
        "name_en": "New fees",
        "valid_from": "2030-04-01",
        "valid_until": "",
        "non_resident_percent": "200",
        "non_resident_rule_id": "S-FEE-1",
        "source": "",
        "rates-TOTAL_FORMS": str(len(rates)),
        "rates-INITIAL_FORMS": "0",
        "rates-MIN_NUM_FORMS": "0",
        "rates-MAX_NUM_FORMS": "1000",
    } | fields
    for index, rate in enumerate(rates):
        row = {
            "charge": "base",
            "facility": "",
            "unit": "",
            "unit_kind": "",
            "fee_category": "",
            "price": "630",
            "per": "slot",
            "lit_from": "",
            "non_resident_multiplied": "on",
            "rule_id": "S-FEE",
        } | rate
        data |= {f"rates-{index}-{name}": value for name, value in row.items()}
    return data


def errors_of(response) -> str:
    assert response.status_code == 200, "the form should have been refused"
    context = response.context
    texts = [str(error) for error in context["errors"]]
    for inline in context["inline_admin_formsets"]:
        texts += [str(error) for error in inline.formset.non_form_errors()]
        texts += [str(form.errors) for form in inline.formset.forms]
    return " ".join(texts)


@pytest.fixture
def shiroi_schedule():
    """The seeded schedule, ended on 2030-03-31 so that a new one may start on 2030-04-01."""
    schedule = FeeSchedule.objects.get(municipality__slug="shiroi")
    schedule.valid_until = dt.date(2030, 3, 31)
    schedule.save()
    return schedule


def test_admin__administrator_sees_only_own_schedules_and_cannot_open_others(shiroi_admin):
    page = shiroi_admin.get("/admin/fees/feeschedule/").content.decode()
    assert "白井市スポーツ施設使用料" in page and "丹波市" not in page and "小平市" not in page
    tamba = FeeSchedule.objects.get(municipality__slug="tamba")
    assert shiroi_admin.get(f"/admin/fees/feeschedule/{tamba.pk}/change/").status_code == 302


def test_admin__a_valid_new_schedule_is_saved_in_the_administrators_municipality(shiroi_admin, shiroi_schedule):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(rates=[{"unit_kind": "court", "fee_category": "general"}]))
    assert response.status_code == 302, errors_of(response)
    new = FeeSchedule.objects.get(valid_from=dt.date(2030, 4, 1))
    assert new.municipality.slug == "shiroi"
    assert [(rate.unit_kind, rate.price) for rate in new.rates.all()] == [("court", 630)]


def test_admin__negative_price_is_refused(shiroi_admin, shiroi_schedule):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(rates=[{"price": "-630"}]))
    assert "A price cannot be negative." in errors_of(response)
    assert not FeeSchedule.objects.filter(valid_from=dt.date(2030, 4, 1)).exists()


def test_admin__overlapping_validity_is_refused(shiroi_admin):
    """The seeded schedule runs from 2024-04-01 with no end: a schedule from 2030-04-01 would overlap it."""
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form())
    errors = errors_of(response)
    assert "overlaps the fee schedule “白井市スポーツ施設使用料”" in errors
    assert "End that schedule the day before this one starts" in errors


def test_admin__same_start_date_is_refused_as_an_overlap(shiroi_admin, shiroi_schedule):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(valid_from="2024-04-01", valid_until="2025-03-31"))
    assert "overlaps the fee schedule" in errors_of(response)


@pytest.mark.parametrize("percent", ["0", "50"])
def test_admin__multiplier_below_one_is_refused(shiroi_admin, shiroi_schedule, percent):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(non_resident_percent=percent))
    assert "The non-resident fee is at least the resident fee: enter 100 or more" in errors_of(response)


def test_admin__end_before_start_is_refused(shiroi_admin, shiroi_schedule):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(valid_until="2030-03-01"))
    assert "The last day of validity is before the first." in errors_of(response)


def test_admin__two_prices_for_the_same_thing_are_refused(shiroi_admin, shiroi_schedule):
    rows = [
        {"unit_kind": "court", "fee_category": "child", "price": "150"},
        {"unit_kind": "court", "fee_category": "child", "price": "160"},
    ]
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(rates=rows))
    assert "Another price of this schedule already applies to the same charge" in errors_of(response)


def test_admin__lighting_needs_an_hourly_price_and_a_start_time(shiroi_admin, shiroi_schedule):
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(rates=[{"charge": "lighting", "price": "2430"}]))
    errors = errors_of(response)
    assert "Lighting is charged per hour (S-HRS-2)." in errors
    assert "Give the time from which lighting is charged" in errors


def test_admin__another_municipalitys_facility_cannot_be_priced(shiroi_admin, shiroi_schedule):
    from facilities.models import Facility

    kaibara = Facility.objects.get(municipality__slug="tamba", code="kaibara")
    response = shiroi_admin.post(ADD_SCHEDULE, schedule_form(rates=[{"facility": str(kaibara.pk)}]))
    assert "Select a valid choice" in errors_of(response)


def test_admin__refund_above_what_was_paid_is_refused(shiroi_admin):
    rule = RefundRule.objects.get(municipality__slug="shiroi", rule_id="S-CAN-2")
    data = {
        "cause": "own",
        "until": "D-7 23:59",
        "percent": "150",
        "cancellable": "on",
        "rule_id": "S-CAN-2",
        "order": "1",
    }
    response = shiroi_admin.post(f"/admin/fees/refundrule/{rule.pk}/change/", data)
    assert "A refund cannot exceed what was paid: enter 0–100." in errors_of(response)
    data |= {"percent": "50", "until": "D-7 25:00"}
    assert "the time must be between 00:00 and 23:59" in errors_of(
        shiroi_admin.post(f"/admin/fees/refundrule/{rule.pk}/change/", data)
    )
    data |= {"until": "B+3 23:59"}
    assert "relative to the use date" in errors_of(shiroi_admin.post(f"/admin/fees/refundrule/{rule.pk}/change/", data))


def test_admin__exemption_overlap_and_percent_are_checked(client, settings):
    client.force_login(user("kodaira-admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    group = user("kodaira-group2")  # exempt from 2026-04-01 (demo data)
    data = {
        "user": str(group.pk),
        "percent": "100",
        "valid_from": "2027-04-01",
        "valid_until": "",
        "rule_id": "K-USE-2",
        "note": "",
    }
    assert "already has an exemption in this period" in errors_of(client.post("/admin/fees/feeexemption/add/", data))
    data |= {"user": str(user("kodaira-group1").pk), "percent": "0"}
    assert "Enter 1–100: 100 exempts the whole fee." in errors_of(client.post("/admin/fees/feeexemption/add/", data))
    data |= {"percent": "100"}
    assert client.post("/admin/fees/feeexemption/add/", data).status_code == 302
    assert FeeExemption.objects.get(user=user("kodaira-group1")).municipality.slug == "kodaira"


def test_admin__exemption_cannot_name_another_municipalitys_user(client):
    client.force_login(user("kodaira-admin"))
    data = {"user": str(user("shiroi-resident").pk), "percent": "100", "valid_from": "2027-04-01", "rule_id": "K-USE-2"}
    response = client.post("/admin/fees/feeexemption/add/", data)
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors


def test_admin__operator_sees_every_municipalitys_schedules(client):
    client.force_login(user("operator"))
    page = client.get("/admin/fees/feeschedule/").content.decode()
    assert (
        "白井市スポーツ施設使用料" in page
        and "丹波市住民センター等使用料" in page
        and "小平市地域センター使用料" in page
    )


def test_admin__kodaira_schedule_page_with_its_per_room_prices_opens(client, django_assert_max_num_queries):
    client.force_login(user("kodaira-admin"))
    schedule = FeeSchedule.objects.get(municipality__slug="kodaira")
    with django_assert_max_num_queries(20):  # choices read once, not once per row
        response = client.get(f"/admin/fees/feeschedule/{schedule.pk}/change/")
    assert response.status_code == 200
    assert "中島地域センター / 集会室" in response.content.decode()  # units are named with their facility


def test_admin__unchanged_schedule_form_saves_and_an_edit_takes_effect(client):
    from tests.facilities.test_profiles_admin import form_data

    client.force_login(user("shiroi-admin"))
    schedule = FeeSchedule.objects.get(municipality__slug="shiroi")
    url = f"/admin/fees/feeschedule/{schedule.pk}/change/"
    data = form_data(client.get(url))
    index = next(
        i
        for i in range(20)
        if data.get(f"rates-{i}-unit_kind") == "court" and data.get(f"rates-{i}-fee_category") == "child"
    )
    data[f"rates-{index}-price"] = "160"
    response = client.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert schedule.rates.get(unit_kind="court", fee_category="child").price == 160
    assert schedule.rates.count() == 13
