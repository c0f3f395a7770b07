"""Admin for the lottery: municipal administrators edit their own lottery policy and read (only) their
applications, draws and results; everything else changes through lottery.services."""

from django.contrib import admin

from facilities.admin import ReadOnlyTenantAdmin, TenantAdmin

from .models import Application, Draw, DrawResult, LotteryPolicy, ResultNotice


@admin.register(LotteryPolicy)
class LotteryPolicyAdmin(TenantAdmin):
    list_display = [
        "municipality",
        "draw_at",
        "results_from",
        "confirmation_required",
        "confirm_until",
        "residents_only",
        "loss_weighting",
    ]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Application)
class ApplicationAdmin(ReadOnlyTenantAdmin):
    list_display = ["id", "month", "unit", "starts_at", "user", "state", "channel", "weight", "created_at"]
    list_filter = ["municipality", "month", "state", "channel"]
    search_fields = ["user__username", "user__display_name", "unit__name_ja", "unit__facility__name_ja"]
    list_select_related = ["unit", "unit__facility", "user"]


@admin.register(Draw)
class DrawAdmin(ReadOnlyTenantAdmin):
    list_display = [
        "municipality",
        "month",
        "status",
        "application_count",
        "winners",
        "seed_sha256",
        "list_sha256",
        "drawn_at",
    ]
    list_filter = ["municipality", "status"]
    exclude = ["seed", "applicant_salt"]  # the secret seed is published by the export only from the results day

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name not in ("seed", "applicant_salt")]


@admin.register(DrawResult)
class DrawResultAdmin(ReadOnlyTenantAdmin):
    """Why did I lose? Search a user: the slot's rank list is the rows of that slot in position order."""

    tenant_field = "draw__municipality"
    list_display = ["draw", "slot_order", "position", "application", "outcome"]
    list_filter = ["draw", "outcome"]
    search_fields = ["application__user__username", "application__user__display_name"]
    list_select_related = ["draw", "draw__municipality", "application", "application__unit"]
    raw_id_fields = ["application", "reservation"]


@admin.register(ResultNotice)
class ResultNoticeAdmin(ReadOnlyTenantAdmin):
    tenant_field = "draw__municipality"
    list_display = ["draw", "user", "email", "language", "sent_at"]
    list_filter = ["draw"]
