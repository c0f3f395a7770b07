from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import throttle
from .models import ApiToken, LoginThrottle, Notice, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "municipality", "account_kind", "residency", "staff_role", "valid_until", "is_active"]
    list_filter = ["municipality", "account_kind", "residency", "fee_category", "staff_role", "is_active"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Registration"),
            {"fields": ["municipality", "account_kind", "display_name", "phone", "residency", "fee_category", "staff_role", "valid_from", "valid_until", "language"]},
        ),
    )

    actions = ["lift_login_block"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(municipality_id=request.user.municipality_id)

    @admin.action(description=_("Lift the log-in block of the selected users"), permissions=["change"])
    def lift_login_block(self, request, queryset):
        """The counter path (K-REG-4): after checking who is at the counter, staff let the user log in again from
        any device today, whatever strangers have tried (accounts/throttle.py)."""
        count = 0
        for user in queryset:
            throttle.lift_account_block(user)
            count += 1
        self.message_user(
            request, ngettext("Log-in block lifted for %(count)s user.", "Log-in block lifted for %(count)s users.", count) % {"count": count}
        )


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    """Failed log-in counters (read-only): who is being attacked, from where. Lift a block from the user list."""

    list_display = ["key", "scope", "user", "day", "day_failures", "total_failures", "blocked_until", "last_failure_at"]
    list_filter = ["scope"]
    search_fields = ["key", "user__username"]
    list_select_related = ["user"]
    ordering = ["-last_failure_at"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__municipality_id=request.user.municipality_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners at /accounts/tokens/; here they can be seen (never the secret) and revoked."""

    list_display = ["name", "user", "display_prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "user__municipality"]
    search_fields = ["name", "prefix", "user__username", "user__display_name"]
    list_select_related = ["user"]
    fields = ["user", "name", "display_prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    @admin.display(description=_("begins with"))
    def display_prefix(self, obj):
        return obj.display_prefix

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__municipality_id=request.user.municipality_id)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token.revoke()
            count += 1
        self.message_user(request, ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", count) % {"count": count})


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """The e-mail outbox: what was told to whom, and whether the mail went out. Read-only: a notice is a record."""

    list_display = ["created_at", "kind", "user", "email", "subject", "sent_at", "attempts"]
    list_filter = ["kind", "language", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__display_name", "email", "subject", "key"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(municipality_id=request.user.municipality_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
