"""Django admin for facilities, units, slot schemes, opening hours, closure calendars and rule profiles.

Municipal administrators (users with a municipality) see and edit only their own municipality's rows;
the deployment's operators (superusers) see all.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from .models import (
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


class ClosureRuleInline(admin.TabularInline):
    model = ClosureRule
    extra = 1
    fields = [
        "kind", "weekday", "weeks_of_month", "shift_if_holiday",
        "start_month", "start_day", "end_month", "end_day", "start_date", "end_date", "note",
    ]


@admin.register(ClosureCalendar)
class ClosureCalendarAdmin(TenantAdmin):
    list_display = ["name", "municipality"]
    list_filter = ["municipality"]
    search_fields = ["name"]
    inlines = [ClosureRuleInline]


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
                    raise ValidationError(_("Two seasons of this facility both cover month %(month)s."), params={"month": month})
                seen[month] = index


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 1


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["code", "name_ja", "name_en", "kind", "capacity", "surface", "has_night_lights", "slot_scheme", "is_active", "sort_order"]
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
    list_display = ["name_ja", "facility", "kind", "capacity", "surface", "has_night_lights", "slot_scheme", "is_active"]
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
        ("pay_by", "pay_by_rule_id"),
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
    fields = [
        "municipality",
        ("confirm_after_booking_day", "confirm_rule_id"),
        ("online_cancellable_states", "online_cancel_rule_id"),
        "unpaid_rule_id",
        "registration_rule_id",
        "unavailable_channel_rule_id",
        ("validity_kind", "validity_years"),
        ("renewal_opens_months_before", "rolling_renewal_when_used", "renewal_rule_id"),
    ]
    inlines = [BookingWindowInline, BookingLimitInline]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [field for field in fields if field != "municipality"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
