"""``manage.py seed_demo``: idempotent demo data of Kodaira, Shiroi and Tamba (RULES.md)."""

import datetime as dt
import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from demo.load import load_demo
from facilities.calendars import first_open_day
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

User = get_user_model()

SEEDED_MODELS = [
    Municipality,
    Facility,
    Unit,
    SlotScheme,
    SchemePeriod,
    OpeningHours,
    ClosureCalendar,
    ClosureRule,
    User,
    Group,
    User.groups.through,
    Group.permissions.through,
]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The loader hashes 16 passwords per run; the production hasher would make every test take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


def rows_by_model():
    return {model._meta.label: sorted(model.objects.values_list("pk", flat=True)) for model in SEEDED_MODELS}


@pytest.mark.django_db
def test_seed_demo__twice__creates_nothing_new():
    call_command("seed_demo", stdout=io.StringIO())
    rows_before = rows_by_model()
    passwords_before = dict(User.objects.values_list("username", "password"))

    second = load_demo()

    assert second.created_count == 0
    assert rows_by_model() == rows_before
    assert dict(User.objects.values_list("username", "password")) == passwords_before


@pytest.mark.django_db
def test_seed_demo__command__prints_one_line_summary():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=out)

    first, second = out.getvalue().splitlines()
    assert "3 municipalities" in first and "0 rows created" in second


@pytest.mark.django_db
def test_seed_demo__rerun__restores_exactly_the_listed_rules_hours_and_periods(seeded):
    nakajima = Facility.objects.get(municipality__slug="kodaira", code="nakajima")
    ClosureRule.objects.create(calendar=nakajima.closure_calendar, kind="weekly", weekday=0, note="stray")
    OpeningHours.objects.filter(facility=nakajima).update(closes=dt.time(20))
    SchemePeriod.objects.create(
        scheme=SlotScheme.objects.get(code="three-periods"), starts=dt.time(6), ends=dt.time(8), name_ja="早朝"
    )

    call_command("seed_demo", stdout=io.StringIO())

    assert not ClosureRule.objects.filter(note="stray").exists()
    assert nakajima.closure_calendar.rules.count() == 3  # 1st/3rd Tuesday, year end, one sample closure
    assert list(nakajima.opening_hours.values_list("first_month", "last_month", "opens", "closes")) == [
        (1, 12, dt.time(9), dt.time(22))
    ]
    assert SchemePeriod.objects.filter(scheme__code="three-periods").count() == 3


@pytest.mark.django_db
def test_seed_demo__every_row__passes_model_validation(seeded):
    for model in (
        Municipality,
        Facility,
        Unit,
        SlotScheme,
        SchemePeriod,
        OpeningHours,
        ClosureCalendar,
        ClosureRule,
        User,
    ):
        for obj in model.objects.all():
            obj.full_clean()


# --- Shiroi (RULES.md Shiroi table, S-HRS-1) ---

SHIROI_SITES = {
    "nakakido-tennis": (2, "artificial_turf"),
    "minamiyama-tennis": (3, "artificial_turf"),
    "nanatsugi-daiichi-tennis": (2, "clay"),
    "toyoichi-tennis": (2, "hard"),
    "noguchi-tennis": (2, "hard"),
    "undokoen-tennis": (6, "artificial_turf"),
    "nakakido-ground": (1, ""),
    "minamiyama-ground": (1, ""),
    "undokoen-ground": (1, ""),
}


@pytest.mark.django_db
def test_seed_demo__shiroi__has_nine_sites_and_twenty_units_as_in_rules(seeded):
    shiroi = Municipality.objects.get(slug="shiroi")
    facilities = Facility.objects.of(shiroi)

    assert facilities.count() == 9
    assert Unit.objects.of(shiroi).count() == 20
    for facility in facilities:
        count, surface = SHIROI_SITES[facility.code]
        units = facility.units.all()
        assert len(units) == count, facility.code
        assert {unit.surface for unit in units} == {surface}, facility.code
        assert facility.closure_calendar is None  # the seed names no closed days for the sites themselves
    courts = Unit.objects.of(shiroi).filter(facility__code="undokoen-tennis")
    assert next((u.code, u.name_ja, u.name_en) for u in courts) == ("court-1", "1番コート", "Court 1")


@pytest.mark.django_db
def test_seed_demo__shiroi_grounds__only_minamiyama_has_night_lights(seeded):
    lit = Unit.objects.filter(municipality__slug="shiroi", has_night_lights=True)

    assert [unit.facility.code for unit in lit] == ["minamiyama-ground"]


@pytest.mark.django_db
def test_seed_demo__nanatsugi_daiichi__has_no_parking(seeded):
    without_parking = Facility.objects.filter(municipality__slug="shiroi", has_parking=False)

    assert [f.code for f in without_parking] == ["nanatsugi-daiichi-tennis"]


@pytest.mark.django_db
def test_seed_demo__shiroi__two_hour_slots_and_seasonal_hours(seeded):
    def hours(code):
        return list(
            OpeningHours.objects.filter(facility__municipality__slug="shiroi", facility__code=code).values_list(
                "first_month", "last_month", "opens", "closes"
            )
        )

    scheme = SlotScheme.objects.get(municipality__slug="shiroi", code="two-hours")
    assert (scheme.kind, scheme.slot_minutes) == ("fixed_length", 120)
    assert set(Unit.objects.filter(municipality__slug="shiroi").values_list("slot_scheme", flat=True)) == {scheme.pk}
    assert hours("undokoen-tennis") == [(4, 9, dt.time(7), dt.time(19)), (10, 3, dt.time(9), dt.time(17))]
    assert hours("toyoichi-tennis") == [(4, 9, dt.time(7), dt.time(19)), (10, 3, dt.time(7), dt.time(17))]
    assert hours("nakakido-ground") == [(4, 9, dt.time(7), dt.time(19)), (10, 3, dt.time(7), dt.time(17))]
    assert hours("minamiyama-ground") == [(1, 12, dt.time(7), dt.time(21))]


# --- Kodaira (K-FC-1) and Tamba ---


@pytest.mark.django_db
def test_seed_demo__kodaira__nineteen_centers_each_with_own_closure_calendar(seeded):
    centers = Facility.objects.filter(municipality__slug="kodaira", kind="community_center")

    assert centers.count() == 19
    calendars = [center.closure_calendar for center in centers]
    assert None not in calendars
    assert len({calendar.pk for calendar in calendars}) == 19
    for calendar in calendars:
        tuesdays = calendar.rules.get(kind="nth_weekday")
        assert (tuesdays.weekday, tuesdays.weeks(), tuesdays.shift_if_holiday) == (1, {1, 3}, True)
        assert calendar.rules.filter(kind="annual", start_month=12, start_day=29, end_month=1, end_day=3).exists()
    for center in centers:
        assert 2 <= center.units.count() <= 4


@pytest.mark.django_db
def test_seed_demo__kodaira__first_open_day_differs_between_centers(seeded):
    centers = Facility.objects.filter(municipality__slug="kodaira")

    first_days = {first_open_day(center, 2027, 7) for center in centers}

    assert first_days == {dt.date(2027, 7, 1), dt.date(2027, 7, 2)}


@pytest.mark.django_db
def test_seed_demo__tamba__resident_centers_and_a_school_gym_bookable_by_the_hour(seeded):
    tamba = Municipality.objects.get(slug="tamba")
    kinds = list(Facility.objects.of(tamba).values_list("kind", flat=True))

    assert kinds.count("resident_center") == 6
    assert "school" in kinds
    assert Unit.objects.of(tamba).filter(kind="gym", facility__kind="school").exists()
    assert {u.slot_scheme.kind for u in Unit.objects.of(tamba)} == {"hourly"}  # T-USE-1


# --- Demo accounts ---

DEMO_ACCOUNTS = [
    # username, password, municipality, account kind, residency, fee category, staff role
    ("kodaira-group1", "1357", "kodaira", "group", "resident", "general", ""),
    ("kodaira-group2", "1357", "kodaira", "group", "resident", "general", ""),
    ("kodaira-clerk", "yoyaku-demo", "kodaira", "staff", "resident", "general", "clerk"),
    ("kodaira-admin", "yoyaku-demo", "kodaira", "staff", "resident", "general", "administrator"),
    ("shiroi-resident", "yoyaku-demo", "shiroi", "individual", "resident", "general", ""),
    ("shiroi-student", "yoyaku-demo", "shiroi", "individual", "resident", "student", ""),
    ("shiroi-child", "yoyaku-demo", "shiroi", "individual", "resident", "child", ""),
    ("shiroi-visitor", "yoyaku-demo", "shiroi", "individual", "non_resident", "general", ""),
    ("shiroi-clerk", "yoyaku-demo", "shiroi", "staff", "resident", "general", "clerk"),
    ("shiroi-admin", "yoyaku-demo", "shiroi", "staff", "resident", "general", "administrator"),
    ("tamba-resident1", "yoyaku-demo", "tamba", "card_holder", "resident", "general", ""),
    ("tamba-resident2", "yoyaku-demo", "tamba", "card_holder", "resident", "general", ""),
    ("tamba-visitor", "yoyaku-demo", "tamba", "card_holder", "non_resident", "general", ""),
    ("tamba-clerk", "yoyaku-demo", "tamba", "staff", "resident", "general", "clerk"),
    ("tamba-admin", "yoyaku-demo", "tamba", "staff", "resident", "general", "administrator"),
    ("operator", "yoyaku-demo", None, "staff", "resident", "general", ""),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("username", "password", "municipality", "kind", "residency", "fee_category", "staff_role"), DEMO_ACCOUNTS
)
def test_seed_demo__demo_account__has_documented_profile_and_authenticates(
    seeded, username, password, municipality, kind, residency, fee_category, staff_role
):
    user = authenticate(username=username, password=password)

    assert user is not None
    assert (user.municipality.slug if user.municipality else None) == municipality
    assert (user.account_kind, user.residency, user.fee_category, user.staff_role) == (
        kind,
        residency,
        fee_category,
        staff_role,
    )
    assert authenticate(username=username, password="wrong-password") is None


@pytest.mark.django_db
def test_seed_demo__demo_accounts__validity_follows_each_profile(seeded):
    def validity(username):
        user = User.objects.get(username=username)
        return user.valid_from, user.valid_until

    registered = dt.date(2026, 4, 1)
    assert validity("kodaira-group1") == (registered, dt.date(2029, 3, 31))  # K-REG-3: 3 years
    assert validity("shiroi-resident") == (registered, dt.date(2027, 3, 31))  # S-REG-3: March 31 of next year
    assert validity("tamba-visitor") == (registered, dt.date(2029, 3, 31))  # T-REG-1: 3 years from issue
    assert validity("kodaira-clerk") == (None, None)


@pytest.mark.django_db
def test_seed_demo__administrators__are_staff_with_facility_and_fee_permissions_only(seeded):
    group = Group.objects.get(name="municipal administrators")
    codenames = set(group.permissions.values_list("codename", flat=True))
    all_facility_and_fee_codenames = set(
        Permission.objects.filter(content_type__app_label__in=["facilities", "fees"]).values_list("codename", flat=True)
    )

    lottery = {
        "view_lotterypolicy",
        "change_lotterypolicy",
        "view_application",
        "view_draw",
        "view_drawresult",
        "view_resultnotice",
    }
    assert (
        codenames == (all_facility_and_fee_codenames - {"add_municipality", "delete_municipality"}) | lottery
    )  # issue #4: read-mostly
    assert {"change_feeschedule", "add_feerate", "add_feeexemption", "change_refundrule"} <= codenames  # issue #5
    assert {"view_municipality", "change_municipality", "add_unit", "delete_closurerule"} <= codenames
    assert set(group.user_set.values_list("username", flat=True)) == {"kodaira-admin", "shiroi-admin", "tamba-admin"}
    assert all(user.is_staff and not user.is_superuser for user in group.user_set.all())
    assert not User.objects.get(username="shiroi-clerk").is_staff
    operator = User.objects.get(username="operator")
    assert operator.is_superuser and operator.is_staff and operator.municipality is None
