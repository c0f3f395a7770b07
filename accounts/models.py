"""The portal's user: a resident account of one municipality, or a member of its staff.

What the booking rules need is on the user from the first migration: the municipality, the account kind
(K-REG-1 group, S-REG-1 individual, T-REG-1 card holder, staff), residency class (S-REG-4), fee category
(Shiroi's fee table) and the validity period (K-REG-3, S-REG-3, T-REG-1).
"""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config import clock


class User(AbstractUser):
    class AccountKind(models.TextChoices):
        GROUP = "group", _("Group (Kodaira)")
        INDIVIDUAL = "individual", _("Individual (Shiroi)")
        CARD_HOLDER = "card_holder", _("Card holder (Tamba)")
        STAFF = "staff", _("Staff")

    class Residency(models.TextChoices):
        RESIDENT = "resident", _("Resident (lives, works or studies in the municipality)")
        NON_RESIDENT = "non_resident", _("Non-resident")

    class FeeCategory(models.TextChoices):
        GENERAL = "general", _("General")
        STUDENT = "student", _("High-school or university student")
        CHILD = "child", _("Elementary or junior-high pupil")

    class StaffRole(models.TextChoices):
        NONE = "", _("—")
        CLERK = "clerk", _("Counter clerk")
        ADMINISTRATOR = "administrator", _("Municipal administrator")

    municipality = models.ForeignKey(
        "facilities.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("municipality"),
        help_text=_("Empty only for the operators of the whole deployment."),
    )
    account_kind = models.CharField(
        _("account kind"), max_length=20, choices=AccountKind.choices, default=AccountKind.INDIVIDUAL
    )
    display_name = models.CharField(_("name shown"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    residency = models.CharField(
        _("residency"), max_length=20, choices=Residency.choices, default=Residency.RESIDENT
    )
    fee_category = models.CharField(
        _("fee category"), max_length=20, choices=FeeCategory.choices, default=FeeCategory.GENERAL
    )
    staff_role = models.CharField(_("staff role"), max_length=20, choices=StaffRole.choices, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_from__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="user_validity_in_order",
            ),
            models.CheckConstraint(
                condition=Q(staff_role="") | Q(account_kind="staff"),
                name="user_staff_role_only_for_staff",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_resident(self) -> bool:
        return self.residency == self.Residency.RESIDENT

    def is_valid_on(self, day=None) -> bool:
        """Registration valid on ``day`` (Japan time, today by default)."""
        day = day or clock.today()
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)

    def clean(self):
        super().clean()
        if self.staff_role and self.account_kind != self.AccountKind.STAFF:
            raise ValidationError({"staff_role": _("Only staff accounts have a staff role.")})
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The end of validity is before its start.")})
