"""Django admin for facilities, units, slot schemes, opening hours, closure calendars and rule profiles.

Municipal administrators (users with a municipality) see and edit only their own municipality's rows;
the deployment's operators (superusers) see all.
"""

import calendar as pycalendar
import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
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
    Municipality,
    OpeningHours,
    RuleProfile,
    SchemePeriod,
    SlotScheme,
    Unit,
)

TENANT_MODELS = (Municipality, Facility, ClosureCalendar, SlotScheme)


def _limit_to_tenant(request, queryset, field="municipality"):
    if request.user.is_superuser:
        return queryset
    return queryset.filter(**{field: request.user.municipality_id})


class ReadOnlyAdmin:
    """Mixin for rows that change only through the services (payments, notices, draws, alert queues): the admin
    shows them and never adds, edits or deletes one."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TenantAdmin(admin.ModelAdmin):
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

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if model in TENANT_MODELS and not request.user.is_superuser:
            field = "pk" if model is Municipality else "municipality"
            kwargs["queryset"] = _limit_to_tenant(request, model.objects.all(), field)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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
                f"#{r.pk} {date_format(clock.localtime(r.starts_at), 'DATE_FORMAT')} {r.unit.facility.name} {r.unit.name} ({r.user})"
                for r in stranded[:STRANDED_SHOWN]
            )
            message = ngettext(
                "This change would close a day with %(count)s booking: %(list)s. Cancel it first with a full refund and "
                "a notice (counter → Close a facility), or choose another date.",
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
    return f"{url}?{urlencode({'facility': facility.code, 'date_from': min(days).isoformat(), 'date_to': max(days).isoformat()})}"


class ClosureRuleInline(admin.TabularInline):
    model = ClosureRule
    formset = ClosureRuleFormSet
    extra = 1
    fields = [
        "kind",
        "weekday",
        "weeks_of_month",
        "shift_if_holiday",
        "start_month",
        "start_day",
        "end_month",
        "end_day",
        "start_date",
        "end_date",
        "note",
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
        return TemplateResponse(
            request,
            "admin/facilities/closurecalendar/year.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "calendar": calendar,
                "year": year,
                "months": months,
                "closed": closed,
                "title": _("%(calendar)s: %(year)s") % {"calendar": calendar, "year": year},
            },
        )


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


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 1


class UnitInline(admin.TabularInline):
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


@admin.register(Facility)
class FacilityAdmin(TenantAdmin):
    list_display = ["name_ja", "name_en", "kind", "municipality", "closure_calendar", "sort_order"]
    list_filter = ["municipality", "kind"]
    search_fields = ["name_ja", "name_en", "code"]
    inlines = [OpeningHoursInline, UnitInline]


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


class SchemePeriodInline(admin.TabularInline):
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


class BookingWindowInline(admin.StackedInline):
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


class BookingLimitInline(admin.TabularInline):
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
