"""Django admin for facilities, units, slot schemes, opening hours and closure calendars.

Municipal administrators (users with a municipality) see and edit only their own municipality's rows;
the deployment's operators (superusers) see all.
"""

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from .models import ClosureCalendar, ClosureRule, Facility, Municipality, OpeningHours, SchemePeriod, SlotScheme, Unit

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
