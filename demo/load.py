"""Write the demo data to the database, idempotently.

Every row is found by its natural key (slug, code, username, …) and updated in place, so a second run
creates nothing and leaves the same rows. The closure rules of a demo calendar, the periods of a demo slot
scheme and the opening hours of a demo facility are made exactly the listed ones (others are deleted);
units, facilities and users that the data does not list are left alone.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import translation

from accounts.registration import validity_until
from config import clock
from demo import fees as fees_demo
from facilities.models import (
    Announcement,
    BookingLimit,
    BookingWindow,
    ClosureCalendar,
    ClosureRule,
    Facility,
    FacilityPhoto,
    Municipality,
    OpeningHours,
    RuleProfile,
    SchemePeriod,
    SlotScheme,
    Unit,
)
from fees.models import FeeExemption, FeeRate, FeeSchedule, RefundRule
from lottery.models import LotteryPolicy

from . import kodaira, pages, shiroi, tamba, users

MUNICIPALITY_DATA = (kodaira, shiroi, tamba)


# Rule fields that identify a closure rule (the note is only a label), with their empty values.
RULE_KEY_FIELDS = {
    "kind": None,
    "weekday": None,
    "weeks_of_month": "",
    "shift_if_holiday": False,
    "start_month": None,
    "start_day": None,
    "end_month": None,
    "end_day": None,
    "start_date": None,
    "end_date": None,
}

# What a municipal administrator may do with the facilities and fees apps: everything but creating or deleting
# municipalities (that belongs to the operator).
ADMIN_EXCLUDED_PERMISSIONS = {"add_municipality", "delete_municipality"}
# The lottery: the policy is edited; applications, draws and results are read (they change through the services).
LOTTERY_ADMIN_PERMISSIONS = [
    "view_lotterypolicy",
    "change_lotterypolicy",
    "view_application",
    "view_draw",
    "view_drawresult",
    "view_resultnotice",
]
ADMIN_APPS = ("facilities", "fees")  # fee schedules, exemptions and refund rules too (issue #5)

REPORTED_MODELS = (
    Municipality,
    RuleProfile,
    BookingWindow,
    BookingLimit,
    LotteryPolicy,
    Facility,
    FacilityPhoto,
    Unit,
    SlotScheme,
    SchemePeriod,
    OpeningHours,
    ClosureCalendar,
    ClosureRule,
    Announcement,
    FeeSchedule,
    FeeRate,
    FeeExemption,
    RefundRule,
    get_user_model(),
    Group,
)


@dataclass
class LoadResult:
    created: Counter = field(default_factory=Counter)  # model label → rows created by this run
    totals: dict = field(default_factory=dict)  # model verbose name (plural) → rows in the database

    @property
    def created_count(self) -> int:
        return sum(self.created.values())

    def summary(self) -> str:
        parts = ", ".join(f"{count} {name}" for name, count in self.totals.items())
        return f"Demo data loaded: {parts}; {self.created_count} rows created by this run."


def load_demo() -> LoadResult:
    result = LoadResult()
    with transaction.atomic():
        municipalities = {data.MUNICIPALITY["slug"]: _load_municipality(result, data) for data in MUNICIPALITY_DATA}
        admin_group = _load_admin_group(result)
        for spec in users.USERS:
            _load_user(result, spec, municipalities, admin_group)
        # Fee tables, refund rules and exemptions (issue #5) after the users: an exemption names a demo group.
        fees_demo.load(municipalities, lambda model, defaults, **lookup: _upsert(result, model, defaults, **lookup))
    with translation.override("en"):  # one plain line for logs, whatever the site language
        for model in REPORTED_MODELS:
            result.totals[str(model._meta.verbose_name_plural)] = model.objects.count()
    return result


def _upsert(result: LoadResult, model, defaults: dict, **lookup):
    obj, created = model.objects.update_or_create(defaults=defaults, **lookup)
    if created:
        result.created[model._meta.label] += 1
    return obj


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _load_municipality(result: LoadResult, data) -> Municipality:
    fields = dict(data.MUNICIPALITY)
    slug = fields.pop("slug")
    defaults = {
        "name_en": "",
        "phone": "",
        "email": "",
        "address_ja": "",
        "address_en": "",
        "website": "",
        "department_ja": "",
        "department_en": "",
    } | fields
    municipality = _upsert(result, Municipality, defaults, slug=slug)
    schemes = {spec["code"]: _load_scheme(result, municipality, spec) for spec in data.SLOT_SCHEMES}
    for order, spec in enumerate(data.FACILITIES, start=1):
        _load_facility(result, municipality, schemes, spec, order)
    _load_profile(result, municipality, data.PROFILE)
    _load_announcements(result, municipality, getattr(data, "ANNOUNCEMENTS", []))
    return municipality


def _load_announcements(result: LoadResult, municipality: Municipality, specs: list) -> None:
    """The demo notices (issue #7 item 4), found by their Japanese title; an administrator's own are left alone."""
    for spec in specs:
        values = dict(spec)
        for key in ("shown_from", "shown_until"):
            day, time = values[key].split("T")
            values[key] = clock.at(dt.date.fromisoformat(day), _time(time))
        title_ja = values.pop("title_ja")
        _upsert(result, Announcement, values, municipality=municipality, title_ja=title_ja)


WINDOW_DEFAULTS = {
    "service_from": None,
    "service_until": None,
    "service_rule_id": "",
    "facility_kinds": "",
    "excluded_facility_kinds": "",
    "initial_state": "provisional",
    "pay_by": "",
    "pay_by_rule_id": "",
    "paid_at_booking": False,
}


def _load_profile(result: LoadResult, municipality: Municipality, spec: dict) -> None:
    """The municipality's rule profile; its windows and limits become exactly the listed ones."""
    fields = {k: v for k, v in spec.items() if k not in ("windows", "limits", "lottery")}
    profile = _upsert(result, RuleProfile, fields, municipality=municipality)
    if "lottery" in spec:
        _upsert(result, LotteryPolicy, dict(spec["lottery"]), municipality=municipality)
    kept_windows = []
    for window in spec["windows"]:
        values = WINDOW_DEFAULTS | window
        for key in ("service_from", "service_until"):
            values[key] = _time(values[key]) if values[key] else None
        key_fields = ("phase", "channel", "opens", "facility_kinds", "excluded_facility_kinds")
        lookup = {k: values[k] for k in key_fields}
        defaults = {k: v for k, v in values.items() if k not in key_fields}
        kept_windows.append(_upsert(result, BookingWindow, defaults, profile=profile, **lookup).pk)
    profile.windows.exclude(pk__in=kept_windows).delete()
    kept_limits = []
    for limit in spec["limits"]:
        values = {"lifted_from": ""} | limit
        lookup = {"rule_id": values.pop("rule_id"), "phase": values.pop("phase")}
        kept_limits.append(_upsert(result, BookingLimit, values, profile=profile, **lookup).pk)
    profile.limits.exclude(pk__in=kept_limits).delete()


def _load_scheme(result: LoadResult, municipality: Municipality, spec: dict) -> SlotScheme:
    scheme = _upsert(
        result,
        SlotScheme,
        {
            "name_ja": spec["name_ja"],
            "name_en": spec["name_en"],
            "kind": spec["kind"],
            "slot_minutes": spec.get("slot_minutes"),
        },
        municipality=municipality,
        code=spec["code"],
    )
    keep = []
    for period in spec.get("periods", []):
        row = _upsert(
            result,
            SchemePeriod,
            {"name_ja": period["name_ja"], "name_en": period["name_en"], "ends": _time(period["ends"])},
            scheme=scheme,
            starts=_time(period["starts"]),
        )
        keep.append(row.pk)
    scheme.periods.exclude(pk__in=keep).delete()
    return scheme


def _load_calendar(result: LoadResult, municipality: Municipality, name: str, rules: list[dict]) -> ClosureCalendar:
    calendar = _upsert(result, ClosureCalendar, {}, municipality=municipality, name=name)
    keep = []
    for rule in rules:
        key = {key_field: rule.get(key_field, empty) for key_field, empty in RULE_KEY_FIELDS.items()}
        row = _upsert(
            result,
            ClosureRule,
            {"note": rule.get("note", ""), "note_en": rule.get("note_en", "")},
            calendar=calendar,
            **key,
        )
        keep.append(row.pk)
    calendar.rules.exclude(pk__in=keep).delete()
    return calendar


def _load_facility(result: LoadResult, municipality: Municipality, schemes: dict, spec: dict, order: int) -> None:
    calendar = None  # no calendar: open every day
    if "closures" in spec:
        # One calendar per facility, so each can get its own one-off closures (K-FC-1).
        calendar = _load_calendar(result, municipality, f"{spec['name_ja']} 休館日", spec["closures"])
    facility = _upsert(
        result,
        Facility,
        {
            "name_ja": spec["name_ja"],
            "name_en": spec["name_en"],
            "kind": spec["kind"],
            "address_ja": spec.get("address_ja", ""),
            "address_en": spec.get("address_en", ""),
            "phone": spec.get("phone", ""),
            "has_parking": spec.get("has_parking", True),
            "notes_ja": spec.get("notes_ja", ""),
            "notes_en": spec.get("notes_en", ""),
            "closure_calendar": calendar,
            "sort_order": order,
        },
        municipality=municipality,
        code=spec["code"],
    )

    keep = []
    for first_month, last_month, opens, closes in spec["opening_hours"]:
        row = _upsert(
            result,
            OpeningHours,
            {"last_month": last_month, "opens": _time(opens), "closes": _time(closes)},
            facility=facility,
            first_month=first_month,
        )
        keep.append(row.pk)
    facility.opening_hours.exclude(pk__in=keep).delete()
    _load_page_details(result, municipality, facility)

    for unit_order, unit in enumerate(spec["units"], start=1):
        _upsert(
            result,
            Unit,
            {
                "name_ja": unit["name_ja"],
                "name_en": unit["name_en"],
                "kind": unit["kind"],
                "capacity": unit.get("capacity"),
                "surface": unit.get("surface", ""),
                "has_night_lights": unit.get("has_night_lights", False),
                "features_ja": unit.get("features_ja", ""),
                "features_en": unit.get("features_en", ""),
                "slot_scheme": schemes[unit["scheme"]],
                "is_active": True,
                "sort_order": unit_order,
            },
            facility=facility,
            code=unit["code"],
        )


def _load_page_details(result: LoadResult, municipality: Municipality, facility: Facility) -> None:
    """Access, parking, accessibility, equipment and photos of the facility page (demo/pages.py)."""
    details = dict(pages.DETAILS.get((municipality.slug, facility.code), {}))
    photos = details.pop("photos", [])
    if details:
        for name, value in details.items():
            setattr(facility, name, value)
        facility.save(update_fields=list(details))
    keep = []
    for index, (kind, alt_ja, alt_en) in enumerate(photos, start=1):
        photo = _upsert(
            result,
            FacilityPhoto,
            {
                "image": pages.photo_file(municipality.slug, facility.code, index, kind),
                "alt_ja": alt_ja,
                "alt_en": alt_en,
                "is_sample": True,
            },
            facility=facility,
            sort_order=index,
        )
        keep.append(photo.pk)
    if photos:
        facility.photos.filter(is_sample=True).exclude(pk__in=keep).delete()


def _load_admin_group(result: LoadResult) -> Group:
    # Permissions are normally created after migrate; make sure they exist even on a fresh test database.
    for app_label in (*ADMIN_APPS, "lottery"):
        create_permissions(apps.get_app_config(app_label), verbosity=0)
    group, created = Group.objects.get_or_create(name=users.ADMIN_GROUP)
    if created:
        result.created[Group._meta.label] += 1
    permissions = Permission.objects.filter(
        Q(content_type__app_label__in=ADMIN_APPS)
        | Q(content_type__app_label="lottery", codename__in=LOTTERY_ADMIN_PERMISSIONS)
    ).exclude(codename__in=ADMIN_EXCLUDED_PERMISSIONS)
    group.permissions.set(permissions)
    return group


def _load_user(result: LoadResult, spec: dict, municipalities: dict, admin_group: Group) -> None:
    User = get_user_model()
    slug = spec["municipality"]
    is_registration = spec["account_kind"] != User.AccountKind.STAFF
    is_admin = spec.get("staff_role") == User.StaffRole.ADMINISTRATOR
    is_superuser = spec.get("is_superuser", False)
    # Last valid day of a registration made on REGISTERED_ON, from the profile (K-REG-3, S-REG-3, T-REG-1).
    valid_until = validity_until(municipalities[slug].rule_profile, users.REGISTERED_ON) if is_registration else None
    user = _upsert(
        result,
        User,
        {
            "municipality": municipalities[slug] if slug else None,
            "account_kind": spec["account_kind"],
            "display_name": spec.get("display_name", ""),
            "email": spec.get("email", ""),
            "phone": spec.get("phone", ""),
            "residency": spec.get("residency", User.Residency.RESIDENT),
            "fee_category": spec.get("fee_category", User.FeeCategory.GENERAL),
            "staff_role": spec.get("staff_role", ""),
            "valid_from": users.REGISTERED_ON if is_registration else None,
            "valid_until": valid_until,
            "is_staff": is_admin or is_superuser,  # Django admin access
            "is_superuser": is_superuser,
            "is_active": True,
        },
        username=spec["username"],
    )
    # Re-hash only when the password differs, so a second run leaves the row as it was.
    # set_password skips the password validators on purpose: Kodaira's 4-digit PIN (K-REG-1) would fail them.
    if not user.check_password(spec["password"]):
        user.set_password(spec["password"])
        user.save(update_fields=["password"])
    if is_admin:
        user.groups.add(admin_group)
