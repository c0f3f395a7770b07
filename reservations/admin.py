from django.contrib import admin

from facilities.admin import TenantAdmin

from .models import Reservation, SlotHold


class SlotHoldInline(admin.TabularInline):
    model = SlotHold
    extra = 0
    can_delete = False
    readonly_fields = ["unit", "starts_at"]


@admin.register(Reservation)
class ReservationAdmin(TenantAdmin):
    """Read-mostly: bookings change through the services (counter console, issue #7), not by editing rows."""

    list_display = ["id", "unit", "user", "starts_at", "ends_at", "state", "origin", "channel", "pay_by", "created_at"]
    list_filter = ["municipality", "state", "origin", "channel"]
    search_fields = ["user__username", "user__display_name", "unit__name_ja", "unit__facility__name_ja"]
    list_select_related = ["unit", "unit__facility", "user"]
    date_hierarchy = "starts_at"
    inlines = [SlotHoldInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Reservation._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
