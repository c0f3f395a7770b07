"""Django admin for facilities, units, slot schemes, opening hours, closure calendars and rule profiles.

Municipal administrators (users with a municipality) see and edit only their own municipality's rows;
the deployment's operators (superusers) see all.
"""

import calendar as pycalendar
import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config import clock

from .models import (
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


def _limit_to_tenant(request, queryset, field="municipality"):
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{field: request.user.municipality_id})


# The ways from a model to its municipality, tried in order (a unit through its facility would be a longer way).
TENANT_PATHS = (
    "municipality",
    "facility__municipality",
    "unit__municipality",
    "draw__municipality",
    "reservation__municipality",
    "user__municipality",
)


def tenant_path(model) -> str | None:
    """The lookup from ``model`` to its municipality ("pk" for Municipality itself), or None for rows that belong
    to no municipality (groups, permissions, the log-in breaker)."""
    if model is Municipality:
        return "pk"
    for lookup in TENANT_PATHS:
        current = model
        for name in lookup.split("__"):
            try:
                field = current._meta.get_field(name)
            except FieldDoesNotExist:
                break
            if not field.is_relation or field.many_to_many or field.one_to_many:
                break
            current = field.related_model
        else:
            if current is Municipality:
                return lookup
    return None


def tenant_rows(request, model, queryset=None):
    """``model``'s rows the request's user may pick: all for the operator, their municipality's for the others."""
    queryset = model._default_manager.all() if queryset is None else queryset
    path = tenant_path(model)
    if path is None or request.user.is_superuser:
        return queryset
    return queryset.filter(**{path: request.user.municipality_id})


class MunicipalityScoped:
    """For every model admin and inline a municipal administrator uses (issue #22 item 5): the foreign-key and
    many-to-many choices (selects, filter_horizontal, hence autocompletes through the related admin) list only
    their municipality's rows; the list filters name only their municipality's objects (a filter on the
    municipality itself, and its column, are the operator's only; a filter on another related row lists the rows
    present in the administrator's own list). The operator (superuser) sees everything.

    Generic: a field a new model adds (a facility's photos, a profile's terms) is scoped without being named."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not request.user.is_superuser and tenant_path(db_field.related_model):
            kwargs["queryset"] = tenant_rows(request, db_field.related_model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and not request.user.is_superuser and tenant_path(db_field.related_model):
            kwargs["queryset"] = tenant_rows(request, db_field.related_model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [scoped for scoped in (_scoped_filter(self.model, f) for f in filters) if scoped is not None]

    def get_list_display(self, request):
        display = super().get_list_display(request)
        if request.user.is_superuser:
            return display
        # Their own municipality in every row says nothing, unless it is the row's name (the first column).
        return [name for index, name in enumerate(display) if name != "municipality" or index == 0]


def _scoped_filter(model, list_filter):
    """A list filter as a municipal administrator gets it: None for a filter on the municipality itself; a related
    field's filter as RelatedOnlyFieldListFilter (the rows present in their own list); anything else as it is."""
    from django.contrib.admin.utils import get_fields_from_path

    if isinstance(list_filter, str):
        name, filter_class = list_filter, None
    elif isinstance(list_filter, tuple | list) and isinstance(list_filter[0], str):
        name, filter_class = list_filter[0], list_filter[1]
    else:
        return list_filter  # a SimpleListFilter: its own lookups
    try:
        field = get_fields_from_path(model, name)[-1]
    except Exception:  # not a field path: leave it to Django's checks
        return list_filter
    if not field.is_relation:
        return list_filter
    if field.related_model is Municipality:
        return None
    if filter_class is None and tenant_path(field.related_model):
        return (name, admin.RelatedOnlyFieldListFilter)
    return list_filter


class ReadOnlyAdmin:
    """Mixin for rows that change only through the services (payments, notices, draws, alert queues): the admin
    shows them and never adds, edits or deletes one."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TenantAdmin(MunicipalityScoped, admin.ModelAdmin):
    tenant_field = "municipality"

    def get_queryset(self, request):
        return _limit_to_tenant(request, super().get_queryset(request), self.tenant_field)

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self.tenant_field == "municipality":
            excluded.append("municipality")
        return excluded

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and self.tenant_field == "municipality":
            obj.municipality_id = request.user.municipality_id
        super().save_model(request, obj, form, change)


class ReadOnlyTenantAdmin(ReadOnlyAdmin, TenantAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Municipality)
class MunicipalityAdmin(TenantAdmin):
    tenant_field = "pk"
    list_display = ["slug", "name_ja", "name_en", "phone"]
    search_fields = ["slug", "name_ja", "name_en"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [] if request.user.is_superuser else ["slug"]


STRANDED_SHOWN = 10


class ClosureRuleFormSet(BaseInlineFormSet):
    """A calendar edit that would close a day on which bookings exist is refused, listing them (issue #7 item 4):
    cancel them first with a full refund and a notice (the counter's "Close a facility" page, T-CAN-2), or
    choose another date."""

    def clean(self):
        super().clean()
        if any(self.errors) or self.instance.pk is None:
            return
        rules = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("kind")
        ]
        from reservations.selectors import bookings_stranded_by

        stranded = bookings_stranded_by(calendar=self.instance, rules=rules)
        if stranded:
            listed = "; ".join(
                f"#{r.pk} {date_format(clock.localtime(r.starts_at), 'DATE_FORMAT')} {r.unit.facility.name} "
                f"{r.unit.name} ({r.user})"
                for r in stranded[:STRANDED_SHOWN]
            )
            message = ngettext(
                "This change would close a day with %(count)s booking: %(list)s. Cancel it first with a full refund "
                "and a notice (counter → Close a facility), or choose another date.",
                "This change would close days with %(count)s bookings: %(list)s. Cancel them first with a full refund "
                "and a notice (counter → Close a facility), or choose another date.",
                len(stranded),
            ) % {"count": len(stranded), "list": listed + (" …" if len(stranded) > STRANDED_SHOWN else "")}
            raise ValidationError(
                format_html(
                    '{} <a href="{}" data-test="close-facility-link">{}</a>',
                    message,
                    closure_page_url(stranded, self.instance.municipality.slug),
                    _("Close a facility"),
                )
            )


def closure_page_url(stranded, municipality_slug: str) -> str:
    """The counter's "Close a facility" page (T-CAN-2) for the first facility with stranded bookings, its form
    filled in with that facility and the first and last day concerned."""
    first = stranded[0]
    facility = first.unit.facility
    days = [clock.localtime(r.starts_at).date() for r in stranded if r.unit.facility_id == facility.pk]
    url = reverse("counter:money_closure", args=[municipality_slug])
    query = {"facility": facility.code, "date_from": min(days).isoformat(), "date_to": max(days).isoformat()}
    return f"{url}?{urlencode(query)}"


class ClosureRuleInline(MunicipalityScoped, admin.StackedInline):
    """Each rule as a few readable lines (issue #22 item 5: the eleven-column table was 1,952 px wide): what it is
    and its note; the weekday form; the yearly range; the one-off dates. Headed by the rule in words."""

    model = ClosureRule
    formset = ClosureRuleFormSet
    extra = 1
    classes = ["closure-rules"]
    fields = [
        ("kind", "note", "note_en"),
        ("weekday", "weeks_of_month", "shift_if_holiday"),
        ("start_month", "start_day", "end_month", "end_day"),
        ("start_date", "end_date"),
    ]


@admin.register(ClosureCalendar)
class ClosureCalendarAdmin(TenantAdmin):
    list_display = ["name", "municipality", "year_view"]
    list_filter = ["municipality"]
    search_fields = ["name"]
    inlines = [ClosureRuleInline]

    def get_urls(self):
        return [
            path(
                "<int:calendar_id>/year/",
                self.admin_site.admin_view(self.year_page),
                name="facilities_closurecalendar_year",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("year view"))
    def year_view(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:facilities_closurecalendar_year", args=[obj.pk]), _("year view")
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The editor shows the calendar's current year under its rules: the preview of what they close."""
        calendar = self.get_object(request, object_id)
        if calendar is not None:
            extra_context = {**(extra_context or {}), **year_context(calendar, clock.today().year)}
        return super().change_view(request, object_id, form_url, extra_context)

    def year_page(self, request, calendar_id):
        """Every closed day of one year at a glance (?year=2027), with the rule that closes it."""
        calendar = self.get_object(request, str(calendar_id))
        if calendar is None or not self.has_view_permission(request, calendar):
            raise Http404
        today = clock.today()
        try:
            year = int(request.GET.get("year", today.year))
        except ValueError:
            year = today.year
        year = min(max(year, clock.EARLIEST_YEAR), clock.LATEST_YEAR)
        return TemplateResponse(
            request,
            "admin/facilities/closurecalendar/year.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "calendar": calendar,
                **year_context(calendar, year),
                "title": _("%(calendar)s: %(year)s") % {"calendar": calendar, "year": year},
            },
        )


def year_context(calendar, year: int) -> dict:
    """The months of ``year`` as weeks of (day, closing rule, inside the month, holiday name), and the count of
    closed days: the year view and the editor's preview."""
    from . import calendars

    rules = list(calendar.rules.all())
    months = []
    for month in range(1, 13):
        weeks = []
        for week in pycalendar.Calendar(firstweekday=6).monthdatescalendar(year, month):
            weeks.append(
                [
                    (
                        day,
                        calendars.closing_rule(rules, day) if day.month == month else None,
                        day.month == month,
                        calendars.holiday_name(day) if day.month == month else None,
                    )
                    for day in week
                ]
            )
        months.append((dt.date(year, month, 1), weeks))
    closed = sum(1 for _m, weeks in months for week in weeks for day, rule, inside, _h in week if inside and rule)
    return {"year": year, "months": months, "closed": closed}


class OpeningHoursFormSet(BaseInlineFormSet):
    """Seasons of one facility must not share a month, also among rows entered together."""

    def clean(self):
        super().clean()
        seen: dict[int, int] = {}
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("first_month") or not data.get("last_month"):
                continue
            season = OpeningHours(first_month=data["first_month"], last_month=data["last_month"])
            for month in season.months():
                if month in seen:
                    raise ValidationError(
                        _("Two seasons of this facility both cover month %(month)s."), params={"month": month}
                    )
                seen[month] = index


class OpeningHoursInline(MunicipalityScoped, admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 1


class UnitInline(MunicipalityScoped, admin.TabularInline):
    model = Unit
    extra = 0
    fields = [
        "code",
        "name_ja",
        "name_en",
        "kind",
        "capacity",
        "surface",
        "has_night_lights",
        "slot_scheme",
        "is_active",
        "sort_order",
    ]
    show_change_link = True

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "slot_scheme" and not request.user.is_superuser:
            kwargs["queryset"] = SlotScheme.objects.of(request.user.municipality_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class FacilityPhotoInline(admin.TabularInline):
    """Photos on the facility page (issue #21 item 6): JPEG, PNG or WebP up to 2 MB, each with a description for
    people who cannot see it (models.validate_photo)."""

    model = FacilityPhoto
    extra = 1
    fields = ["image", "alt_ja", "alt_en", "is_sample", "sort_order"]


@admin.register(Facility)
class FacilityAdmin(TenantAdmin):
    list_display = ["name_ja", "name_en", "kind", "municipality", "closure_calendar", "sort_order"]
    list_filter = ["municipality", "kind"]
    search_fields = ["name_ja", "name_en", "code"]
    inlines = [OpeningHoursInline, UnitInline, FacilityPhotoInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "municipality",
                    "code",
                    "kind",
                    "name_ja",
                    "name_en",
                    "address_ja",
                    "address_en",
                    "phone",
                    "notes_ja",
                    "notes_en",
                    "closure_calendar",
                    "sort_order",
                ]
            },
        ),
        (
            _("Facility page: access, parking, accessibility, equipment"),
            {
                "fields": [
                    "access_ja",
                    "access_en",
                    "has_parking",
                    "parking_ja",
                    "parking_en",
                    "step_free_entrance",
                    "accessible_toilet",
                    "lift",
                    "accessibility_ja",
                    "accessibility_en",
                    "equipment_ja",
                    "equipment_en",
                    "details_are_samples",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Municipal administrators do not choose the municipality (TenantAdmin.save_model sets it).
        first, *rest = fieldsets
        fields = [f for f in first[1]["fields"] if f != "municipality"]
        return [(first[0], {**first[1], "fields": fields}), *rest]


@admin.register(Unit)
class UnitAdmin(TenantAdmin):
    list_display = [
        "name_ja",
        "facility",
        "kind",
        "capacity",
        "surface",
        "has_night_lights",
        "slot_scheme",
        "is_active",
    ]
    list_filter = ["municipality", "kind", "surface", "has_night_lights", "is_active"]
    search_fields = ["name_ja", "name_en", "code", "facility__name_ja"]
    list_select_related = ["facility", "slot_scheme"]


class SchemePeriodInline(MunicipalityScoped, admin.TabularInline):
    model = SchemePeriod
    extra = 1


@admin.register(SlotScheme)
class SlotSchemeAdmin(TenantAdmin):
    list_display = ["name_ja", "code", "kind", "slot_minutes", "municipality"]
    list_filter = ["municipality", "kind"]
    inlines = [SchemePeriodInline]


@admin.register(Announcement)
class AnnouncementAdmin(TenantAdmin):
    """Notices on the portal (issue #7 item 4). A municipal administrator sees and writes only their own
    municipality's (the municipality is set on save; another's is a 404 like any tenant row); site-wide notices
    (no municipality) are the operator's."""

    list_display = ["title_ja", "title_en", "level", "municipality", "shown_from", "shown_until"]
    list_filter = ["municipality", "level"]
    search_fields = ["title_ja", "title_en", "body_ja", "body_en"]
    list_select_related = ["municipality"]
    date_hierarchy = "shown_from"
    fields = ["municipality", "level", ("title_ja", "title_en"), "body_ja", "body_en", ("shown_from", "shown_until")]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [field for field in fields if field != "municipality"]


# Rule profiles (X-1) ------------------------------------------------------------------------------------------


class DistinctErrorsForm(forms.ModelForm):
    """Shows each message once per field. A malformed date rule fails both the field's validator and the model's
    clean(), which re-parses it to compare opening and closing: the same sentence would appear twice."""

    def _post_clean(self):
        super()._post_clean()
        for error_list in self._errors.values():
            distinct = {}
            for error in error_list.as_data():
                distinct.setdefault(tuple(error.messages), error)
            error_list.data[:] = list(distinct.values())


class BookingWindowInline(MunicipalityScoped, admin.StackedInline):
    """Windows in the date-rule text forms of facilities/daterules.py. Every field that BookingWindow.clean()
    can name is on the form, so its errors ("closes before it opens", a malformed rule) show beside the field."""

    model = BookingWindow
    form = DistinctErrorsForm
    extra = 0
    fields = [
        ("phase", "channel", "initial_state"),
        ("opens", "opens_rule_id"),
        ("closes", "closes_rule_id"),
        ("service_from", "service_until", "service_rule_id"),
        ("facility_kinds", "excluded_facility_kinds"),
        ("pay_by", "pay_by_rule_id", "paid_at_booking"),  # S-FC-3, T-PAY-3: paid together with the booking
    ]


class BookingLimitInline(MunicipalityScoped, admin.TabularInline):
    model = BookingLimit
    extra = 0
    fields = ["rule_id", "phase", "scope", "count", "counted_origins", "lifted_from"]


@admin.register(RuleProfile)
class RuleProfileAdmin(TenantAdmin):
    """A municipality's booking rules. Its administrators edit their own profile; only the operator creates
    or deletes one (a profile comes with its municipality)."""

    list_display = ["municipality", "confirm_after_booking_day", "online_cancellable_states", "registration_rule_id"]
    list_select_related = ["municipality"]
    # Every field of the profile is here: a municipality's rules are its administrators' to edit (X-1).
    fieldsets = [
        (None, {"fields": ["municipality"]}),
        (
            _("Bookings"),
            {
                "fields": [
                    ("confirm_after_booking_day", "confirm_rule_id"),
                    ("online_cancellable_states", "online_cancel_rule_id"),
                    "unpaid_rule_id",
                    "unavailable_channel_rule_id",
                    "walk_in_rule_id",
                    "grant_rule_id",
                    ("early_start_from", "early_start_unit_kinds", "early_start_rule_id"),
                    "slot_rule_id",
                    ("permit_title", "permit_after_payment"),
                ]
            },
        ),
        (
            _("Booking form"),
            {"fields": [("ask_purpose", "ask_headcount", "headcount_max"), "terms_ja", "terms_en"]},
        ),
        (
            _("Registration"),
            {
                "fields": [
                    ("registration_kind", "account_rule_id"),
                    "pin_digits",
                    "online_registration_requests",
                    "registration_rule_id",
                    ("validity_kind", "validity_years"),
                    ("renewal_opens_months_before", "rolling_renewal_when_used", "renewal_rule_id"),
                ]
            },
        ),
        (
            _("Groups and minors"),
            {
                "fields": [
                    ("group_min_members", "group_min_resident_percent"),
                    ("group_representative_resident", "group_max_monthly_fee", "eligibility_rule_id"),
                    ("min_school_grade", "guardian_consent_until_grade", "student_id_required", "consent_rule_id"),
                    ("family_proxies", "family_proxy_rule_id"),
                ]
            },
        ),
        (
            _("Cards, profile changes and recovery"),
            {
                "fields": [
                    ("card_numbers", "card_reissue_rule_id"),
                    ("online_profile_fields", "profile_change_rule_id"),
                    ("recovery_rule_id", "id_recovery_by_name_phone_email"),
                ]
            },
        ),
    ]
    inlines = [BookingWindowInline, BookingLimitInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [(name, options) for name, options in fieldsets if options["fields"] != ["municipality"]]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
