"""Registration per profile (issue #6 item 1): K-REG-1/2 groups at the counter, S-REG-1/2 individuals (online
requests, school grade, guardian's consent, student ID), T-REG-1/2 cards and re-issue."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import authenticate

from accounts import rules
from accounts.models import AuditEntry, Registration, User
from facilities.models import RuleProfile
from tests.accounts.helpers import counter, kodaira_group, shiroi_person, tamba_card
from tests.reservations.booking_helpers import jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


@pytest.fixture
def kodaira_clerk(client):
    client.force_login(user("kodaira-clerk"))
    return client


@pytest.fixture
def shiroi_clerk(client):
    client.force_login(user("shiroi-clerk"))
    return client


@pytest.fixture
def tamba_clerk(client):
    client.force_login(user("tamba-clerk"))
    return client


def errors(response) -> str:
    assert response.status_code == 200, response.status_code
    return " ".join(str(e) for field in response.context["form"].errors.values() for e in field)


# Kodaira (K-REG-1, K-REG-2) ----------------------------------------------------------------------------------


def test_kodaira__eligible_group__registered_with_an_assigned_id_and_its_pin(kodaira_clerk):
    with time_machine.travel(jst(2027, 5, 10, 10), tick=False):
        kodaira_clerk.force_login(user("kodaira-clerk"))  # the session must not have expired in the travelled-to time
        response = kodaira_clerk.post(counter("kodaira", "register"), kodaira_group())
    assert response.status_code == 302
    group = User.objects.get(display_name="小平ヨガの会")
    assert response["Location"] == counter("kodaira", "account", group.pk)
    assert group.username.startswith("kodaira-") and group.account_kind == "group" and group.is_active
    assert group.valid_from == dt.date(2027, 5, 10) and group.valid_until == dt.date(2030, 5, 9)  # K-REG-3
    assert authenticate(username=group.username, password="2468") == group  # K-REG-1: the 4-digit PIN
    reg = group.registration
    assert (reg.member_count, reg.resident_member_count, reg.representative_is_resident, reg.monthly_fee) == (
        5,
        3,
        True,
        2000,
    )
    assert reg.identity_document == "drivers_license" and reg.identity_checked_by == user("kodaira-clerk")
    entry = AuditEntry.objects.get(action="registration.create", subject=group)
    assert entry.actor == user("kodaira-clerk") and entry.after["registration"]["member_count"] == 5
    page = kodaira_clerk.get(response["Location"]).content.decode()
    assert group.username in page


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"member_count": 4, "resident_member_count": 2}, "member_count"),  # fewer than 5 members
        ({"member_count": 6, "resident_member_count": 2}, "resident_member_count"),  # 2 of 6 is less than half
        ({"representative_is_resident": ""}, "representative_is_resident"),  # representative not a 市民等
        ({"monthly_fee": 2001}, "monthly_fee"),  # 1 yen over 2,000 a month
    ],
)
def test_kodaira__ineligible_group__refused_naming_k_reg_2(kodaira_clerk, overrides, field):
    response = kodaira_clerk.post(counter("kodaira", "register"), kodaira_group(**overrides))
    assert response.status_code == 200
    assert "K-REG-2" in " ".join(response.context["form"].errors[field])
    assert not User.objects.filter(display_name="小平ヨガの会").exists()
    assert not AuditEntry.objects.filter(action="registration.create").exists()


def test_kodaira__every_failed_condition_is_named_at_once():
    profile = RuleProfile.objects.get(municipality__slug="kodaira")
    problems = rules.group_problems(
        profile, member_count=4, resident_member_count=1, representative_is_resident=False, monthly_fee=3000
    )
    assert [p.field for p in problems] == [
        "member_count",
        "resident_member_count",
        "representative_is_resident",
        "monthly_fee",
    ]
    assert all(p.rule_id == "K-REG-2" and "K-REG-2" in p.message for p in problems)


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "abcd"])
def test_kodaira__password_must_be_4_digits(kodaira_clerk, pin):
    assert "K-REG-1" in errors(
        kodaira_clerk.post(counter("kodaira", "register"), kodaira_group(password=pin, password2=pin))
    )


def test_kodaira__a_group_with_a_known_phone_is_flagged_for_review(kodaira_clerk):
    kodaira_clerk.post(counter("kodaira", "register"), kodaira_group())
    kodaira_clerk.post(
        counter("kodaira", "register"), kodaira_group(display_name="別の会", person_name="別 人", address="別の住所")
    )
    second = Registration.objects.get(user__display_name="別の会")
    first = User.objects.get(display_name="小平ヨガの会")
    assert list(second.possible_duplicates.all()) == [first]  # same phone (issue #6 item 6)
    page = kodaira_clerk.get(counter("kodaira", "duplicates")).content.decode()
    assert second.user.username in page and first.username in page
    response = kodaira_clerk.post(
        counter("kodaira", "review_duplicate", second.pk), {"decision": "withdraw", "note": "same group"}
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == "withdrawn" and not second.user.is_active and second.duplicates_reviewed_at
    assert AuditEntry.objects.filter(action="registration.withdraw_duplicate", subject=second.user).exists()
    assert (
        counter("kodaira", "review_duplicate", second.pk)
        not in kodaira_clerk.get(counter("kodaira", "duplicates")).content.decode()
    )


def test_duplicates__names_compared_loosely__full_width_and_spaces():
    kodaira = user("kodaira-group1").municipality
    assert rules.find_duplicates(kodaira, names=["小平太極拳の会 "], phone="", address="") == [
        user("kodaira-group1").pk
    ]
    assert rules.find_duplicates(kodaira, names=["ｺﾀﾞｲﾗ"], phone="", address="") == []


# Shiroi (S-REG-1, S-REG-2, S-REG-4, S-REG-5) -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "today", "grade"),
    [
        (dt.date(2019, 4, 1), dt.date(2025, 4, 1), 1),  # born April 1: starts school at 6 years minus a day
        (dt.date(2019, 4, 1), dt.date(2025, 3, 31), 0),
        (dt.date(2019, 4, 2), dt.date(2025, 4, 1), 0),  # born April 2: one year later
        (dt.date(2019, 4, 2), dt.date(2026, 4, 1), 1),
        (dt.date(2011, 4, 2), dt.date(2027, 3, 31), 9),  # last day of junior high
        (dt.date(2011, 4, 2), dt.date(2027, 4, 1), 10),  # first day of high school
    ],
)
def test_school_grade__from_the_birth_date(birth, today, grade):
    assert rules.school_grade(birth, today) == grade


def test_shiroi__age_categories_and_guardian_consent():
    profile = RuleProfile.objects.get(municipality__slug="shiroi")
    today = dt.date(2027, 4, 1)
    too_young = rules.individual_problems(profile, birth_date=dt.date(2021, 4, 2), guardian_consent=True, today=today)
    assert [p.rule_id for p in too_young] == ["S-REG-1"]  # not at school yet
    first_grader = dt.date(2020, 4, 2)
    assert [
        p.rule_id
        for p in rules.individual_problems(profile, birth_date=first_grader, guardian_consent=False, today=today)
    ] == ["S-REG-2"]
    assert rules.individual_problems(profile, birth_date=first_grader, guardian_consent=True, today=today) == []
    ninth_grader, tenth_grader = dt.date(2012, 4, 2), dt.date(2011, 4, 2)
    assert [
        p.rule_id
        for p in rules.individual_problems(profile, birth_date=ninth_grader, guardian_consent=False, today=today)
    ] == ["S-REG-2"]
    assert (
        rules.individual_problems(profile, birth_date=tenth_grader, guardian_consent=False, today=today) == []
    )  # high school: no consent
    assert rules.fee_category(ninth_grader, False, today) == "child"
    assert rules.fee_category(tenth_grader, False, today) == "general"  # no student ID seen: general rate
    assert rules.fee_category(tenth_grader, True, today) == "student"


def test_shiroi__counter__pupil_without_consent_refused__with_consent_registered_as_child(shiroi_clerk):
    with time_machine.travel(jst(2027, 4, 1, 10), tick=False):
        shiroi_clerk.force_login(user("shiroi-clerk"))  # the session must not have expired in the travelled-to time
        pupil = shiroi_person(display_name="白井 小太郎", birth_date="2020-04-02")
        assert "S-REG-2" in errors(shiroi_clerk.post(counter("shiroi", "register"), pupil))
        response = shiroi_clerk.post(counter("shiroi", "register"), pupil | {"guardian_name": "白井 母"})
    assert response.status_code == 302
    child = User.objects.get(display_name="白井 小太郎")
    assert child.fee_category == "child" and child.account_kind == "individual"
    assert child.registration.guardian_name == "白井 母" and child.registration.guardian_consent_at is not None
    assert child.valid_until == dt.date(2028, 3, 31)  # S-REG-3


def test_shiroi__counter__too_young_refused_naming_s_reg_1(shiroi_clerk):
    with time_machine.travel(jst(2027, 3, 31, 10), tick=False):
        shiroi_clerk.force_login(user("shiroi-clerk"))  # the session must not have expired in the travelled-to time
        assert "S-REG-1" in errors(
            shiroi_clerk.post(counter("shiroi", "register"), shiroi_person(birth_date="2020-04-02", guardian_name="親"))
        )


def test_shiroi__student_rate_needs_a_checked_student_id(shiroi_clerk):
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        shiroi_clerk.force_login(user("shiroi-clerk"))  # the session must not have expired in the travelled-to time
        shiroi_clerk.post(
            counter("shiroi", "register"),
            shiroi_person(display_name="学生 A", birth_date="2008-06-01", phone="1", address="a"),
        )
        shiroi_clerk.post(
            counter("shiroi", "register"),
            shiroi_person(
                display_name="学生 B", birth_date="2008-06-01", phone="2", address="b", student_id_checked="on"
            ),
        )
    assert User.objects.get(display_name="学生 A").fee_category == "general"
    b = User.objects.get(display_name="学生 B")
    assert b.fee_category == "student" and b.registration.student_id_checked_at is not None


def test_shiroi__online_request__pending_until_the_identity_check__then_approved(client):
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        response = client.post("/accounts/request/shiroi/", shiroi_person(residency="non_resident"))
        assert response.status_code == 302
        pending = Registration.objects.get(person_name="白井 次郎")
        assert pending.status == "pending" and pending.requested_online and not pending.user.is_active
        assert pending.user.username in client.get(response["Location"]).content.decode()
        assert authenticate(username=pending.user.username, password="tennis-court-7") is None  # cannot log in yet
        client.force_login(user("shiroi-clerk"))
        assert pending.user.username in client.get(counter("shiroi", "requests")).content.decode()
        response = client.post(
            counter("shiroi", "request", pending.pk),
            {"approve": "1", "identity_document": "drivers_license", "residency": "non_resident"},
        )
    assert response.status_code == 302
    person = User.objects.get(pk=pending.user_id)
    assert person.is_active and person.residency == "non_resident"  # S-REG-4 recorded
    assert person.valid_from == dt.date(2027, 6, 1) and person.valid_until == dt.date(2028, 3, 31)
    assert person.registration.status == "active" and person.registration.identity_checked_by == user("shiroi-clerk")
    assert authenticate(username=person.username, password="tennis-court-7") == person
    assert AuditEntry.objects.filter(action="registration.approve", subject=person).exists()


def test_shiroi__online_request__a_pupil_needs_consent_at_the_counter(client):
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        client.post("/accounts/request/shiroi/", shiroi_person(birth_date="2016-05-05"))
        pending = Registration.objects.get(person_name="白井 次郎")
        client.force_login(user("shiroi-clerk"))
        response = client.post(
            counter("shiroi", "request", pending.pk),
            {"approve": "1", "identity_document": "passport", "residency": "resident"},
        )
        assert response.status_code == 200 and "guardian_name" in response.context["approve_form"].errors
        client.post(
            counter("shiroi", "request", pending.pk),
            {"approve": "1", "identity_document": "passport", "residency": "resident", "guardian_name": "白井 父"},
        )
    person = User.objects.get(pk=pending.user_id)
    assert person.is_active and person.fee_category == "child" and person.registration.guardian_name == "白井 父"


def test_shiroi__online_request__refused(client):
    client.post("/accounts/request/shiroi/", shiroi_person())
    pending = Registration.objects.get(person_name="白井 次郎")
    client.force_login(user("shiroi-clerk"))
    client.post(counter("shiroi", "request", pending.pk), {"reject": "1", "reason": "no identity document"})
    pending.refresh_from_db()
    assert pending.status == "rejected" and not pending.user.is_active


def test_online_requests__only_where_the_profile_allows_them(client):
    assert client.get("/accounts/request/kodaira/").status_code == 404  # K-REG-1: at the counter only
    assert client.get("/accounts/request/shiroi/").status_code == 200


def test_shiroi__family_proxies_on_the_account(shiroi_clerk):
    resident = user("shiroi-resident")
    shiroi_clerk.post(counter("shiroi", "add_proxy", resident.pk), {"name": "白井 花子", "relation": "配偶者"})
    proxy = resident.family_proxies.get()
    assert (proxy.name, proxy.relation) == ("白井 花子", "配偶者")
    assert "白井 花子" in shiroi_clerk.get(counter("shiroi", "account", resident.pk)).content.decode()
    shiroi_clerk.post(counter("shiroi", "remove_proxy", resident.pk, proxy.pk))
    assert not resident.family_proxies.exists()
    assert list(AuditEntry.objects.filter(subject=resident).values_list("action", flat=True)) == [
        "proxy.remove",
        "proxy.add",
    ]


# Tamba (T-REG-1, T-REG-2, T-REG-3) ----------------------------------------------------------------------------


def test_tamba__card_registration_and_reissue_gives_a_new_id_and_withdraws_the_old(tamba_clerk):
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        tamba_clerk.force_login(user("tamba-clerk"))  # the session must not have expired in the travelled-to time
        tamba_clerk.post(counter("tamba", "register"), tamba_card())
        old = User.objects.get(display_name="春日 一郎")
        assert old.registration.card_number == "T-0001" and old.account_kind == "card_holder"
        assert _already_registered(
            tamba_clerk.post(counter("tamba", "register"), tamba_card(display_name="x", phone="9"))
        )
    with time_machine.travel(jst(2028, 1, 10, 10), tick=False):
        tamba_clerk.force_login(user("tamba-clerk"))  # the session must not have expired in the travelled-to time
        response = tamba_clerk.post(
            counter("tamba", "reissue", old.pk),
            {
                "card_number": "T-0002",
                "identity_document": "my_number",
                "reason": "lost",
                "password": "new-card-pass-9",
                "password2": "new-card-pass-9",
            },
        )
    assert response.status_code == 302
    old.refresh_from_db()
    new = User.objects.get(registration__card_number="T-0002")
    assert new.pk != old.pk and new.username != old.username  # T-REG-2: a new ID
    assert (
        not old.is_active and old.registration.status == "withdrawn" and "T-REG-2" in old.registration.withdrawal_reason
    )
    assert new.registration.replaces == old.registration
    assert (new.display_name, new.phone, new.email, new.registration.address) == (
        old.display_name,
        old.phone,
        old.email,
        "丹波市春日町1",
    )
    assert new.valid_from == dt.date(2028, 1, 10) and new.valid_until == dt.date(
        2031, 1, 9
    )  # T-REG-1 from the new issue
    assert authenticate(username=old.username, password="kasuga-hall-22") is None
    assert authenticate(username=new.username, password="new-card-pass-9") == new
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"registration.withdraw", "registration.reissue"} <= actions
    # The old card's number is never given again.
    response = tamba_clerk.post(
        counter("tamba", "register"), tamba_card(display_name="y", phone="8", card_number="T-0001")
    )
    assert _already_registered(response)


def test_tamba__details_changed_at_the_counter_are_audited(tamba_clerk):
    resident = user("tamba-resident2")
    response = tamba_clerk.post(
        counter("tamba", "change", resident.pk),
        {
            "display_name": "氷上 和子",
            "address": "丹波市氷上町2",
            "phone": "0795-82-1111",
            "email": "new@example.com",
            "identity_document": "drivers_license",
        },
    )
    assert response.status_code == 302
    resident.refresh_from_db()
    assert resident.email == "new@example.com"
    entry = AuditEntry.objects.get(action="registration.change")
    assert entry.before["email"] == "tamba-resident2@example.com" and entry.after["email"] == "new@example.com"


def test_counter_registration__only_fields_the_profile_needs(kodaira_clerk):
    form = kodaira_clerk.get(counter("kodaira", "register")).context["form"]
    assert {"member_count", "monthly_fee", "person_name"} <= set(form.fields) and "birth_date" not in form.fields
    assert form.fields["password"].widget.attrs["inputmode"] == "numeric"


def _already_registered(response) -> bool:
    """The card-number refusal, whichever language the clerk's page is in."""
    return any(text in errors(response) for text in ("already registered", "すでに登録"))
