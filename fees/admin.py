"""Fee schedules with their prices, fee exemptions and refund rules in the Django admin.

Scoped like facilities.admin: a municipal administrator sees and edits only their municipality's rows; the
operator sees all. Every row is validated on save (fees.models ``clean``), with messages beside the field.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from facilities.admin import MunicipalityScoped, ReadOnlyAdmin, TenantAdmin
from facilities.models import Facility, Unit

from .models import (
    FeeExemption,
    FeeRate,
    FeeSchedule,
    Payment,
    PaymentPlace,
    Permit,
    RefundRule,
    WeatherPolicy,
    duplicate_rate_message,
)


class OwnMunicipalityAdmin(TenantAdmin):
    """TenantAdmin that puts the administrator's municipality on the row *before* validation, so checks that
    compare rows of one municipality (overlapping schedules or exemptions) run on the add page too."""

    def get_list_filter(self, request):
        """The municipality filter would list every municipality's name: the operator's only."""
        filters = super().get_list_filter(request)
        return filters if request.user.is_superuser else [f for f in filters if f != "municipality"]

    def get_list_display(self, request):
        display = super().get_list_display(request)
        return display if request.user.is_superuser else [f for f in display if f != "municipality"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if request.user.is_superuser:
            return fields
        return [field for field in fields if field != "municipality"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if request.user.is_superuser:
            return form
        municipality_id = request.user.municipality_id

        class OwnMunicipalityForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.instance.municipality_id = municipality_id

        return OwnMunicipalityForm


class FeeRateFormSet(BaseInlineFormSet):
    """Two rows of one schedule may not apply to the same charge, facility, unit, unit kind and fee category,
    also among rows entered together."""

    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("price") is None:
                continue
            key = (
                data.get("charge"),
                getattr(data.get("facility"), "pk", None),
                getattr(data.get("unit"), "pk", None),
                data.get("unit_kind") or "",
                data.get("fee_category") or "",
            )
            if key in seen:
                raise ValidationError(duplicate_rate_message())
            seen.add(key)


def _unit_label(unit: Unit) -> str:
    return f"{unit.facility.name_ja} / {unit.name_ja}"


# The columns of a fee rate the administrators edit (the form and the inline show the same ones).
FEE_RATE_FIELDS = [
    "charge",
    "facility",
    "unit",
    "unit_kind",
    "fee_category",
    "price",
    "per",
    "lit_from",
    "non_resident_multiplied",
    "rule_id",
]


class FeeRateForm(forms.ModelForm):
    """The price field says in words why a negative price is refused (the default would be a bare bound)."""

    price = forms.IntegerField(label=FeeRate._meta.get_field("price").verbose_name)

    class Meta:
        model = FeeRate
        fields = FEE_RATE_FIELDS

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price < 0:
            raise ValidationError(_("A price cannot be negative."))
        return price


class FeeRateInline(MunicipalityScoped, admin.TabularInline):
    model = FeeRate
    form = FeeRateForm
    formset = FeeRateFormSet
    extra = 1
    fields = FEE_RATE_FIELDS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        mine = {} if request.user.is_superuser else {"municipality_id": request.user.municipality_id}
        if db_field.name == "facility":
            kwargs["queryset"] = Facility.objects.filter(**mine)
        if db_field.name == "unit":
            kwargs["queryset"] = Unit.objects.filter(**mine).select_related("facility")
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "unit":
            field.label_from_instance = _unit_label
        if db_field.name in ("facility", "unit"):
            # Read the choices once for all rows: Kodaira prices ~60 rooms, each row would query them again.
            field.choices = list(field.choices)
        return field


@admin.register(FeeSchedule)
class FeeScheduleAdmin(OwnMunicipalityAdmin):
    list_display = ["name_ja", "municipality", "valid_from", "valid_until", "non_resident_percent", "is_sample"]
    list_filter = ["municipality", "is_sample"]
    fields = [
        "municipality",
        ("name_ja", "name_en"),
        ("valid_from", "valid_until"),
        ("non_resident_percent", "non_resident_rule_id"),
        ("is_sample", "source"),
    ]
    inlines = [FeeRateInline]


@admin.register(FeeExemption)
class FeeExemptionAdmin(OwnMunicipalityAdmin):
    list_display = ["user", "percent", "valid_from", "valid_until", "rule_id", "note", "municipality"]
    list_filter = ["municipality"]
    search_fields = ["user__username", "user__display_name", "note"]
    list_select_related = ["user", "municipality"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            users = User.objects.exclude(account_kind=User.AccountKind.STAFF).filter(municipality__isnull=False)
            if not request.user.is_superuser:
                users = users.filter(municipality_id=request.user.municipality_id)
            kwargs["queryset"] = users.order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(RefundRule)
class RefundRuleAdmin(OwnMunicipalityAdmin):
    list_display = ["rule_id", "cause", "until", "percent", "cancellable", "order", "municipality"]
    list_filter = ["municipality", "cause"]
    ordering = ["municipality", "cause", "order"]


@admin.register(WeatherPolicy)
class WeatherPolicyAdmin(OwnMunicipalityAdmin):
    """S-WX-1 as data: the transfer and refund periods after rain or heat, and the use after which nothing is made
    good. One per municipality; none: no such scheme."""

    list_display = ["rule_id", "transfer_months", "refund_years", "used_minutes_limit", "municipality"]
    list_filter = ["municipality"]


@admin.register(PaymentPlace)
class PaymentPlaceAdmin(OwnMunicipalityAdmin):
    """S-PAY-4: which counters take which facilities' fees, and their closed days (closure calendar)."""

    list_display = ["name_ja", "name_en", "hours", "closure_calendar", "rule_id", "municipality"]
    list_filter = ["municipality"]
    fields = [
        "municipality",
        ("name_ja", "name_en"),
        ("opens_at", "closes_at"),
        "closure_calendar",
        "facilities",
        "rule_id",
    ]
    filter_horizontal = ["facilities"]

    @admin.display(description=_("hours"))
    def hours(self, obj):
        return obj.hours

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "facilities" and not request.user.is_superuser:
            kwargs["queryset"] = Facility.objects.filter(municipality_id=request.user.municipality_id)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin, OwnMunicipalityAdmin):
    """Payments are recorded at the counter (fees.services.record_payment), never typed in here: read only."""

    list_display = [
        "permit_number",
        "reservation",
        "amount",
        "place",
        "receipt_number",
        "recorded_by",
        "recorded_at",
        "municipality",
    ]
    list_filter = ["municipality"]
    search_fields = ["permit_number", "receipt_number", "payer_name"]
    list_select_related = ["reservation__unit", "place", "recorded_by", "municipality"]
    date_hierarchy = "recorded_at"


@admin.register(Permit)
class PermitAdmin(ReadOnlyAdmin, OwnMunicipalityAdmin):
    """Use permits are issued with a payment or when a confirmed booking's permit is first shown
    (fees.services.permit_for), never typed in here: read only."""

    list_display = ["number", "reservation", "issued_at", "municipality"]
    list_filter = ["municipality"]
    search_fields = ["number"]
    list_select_related = ["reservation__unit", "municipality"]
    date_hierarchy = "issued_at"
