from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from facilities.admin import MunicipalityScoped, ReadOnlyAdmin

from . import audit, breaker, credentials, throttle
from .models import (
    ApiToken,
    AuditEntry,
    FamilyProxy,
    LoginBreaker,
    LoginFailureWindow,
    LoginThrottle,
    Notice,
    Registration,
    Revocation,
    User,
)


@admin.register(User)
class UserAdmin(MunicipalityScoped, DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "municipality",
        "account_kind",
        "residency",
        "staff_role",
        "valid_until",
        "is_active",
    ]
    list_filter = ["municipality", "account_kind", "residency", "fee_category", "staff_role", "is_active"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (
            _("Registration"),
            {
                "fields": [
                    "municipality",
                    "account_kind",
                    "display_name",
                    "phone",
                    "residency",
                    "fee_category",
                    "staff_role",
                    "counter_facilities",
                    "valid_from",
                    "valid_until",
                    "language",
                ]
            },
        ),
    )
    filter_horizontal = [*DjangoUserAdmin.filter_horizontal, "counter_facilities"]
    # Fields whose changes by staff go in the audit log (item 5).
    AUDITED_FIELDS = [
        "username",
        "email",
        "is_active",
        "is_staff",
        "is_superuser",
        "municipality",
        "account_kind",
        "display_name",
        "phone",
        "residency",
        "fee_category",
        "staff_role",
        "valid_from",
        "valid_until",
        "language",
    ]

    actions = ["lift_login_block"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(municipality_id=request.user.municipality_id)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = audit.snapshot(User.objects.get(pk=obj.pk), self.AUDITED_FIELDS) if change else None
            super().save_model(request, obj, form, change)
            if change and before["is_active"] and not obj.is_active:
                # Deactivated here: its API tokens and calendar-feed keys stop with it, and the user is told.
                credentials.revoke_access(obj, reason=Revocation.DEACTIVATED, by=request.user)
            after = audit.snapshot(obj, self.AUDITED_FIELDS)
            if before is not None:
                changed = [k for k in after if before.get(k) != after[k]]
                before, after = {k: before[k] for k in changed}, {k: after[k] for k in changed}
            if before != after or not change:
                audit.record(
                    request.user,
                    "user.change" if change else "user.create",
                    obj,
                    before=before,
                    after=after,
                    reason="admin",
                )

    def user_change_password(self, request, id, form_url=""):
        # Django's form saves the password itself; what follows a new password (the log-in throttle lifted, the
        # tokens and feed keys revoked) joins it in one transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                target = User.objects.filter(pk=id).first()
                if target is not None:
                    audit.record(request.user, "password.reset", target, reason="admin")
                    credentials.password_changed(target, reason=Revocation.PASSWORD_RESET_BY_STAFF, by=request.user)
        return response

    @admin.action(description=_("Lift the log-in block of the selected users"), permissions=["change"])
    def lift_login_block(self, request, queryset):
        """The counter path (K-REG-4): after checking who is at the counter, staff let the user log in again from
        any device today, whatever strangers have tried (accounts/throttle.py)."""
        count = 0
        for user in queryset:
            with transaction.atomic():
                throttle.lift_account_block(user)
                audit.record(request.user, "login_block.lift", user, reason="admin")
            count += 1
        self.message_user(
            request,
            ngettext("Log-in block lifted for %(count)s user.", "Log-in block lifted for %(count)s users.", count)
            % {"count": count},
        )


@admin.register(LoginThrottle)
class LoginThrottleAdmin(MunicipalityScoped, admin.ModelAdmin):
    """Failed log-in counters (read-only): who is being attacked, from where. Lift a block from the user list."""

    list_display = [
        "key",
        "scope",
        "user",
        "day",
        "day_failures",
        "total_failures",
        "budget_spent",
        "blocked_until",
        "last_failure_at",
    ]
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
class ApiTokenAdmin(MunicipalityScoped, admin.ModelAdmin):
    """Tokens are created by their owners at /accounts/tokens/; here they can be seen (never the secret) and revoked."""

    list_display = [
        "name",
        "user",
        "display_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "revoked_reason", "user__municipality"]
    search_fields = ["name", "prefix", "user__username", "user__display_name"]
    list_select_related = ["user"]
    fields = [
        "user",
        "name",
        "display_prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
    ]
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
            with transaction.atomic():
                token.revoke(Revocation.BY_STAFF)
                audit.record(
                    request.user, "api_token.revoke", token, after={"revoked_at": token.revoked_at}, reason="admin"
                )
            count += 1
        self.message_user(
            request, ngettext("%(count)s token revoked.", "%(count)s tokens revoked.", count) % {"count": count}
        )


@admin.register(Notice)
class NoticeAdmin(MunicipalityScoped, ReadOnlyAdmin, admin.ModelAdmin):
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

    # Municipal administrators read their municipality's outbox without a Django permission (issue #8 item 4),
    # like the audit log (AdministratorsOnly below); the queryset above keeps it to their municipality.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_administrator

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    # Password-reset, confirmation and recovery mails carry working links: whoever reads them could take over
    # the resident's account, so nobody, operator included, reads their text here (only that they were sent).
    SECRET_KINDS = {Notice.Kind.ACCOUNT_EMAIL, Notice.Kind.ACCOUNT_RECOVERY}

    # ``texts`` repeats the text in each language of the site (the notifications page's copy): never shown here.
    exclude = ["texts"]

    def get_exclude(self, request, obj=None):
        if obj is not None and obj.kind in self.SECRET_KINDS:
            return ["body", "texts"]
        return super().get_exclude(request, obj)


class AdministratorsOnly(MunicipalityScoped):
    """Readable by municipal administrators (and operators) without a Django permission, limited to their
    municipality; never added, changed or deleted here."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_administrator

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    site_wide = False  # True: the rows belong to no municipality (the log-in breaker), every administrator sees them

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser or self.site_wide:
            return queryset
        return queryset.filter(municipality_id=request.user.municipality_id)


@admin.register(AuditEntry)
class AuditEntryAdmin(AdministratorsOnly, admin.ModelAdmin):
    """The audit log (issue #6 item 5): who did what to whose data, when, before and after. Read-only."""

    list_display = ["at", "actor_label", "action", "target_label", "subject", "municipality"]
    list_filter = ["action", "municipality"]
    search_fields = ["actor_label", "target_label", "action", "reason", "subject__username"]
    date_hierarchy = "at"
    list_select_related = ["subject", "municipality"]
    fields = [
        "at",
        "actor",
        "actor_label",
        "action",
        "municipality",
        "subject",
        "target_type",
        "target_id",
        "target_label",
        "before",
        "after",
        "reason",
    ]
    readonly_fields = fields
    actions = None


class FamilyProxyInline(admin.TabularInline):
    model = FamilyProxy
    fk_name = "user"
    extra = 0
    fields = ["name", "relation", "added_at", "added_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(AdministratorsOnly, admin.ModelAdmin):
    """What was checked at registration (K-REG-2, S-REG-1/2, T-REG-1/2). Changes are made at the counter, where
    they are audited."""

    list_display = ["user", "person_name", "status", "requested_online", "card_number", "created_at", "municipality"]
    list_filter = ["status", "requested_online", "municipality", ("duplicates_reviewed_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__display_name", "person_name", "address", "card_number"]
    list_select_related = ["user", "municipality"]
    exclude = ["possible_duplicates"]
    actions = None

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(LoginBreaker)
class LoginBreakerAdmin(AdministratorsOnly, admin.ModelAdmin):
    """The site-wide log-in breaker (accounts/breaker.py): municipal administrators and the operator see whether it
    is on and the running hour's failed log-ins against the threshold; the operator ends it (action)."""

    list_display = ["state_display", "since_display", "window_display", "ended_display", "ended_by"]
    list_display_links = None
    site_wide = True
    actions = ["end_breaker"]

    def changelist_view(self, request, extra_context=None):
        breaker.state()  # the row exists from the first look on
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("state"))
    def state_display(self, obj):
        return _("on: log-ins from new devices need the e-mailed code") if breaker.state().on else _("off")

    @admin.display(description=_("on since"))
    def since_display(self, obj):
        return breaker.state().since or "—"

    @admin.display(description=_("failed log-ins this hour / threshold"))
    def window_display(self, obj):
        current = breaker.state()
        return f"{current.window_failures} / {current.threshold}"

    @admin.display(description=_("last ended"))
    def ended_display(self, obj):
        return breaker.state().ended_at or "—"

    @admin.action(description=_("End the log-in breaker"), permissions=["end"])
    def end_breaker(self, request, queryset):
        if breaker.end(request.user):
            self.message_user(
                request, _("The log-in breaker is off. It trips again if failed log-ins go on at that rate.")
            )
        else:
            self.message_user(request, _("The log-in breaker was not on."))

    def has_end_permission(self, request):
        return request.user.is_active and request.user.is_superuser


@admin.register(LoginFailureWindow)
class LoginFailureWindowAdmin(AdministratorsOnly, admin.ModelAdmin):
    """The history the breaker's "usual" rate comes from: failed log-ins of each closed hour."""

    list_display = ["started_at", "failures", "breaker_on"]
    list_filter = ["breaker_on"]
    site_wide = True
    date_hierarchy = "started_at"

    def has_delete_permission(self, request, obj=None):
        return False
