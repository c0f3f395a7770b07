"""Registration rules per profile (issue #6, item 1), as pure functions of the municipality's ``RuleProfile``:
Kodaira's group eligibility (K-REG-2), Shiroi's school grade, guardian's consent and fee category (S-REG-1/2),
and the duplicate-registration guard (item 6). Nothing here writes; ``accounts/registering.py`` does.

Decisions (the seeds leave them open):

- **School grade from the birth date.** A child starts elementary school on the April 1 after reaching 6
  (学校教育法 第17条); one reaches an age at the end of the day before the birthday (年齢計算ニ関スル法律,
  民法 第143条), so a child born on April 1 starts with the children born the year before. Grade 1–6 is
  elementary school, 7–9 junior high.
- **Guardian's consent: pupils of elementary and junior-high school** (grade ≤ 9), as the Shiroi seed says
  (小・中学生は保護者の承諾書), not every minor: a high-school student registers without it.
- **Fee category**: grade ≤ 9 → elementary/junior-high; older → the student rate only with a student ID checked
  at the counter (学生証; 確認できない場合は一般料金), else general.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _

JUNIOR_HIGH_LAST_GRADE = 9  # Shiroi's fee table: 小・中学生 are school grades 1–9


@dataclasses.dataclass(frozen=True)
class Problem:
    """A rule a registration fails: the rule id, the form field it belongs to (None: the whole form), the message."""

    rule_id: str
    field: str | None
    message: str


def school_grade(birth_date: dt.date, today: dt.date) -> int:
    """The school year a person born on ``birth_date`` is in on ``today``: 1 = first year of elementary school,
    0 or less = not at school yet (see the module's decisions)."""
    starts_school = birth_date.year + 6 if (birth_date.month, birth_date.day) <= (4, 1) else birth_date.year + 7
    school_year = today.year if today.month >= 4 else today.year - 1
    return school_year - starts_school + 1


def needs_guardian_consent(profile, birth_date: dt.date, today: dt.date) -> bool:
    limit = profile.guardian_consent_until_grade
    return limit is not None and school_grade(birth_date, today) <= limit


def fee_category(birth_date: dt.date | None, student_id_checked: bool, today: dt.date) -> str:
    from .models import User

    if birth_date is not None and school_grade(birth_date, today) <= JUNIOR_HIGH_LAST_GRADE:
        return User.FeeCategory.CHILD
    return User.FeeCategory.STUDENT if student_id_checked else User.FeeCategory.GENERAL


def individual_problems(profile, *, birth_date: dt.date, guardian_consent: bool, today: dt.date) -> list[Problem]:
    """S-REG-1 (elementary-school pupils and older) and S-REG-2 (guardian's consent) for a birth date."""
    problems = []
    grade = school_grade(birth_date, today)
    if profile.min_school_grade is not None and grade < profile.min_school_grade:
        problems.append(
            Problem(
                profile.account_rule_id or "S-REG-1",
                "birth_date",
                _(
                    "Registration is open from the first year of elementary school (%(rule)s): this person is not at "
                    "school yet."
                )
                % {"rule": profile.account_rule_id or "S-REG-1"},
            )
        )
    elif needs_guardian_consent(profile, birth_date, today) and not guardian_consent:
        problems.append(
            Problem(
                profile.consent_rule_id or "S-REG-2",
                "guardian_consent",
                _(
                    "Elementary and junior-high pupils need their guardian's consent (%(rule)s): record it before "
                    "registering."
                )
                % {"rule": profile.consent_rule_id or "S-REG-2"},
            )
        )
    return problems


def group_problems(
    profile, *, member_count: int, resident_member_count: int, representative_is_resident: bool, monthly_fee: int
) -> list[Problem]:
    """K-REG-2: every eligibility condition of the profile the group fails, each naming the rule."""
    rule = profile.eligibility_rule_id or "K-REG-2"
    problems = []
    if profile.group_min_members is not None and member_count < profile.group_min_members:
        problems.append(
            Problem(
                rule,
                "member_count",
                _("A group needs at least %(count)d members (%(rule)s).")
                % {"count": profile.group_min_members, "rule": rule},
            )
        )
    if (
        profile.group_min_resident_percent is not None
        and member_count
        and (resident_member_count * 100 < profile.group_min_resident_percent * member_count)
    ):
        problems.append(
            Problem(
                rule,
                "resident_member_count",
                _(
                    "At least %(percent)d %% of the members must live, work or study in the municipality (%(rule)s): "
                    "%(residents)d of %(members)d is not enough."
                )
                % {
                    "percent": profile.group_min_resident_percent,
                    "rule": rule,
                    "residents": resident_member_count,
                    "members": member_count,
                },
            )
        )
    if profile.group_representative_resident and not representative_is_resident:
        problems.append(
            Problem(
                rule,
                "representative_is_resident",
                _("The representative must live, work or study in the municipality (%(rule)s).") % {"rule": rule},
            )
        )
    if profile.group_max_monthly_fee is not None and monthly_fee > profile.group_max_monthly_fee:
        problems.append(
            Problem(
                rule,
                "monthly_fee",
                _("The membership fee, instructor fees included, may be at most %(fee)s yen a month (%(rule)s).")
                % {"fee": f"{profile.group_max_monthly_fee:,}", "rule": rule},
            )
        )
    return problems


# The duplicate-registration guard (issue #6, item 6) -----------------------------------------------------------


def normalize_text(text: str) -> str:
    """Names and addresses compared loosely: full-width and half-width alike (NFKC), no spaces, case folded."""
    return re.sub(r"[\s\u3000・\-ー－‐]", "", unicodedata.normalize("NFKC", text or "")).casefold()


def normalize_phone(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))


def find_duplicates(municipality, *, names: list[str], phone: str, address: str, exclude_user_ids=()) -> list:
    """Active resident accounts of ``municipality`` with the same name (of the group, its representative or the
    person), phone or address. Compared in Python after normalization; one query over the municipality's
    accounts (a few thousand rows) at each registration."""
    from .models import User

    wanted_names = {normalize_text(n) for n in names if normalize_text(n)}
    wanted_phone = normalize_phone(phone)
    wanted_address = normalize_text(address)
    rows = (
        User.objects.filter(municipality=municipality, is_active=True)
        .exclude(account_kind=User.AccountKind.STAFF)
        .exclude(pk__in=list(exclude_user_ids))
        .values_list("pk", "display_name", "phone", "registration__person_name", "registration__address")
    )
    matches = []
    for pk, display_name, user_phone, person_name, user_address in rows:
        names_here = {normalize_text(display_name), normalize_text(person_name or "")} - {""}
        if (
            (wanted_names & names_here)
            or (len(wanted_phone) >= 6 and normalize_phone(user_phone) == wanted_phone)
            or (wanted_address and normalize_text(user_address or "") == wanted_address)
        ):
            matches.append(pk)
    return matches
