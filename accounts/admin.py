from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "municipality", "account_kind", "residency", "staff_role", "valid_until", "is_active"]
    list_filter = ["municipality", "account_kind", "residency", "fee_category", "staff_role", "is_active"]
    search_fields = ["username", "display_name", "email", "phone"]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Registration"),
            {"fields": ["municipality", "account_kind", "display_name", "phone", "residency", "fee_category", "staff_role", "valid_from", "valid_until"]},
        ),
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(municipality_id=request.user.municipality_id)
