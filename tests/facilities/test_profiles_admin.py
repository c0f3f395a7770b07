"""Rule profiles in the Django admin (X-1): a municipal administrator edits their own profile's windows and
limits, the rows' validation shows in the form, and other municipalities' profiles stay out of reach."""

import datetime as dt

import pytest

from facilities.models import BookingLimit, BookingWindow, RuleProfile
from tests.reservations.booking_helpers import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture
def kodaira_admin(client, settings):
    client.force_login(user("kodaira-admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the messages below are the English source strings
    return client


@pytest.fixture
def kodaira_profile():
    return RuleProfile.objects.get(municipality__slug="kodaira")


def change_url(profile):
    return f"/admin/facilities/ruleprofile/{profile.pk}/change/"


def form_data(response) -> dict:
    """The change form as the browser would post it back unchanged: main form, management forms, inline rows."""
    data = {}

    def add(form, name):
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[form.add_prefix(name)] = "on"
        elif value is None:
            data[form.add_prefix(name)] = ""
        elif isinstance(value, dt.time):
            data[form.add_prefix(name)] = value.strftime("%H:%M")
        else:
            data[form.add_prefix(name)] = str(value)

    main = response.context["adminform"].form
    for name in main.fields:
        add(main, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        for form in formset.forms:
            if form.instance.pk is None:
                continue
            for name in form.fields:
                add(form, name)
    for inline in response.context["inline_admin_formsets"]:  # extra (empty) forms are not posted
        prefix = inline.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = data[f"{prefix}-INITIAL_FORMS"]
    return data


def window_index(data, phase, channel):
    index = 0
    while f"windows-{index}-phase" in data:
        if data[f"windows-{index}-phase"] == phase and data[f"windows-{index}-channel"] == channel:
            return index
        index += 1
    raise AssertionError(f"no {phase}/{channel} window in the form")


def test_profiles_admin__administrator_sees_only_own_profile(kodaira_admin):
    response = kodaira_admin.get("/admin/facilities/ruleprofile/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "小平市" in page
    assert "白井市" not in page and "丹波市" not in page


def test_profiles_admin__other_municipality_profile_cannot_be_opened(kodaira_admin):
    shiroi = RuleProfile.objects.get(municipality__slug="shiroi")
    assert kodaira_admin.get(change_url(shiroi)).status_code == 302  # the admin sends rows outside the queryset away
    response = kodaira_admin.post(change_url(shiroi), {"unpaid_rule_id": "HACKED"})
    assert response.status_code == 302
    assert RuleProfile.objects.get(pk=shiroi.pk).unpaid_rule_id == "S-PAY-2"


def test_profiles_admin__administrator_cannot_add_or_delete_a_profile(kodaira_admin, kodaira_profile):
    assert kodaira_admin.get("/admin/facilities/ruleprofile/add/").status_code == 403
    assert kodaira_admin.get(f"/admin/facilities/ruleprofile/{kodaira_profile.pk}/delete/").status_code == 403


def test_profiles_admin__change_page_shows_windows_and_limits_without_the_municipality_field(
    kodaira_admin, kodaira_profile
):
    response = kodaira_admin.get(change_url(kodaira_profile))
    assert response.status_code == 200
    assert "municipality" not in response.context["adminform"].form.fields
    page = response.content.decode()
    assert "M-1/first-open 09:00" in page and "D-8 23:59" in page and "K-FC-3" in page


def test_profiles_admin__unchanged_form_saves(kodaira_admin, kodaira_profile):
    data = form_data(kodaira_admin.get(change_url(kodaira_profile)))
    response = kodaira_admin.post(change_url(kodaira_profile), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    # first-come online and counter, last-minute (K-FC-1/2, K-LM-1), lottery online and counter (K-LOT-1);
    # K-FC-3, K-LOT-2
    assert kodaira_profile.windows.count() == 5 and kodaira_profile.limits.count() == 2


def test_profiles_admin__window_edit_takes_effect(kodaira_admin, kodaira_profile):
    data = form_data(kodaira_admin.get(change_url(kodaira_profile)))
    index = window_index(data, "first_come", "online")
    data[f"windows-{index}-closes"] = "D-10 23:59"
    response = kodaira_admin.post(change_url(kodaira_profile), data)
    assert response.status_code == 302
    assert kodaira_profile.windows.get(phase="first_come", channel="online").closes == "D-10 23:59"
    # The municipality stays the administrator's own.
    assert RuleProfile.objects.get(pk=kodaira_profile.pk).municipality.slug == "kodaira"


def test_profiles_admin__limit_count_edit_takes_effect(kodaira_admin, kodaira_profile):
    data = form_data(kodaira_admin.get(change_url(kodaira_profile)))
    data["limits-0-count"] = "6"
    assert kodaira_admin.post(change_url(kodaira_profile), data).status_code == 302
    assert kodaira_profile.limits.get(rule_id="K-FC-3").count == 6


def _post_expecting_error(client, profile, changes, message):
    data = form_data(client.get(change_url(profile)))
    before_windows = list(BookingWindow.objects.filter(profile=profile).values())
    before_limits = list(BookingLimit.objects.filter(profile=profile).values())
    for key, value in changes(data).items():
        data[key] = value
    response = client.post(change_url(profile), data)
    assert response.status_code == 200  # the form comes back
    assert message in response.content.decode()
    assert list(BookingWindow.objects.filter(profile=profile).values()) == before_windows
    assert list(BookingLimit.objects.filter(profile=profile).values()) == before_limits
    return response


def test_profiles_admin__window_that_closes_before_it_opens_is_refused(kodaira_admin, kodaira_profile):
    def changes(data):
        index = window_index(data, "first_come", "online")
        return {f"windows-{index}-closes": "M-2/1 00:00"}  # before M-1/first-open

    _post_expecting_error(kodaira_admin, kodaira_profile, changes, "This window closes before it opens.")


def test_profiles_admin__malformed_date_rule_is_refused(kodaira_admin, kodaira_profile):
    def changes(data):
        index = window_index(data, "first_come", "counter")
        return {f"windows-{index}-opens": "next month at nine"}

    response = _post_expecting_error(kodaira_admin, kodaira_profile, changes, "is not a date rule")
    assert response.content.decode().count("is not a date rule") == 1  # once, though two checks find it


def test_profiles_admin__half_given_service_hours_are_refused(kodaira_admin, kodaira_profile):
    def changes(data):
        index = window_index(data, "first_come", "online")
        return {f"windows-{index}-service_from": "10:00"}

    _post_expecting_error(
        kodaira_admin, kodaira_profile, changes, "Give both ends of the daily service hours, or neither."
    )


def test_profiles_admin__new_window_row_is_validated_too(kodaira_admin, kodaira_profile):
    def changes(data):
        index = int(data["windows-TOTAL_FORMS"])
        return {
            "windows-TOTAL_FORMS": str(index + 1),
            f"windows-{index}-profile": str(kodaira_profile.pk),
            f"windows-{index}-phase": "first_come",
            f"windows-{index}-channel": "phone",
            f"windows-{index}-initial_state": "provisional",
            f"windows-{index}-opens": "D-3 00:00",
            f"windows-{index}-closes": "D-8 23:59",
            f"windows-{index}-opens_rule_id": "X-1",
            f"windows-{index}-closes_rule_id": "X-1",
        }

    _post_expecting_error(kodaira_admin, kodaira_profile, changes, "This window closes before it opens.")


def test_profiles_admin__limit_with_unknown_origin_is_refused(kodaira_admin, kodaira_profile):
    _post_expecting_error(
        kodaira_admin,
        kodaira_profile,
        lambda data: {"limits-0-counted_origins": "first_come,raffle"},
        "Unknown origins: raffle",
    )


def test_profiles_admin__unknown_cancellable_state_is_refused(kodaira_admin, kodaira_profile):
    _post_expecting_error(
        kodaira_admin,
        kodaira_profile,
        lambda data: {"online_cancellable_states": "provisional,paid"},
        "Unknown states: paid",
    )


def test_profiles_admin__unknown_early_start_kind_is_refused(kodaira_admin, kodaira_profile):
    _post_expecting_error(
        kodaira_admin, kodaira_profile, lambda data: {"early_start_unit_kinds": "gym,pool"}, "Unknown unit kinds: pool"
    )


def test_profiles_admin__every_field_of_the_profile_is_on_the_change_page(kodaira_admin, kodaira_profile):
    """X-1: a rule the administrators cannot see is a rule they cannot edit; a new profile field must join a
    fieldset."""
    form_fields = set(kodaira_admin.get(change_url(kodaira_profile)).context["adminform"].form.fields)
    assert editable_fields(RuleProfile) - {"municipality"} - form_fields == set()


def editable_fields(model) -> set[str]:
    return {
        field.name
        for field in model._meta.get_fields()
        if getattr(field, "editable", False) and not field.auto_created and field.concrete
    }


def _profile_models():
    """Every model of a municipality's rules (X-1: windows, limits, hours, fees, deadlines), the inlines' too."""
    from facilities.models import (
        ClosureCalendar,
        ClosureRule,
        Facility,
        Municipality,
        OpeningHours,
        SchemePeriod,
        SlotScheme,
        Unit,
    )
    from fees.models import FeeExemption, FeeRate, FeeSchedule, PaymentPlace, RefundRule, WeatherPolicy
    from lottery.models import LotteryPolicy

    return [
        Municipality,
        RuleProfile,
        BookingWindow,
        BookingLimit,
        Facility,
        OpeningHours,
        Unit,
        SlotScheme,
        SchemePeriod,
        ClosureCalendar,
        ClosureRule,
        LotteryPolicy,
        FeeSchedule,
        FeeRate,
        FeeExemption,
        RefundRule,
        PaymentPlace,
        WeatherPolicy,
    ]


def _admin_form_fields(request) -> dict:
    """model → the fields its admin add forms show: the model's own admin and every inline that edits it."""
    from django.contrib import admin

    models = _profile_models()
    shown: dict = {}
    for model, model_admin in admin.site._registry.items():
        if model not in models:
            continue
        shown.setdefault(model, set()).update(model_admin.get_form(request).base_fields)
        for inline in model_admin.get_inline_instances(request):
            formset = inline.get_formset(request)
            shown.setdefault(inline.model, set()).update(formset.form.base_fields)
            shown[inline.model].add(formset.fk.name)  # the parent: set by the formset itself
    return shown


@pytest.mark.parametrize("username", ["operator", "kodaira-admin"])
def test_profiles_admin__every_field_of_every_profile_model_is_editable_in_the_admin(rf, username):
    """X-1, issue #19 item 6: every model of the rules — the profile with its windows and limits, facilities with
    their hours and units, slot schemes and periods, closure calendars and their rules, the lottery policy, fee
    schedules and prices, exemptions, refund rules, payment places, the rain/heat policy — has every field on an
    admin form (its own or an inline), for the operator and for a municipal administrator (whose forms leave out
    only the municipality, set to their own). BookingWindow.paid_at_booking (S-FC-3, T-PAY-3) was once missing."""
    request = rf.get("/admin/")
    request.user = user(username)
    shown = _admin_form_fields(request)
    from facilities.models import Municipality

    def theirs_only(model):  # the administrator's own municipality, and its web address, are not theirs to change
        if request.user.is_superuser:
            return set()
        return {"municipality"} | ({"slug"} if model is Municipality else set())

    missing = {
        model.__name__: sorted(editable_fields(model) - shown.get(model, set()) - theirs_only(model))
        for model in _profile_models()
    }
    missing = {name: fields for name, fields in missing.items() if fields}
    unregistered = [model.__name__ for model in _profile_models() if model not in shown]
    assert unregistered == [] and missing == {}, f"not in the admin: {unregistered}; fields missing: {missing}"


def test_profiles_admin__operator_sees_every_profile(client):
    client.force_login(user("operator"))
    page = client.get("/admin/facilities/ruleprofile/").content.decode()
    assert "小平市" in page and "白井市" in page and "丹波市" in page
    shiroi = RuleProfile.objects.get(municipality__slug="shiroi")
    response = client.get(change_url(shiroi))
    assert response.status_code == 200
    assert "municipality" in response.context["adminform"].form.fields


def test_profiles_admin__walk_ins_switched_off_by_the_administrator__the_counter_offers_them_no_more(client, settings):
    """S-FC-3 is profile data: emptying its rule id in the admin is enough, no code change (X-1)."""
    client.force_login(user("shiroi-clerk"))
    assert 'data-test="walk-in"' in client.get("/shiroi/counter/").content.decode()
    client.force_login(user("shiroi-admin"))
    profile = RuleProfile.objects.get(municipality__slug="shiroi")
    data = form_data(client.get(change_url(profile)))
    assert data["walk_in_rule_id"] == "S-FC-3" and data["permit_title"]
    data["walk_in_rule_id"] = ""
    assert client.post(change_url(profile), data).status_code == 302
    assert RuleProfile.objects.get(pk=profile.pk).walk_in_rule_id == ""
    client.force_login(user("shiroi-clerk"))
    assert 'data-test="walk-in"' not in client.get("/shiroi/counter/").content.decode()
