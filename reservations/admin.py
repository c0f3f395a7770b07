from django.contrib import admin

from facilities.admin import MunicipalityScoped, ReadOnlyTenantAdmin, TenantAdmin

from .models import FreedSlot, KeyLending, Reservation, SlotHold, UseReport


class SlotHoldInline(MunicipalityScoped, admin.TabularInline):
    model = SlotHold
    extra = 0
    can_delete = False
    readonly_fields = ["unit", "starts_at"]


class KeyLendingInline(MunicipalityScoped, admin.StackedInline):
    model = KeyLending
    extra = 0
    can_delete = False
    readonly_fields = ["lent_at", "lent_by", "returned_at", "returned_by"]

    def has_add_permission(self, request, obj=None):
        return False


class UseReportInline(MunicipalityScoped, admin.StackedInline):
    model = UseReport
    extra = 0
    can_delete = False
    readonly_fields = ["attendance", "actual_start", "actual_end", "note", "reported_by", "reported_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reservation)
class ReservationAdmin(TenantAdmin):
    """Read-mostly: bookings change through the services (counter console, issue #7), not by editing rows."""

    list_display = [
        "id",
        "unit",
        "user",
        "walk_in_name",
        "starts_at",
        "ends_at",
        "state",
        "origin",
        "channel",
        "override_kind",
        "pay_by",
        "created_at",
    ]
    # Overrides (counter console: T-APP-5 grants, blocks for maintenance or a municipal event) are findable here.
    list_filter = ["municipality", "state", "origin", "channel", "override_kind"]
    search_fields = [
        "user__username",
        "user__display_name",
        "walk_in_name",
        "walk_in_phone",
        "unit__name_ja",
        "unit__facility__name_ja",
    ]
    list_select_related = ["unit", "unit__facility", "user"]
    date_hierarchy = "starts_at"
    inlines = [SlotHoldInline, KeyLendingInline, UseReportInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Reservation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FreedSlot)
class FreedSlotAdmin(ReadOnlyTenantAdmin):
    """Read-only: the slots freed by cancellations, waiting for the alerts job (reservations.tell_freed_slots,
    every minute) to tell their watchers. A row left untold for more than a few minutes means the worker is down."""

    tenant_field = "unit__municipality"
    list_display = ["id", "unit", "starts_at", "reservation_id", "freed_at", "handled_at"]
    list_filter = [("handled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["unit", "unit__facility"]
    date_hierarchy = "freed_at"
