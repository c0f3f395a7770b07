"""Fee tables, fee exemptions and refund rules: each municipality's money rules as data (X-1, issue #5).

- ``FeeSchedule``: one fee table of a municipality, valid from a date (and optionally until one). Schedules of
  one municipality never overlap, so exactly one (or none) is in force on any date.
- ``FeeRate``: one price of a schedule — a base fee per slot or per hour, or a lighting charge per hour after a
  time of day (S-HRS-2) — for all units or narrowed to a unit kind, a facility, a unit, and a fee category.
- ``FeeExemption``: a registered group exempt from fees (K-USE-2 使用料免除), wholly or in part, for a period.
- ``RefundRule``: how much of the paid fee a cancellation returns, by cause and deadline (S-CAN-1/2, T-CAN-1/2).

Yen are integers everywhere; percentages are integers too (200 = ×2). Rounding: see ``fees.money``.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from facilities.models import Bilingual, Facility, Municipality, TenantQuerySet, Unit, validate_date_rule_or_blank

FAR_FUTURE = dt.date.max


def _periods_overlap(a_from, a_until, b_from, b_until) -> bool:
    """Inclusive date periods; an empty end means open-ended."""
    return a_from <= (b_until or FAR_FUTURE) and b_from <= (a_until or FAR_FUTURE)


def _period_text(valid_from, valid_until) -> str:
    start = date_format(valid_from, "DATE_FORMAT")
    if valid_until is None:
        return _("from %(start)s") % {"start": start}
    return _("%(start)s – %(end)s") % {"start": start, "end": date_format(valid_until, "DATE_FORMAT")}


class ValidityQuerySet(TenantQuerySet):
    def in_force_on(self, day: dt.date):
        return self.filter(valid_from__lte=day).filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))


class FeeSchedule(Bilingual):
    """A municipality's fee table (料金表) for a period. A booking is priced with the schedule in force on the
    day it is made, and keeps that price (fees.rules.quote)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="fee_schedules", verbose_name=_("municipality")
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("Last day of validity. Empty: until further notice.")
    )
    non_resident_percent = models.PositiveSmallIntegerField(
        _("non-resident fee (percent of the resident fee)"),
        default=100,
        validators=[
            MinValueValidator(
                100,
                _(
                    "The non-resident fee is at least the resident fee: enter 100 or more (100 = the same fee, 200 = "
                    "twice)."
                ),
            ),
            MaxValueValidator(1000, _("Enter at most 1000 (ten times the resident fee).")),
        ],
        help_text=_("100: the same fee; 200: twice the fee. Lighting charges can be excluded per price."),
    )
    non_resident_rule_id = models.CharField(_("rule id of the non-resident fee"), max_length=20, blank=True)
    is_sample = models.BooleanField(
        _("sample values"),
        default=False,
        help_text=_("The municipality's documents give no amounts: these are invented for the demo."),
    )
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("Where the amounts come from."))

    objects = ValidityQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "valid_from"]
        verbose_name = _("fee schedule")
        verbose_name_plural = _("fee schedules")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "valid_from"], name="fee_schedule_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="fee_schedule_period_in_order",
            ),
            models.CheckConstraint(
                condition=Q(non_resident_percent__gte=100), name="fee_schedule_multiplier_at_least_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_ja} ({_period_text(self.valid_from, self.valid_until)})"

    def covers(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def clean(self):
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": _("The last day of validity is before the first.")})
        if self.municipality_id and self.valid_from:
            others = FeeSchedule.objects.filter(municipality_id=self.municipality_id).exclude(pk=self.pk)
            for other in others:
                if _periods_overlap(self.valid_from, self.valid_until, other.valid_from, other.valid_until):
                    raise ValidationError(
                        _(
                            "This period overlaps the fee schedule “%(other)s” (%(period)s). End that schedule the day "
                            "before this one starts, or change these dates: only one schedule may be in force on a day."
                        ),
                        params={"other": other.name_ja, "period": _period_text(other.valid_from, other.valid_until)},
                    )


class Charge(models.TextChoices):
    BASE = "base", _("Use fee")
    LIGHTING = "lighting", _("Lighting")


class Per(models.TextChoices):
    SLOT = "slot", _("per slot")
    HOUR = "hour", _("per hour")


class FeeRate(models.Model):
    """One price of a schedule. The most specific matching row wins: a unit beats a facility, a facility beats a
    unit kind, and a row for the user's fee category beats one for every category."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="rates")
    charge = models.CharField(_("charge"), max_length=20, choices=Charge.choices, default=Charge.BASE)
    facility = models.ForeignKey(
        Facility,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("facility"),
        help_text=_("Empty: every facility."),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
        help_text=_("Empty: every unit (of the facility, when one is chosen)."),
    )
    unit_kind = models.CharField(
        _("unit kind"), max_length=20, choices=Unit.Kind.choices, blank=True, help_text=_("Empty: every kind.")
    )
    fee_category = models.CharField(
        _("fee category"),
        max_length=20,
        choices=User.FeeCategory.choices,
        blank=True,
        help_text=_("Empty: every category."),
    )
    price = models.PositiveIntegerField(_("price (yen)"))
    per = models.CharField(_("per"), max_length=10, choices=Per.choices, default=Per.SLOT)
    lit_from = models.TimeField(
        _("lighting from"),
        null=True,
        blank=True,
        help_text=_(
            "Lighting only: charged for every started hour of use after this time, at units with night lights "
            "(S-HRS-2)."
        ),
    )
    non_resident_multiplied = models.BooleanField(
        _("non-residents pay the multiplied fee"),
        default=True,
        help_text=_("Off: this charge is never multiplied for non-residents (e.g. a lighting charge)."),
    )
    rule_id = models.CharField(_("rule id"), max_length=20, blank=True)

    class Meta:
        ordering = ["schedule", "charge", "facility", "unit", "unit_kind", "fee_category", "id"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.CheckConstraint(
                condition=~Q(charge="lighting") | Q(per="hour", lit_from__isnull=False),
                name="fee_rate_lighting_per_hour_from",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_charge_display()} {self.price:,}円 {self.get_per_display()}"

    def key(self) -> tuple:
        """What the row applies to; two rows of a schedule may not share one."""
        return (self.charge, self.facility_id, self.unit_id, self.unit_kind, self.fee_category)

    def matches(self, unit: Unit, fee_category: str) -> bool:
        return (
            (self.unit_id is None or self.unit_id == unit.pk)
            and (self.facility_id is None or self.facility_id == unit.facility_id)
            and (not self.unit_kind or self.unit_kind == unit.kind)
            and (not self.fee_category or self.fee_category == fee_category)
        )

    def specificity(self) -> int:
        return (
            8 * (self.unit_id is not None)
            + 4 * (self.facility_id is not None)
            + 2 * bool(self.unit_kind)
            + bool(self.fee_category)
        )

    def clean(self):
        errors = {}
        if self.charge == Charge.LIGHTING:
            if self.per != Per.HOUR:
                errors["per"] = _("Lighting is charged per hour (S-HRS-2).")
            if self.lit_from is None:
                errors["lit_from"] = _("Give the time from which lighting is charged, e.g. 17:00.")
        elif self.lit_from is not None:
            errors["lit_from"] = _("Only lighting charges start at a time of day.")
        if self.price is not None and self.price < 0:
            errors["price"] = _("A price cannot be negative.")
        if self.unit_id and self.facility_id and self.unit.facility_id != self.facility_id:
            errors["unit"] = _("This unit is not in the chosen facility.")
        schedule = _parent_schedule(self)
        if schedule is not None and schedule.municipality_id:
            for field in ("facility", "unit"):
                row = getattr(self, field) if getattr(self, f"{field}_id") else None
                if row is not None and row.municipality_id != schedule.municipality_id:
                    errors[field] = _("This belongs to another municipality.")
            if not errors and self.schedule_id:
                duplicates = FeeRate.objects.filter(schedule_id=self.schedule_id).exclude(pk=self.pk)
                if any(other.key() == self.key() for other in duplicates):
                    errors["price"] = duplicate_rate_message()
        if errors:
            raise ValidationError(errors)


def _parent_schedule(rate: FeeRate) -> FeeSchedule | None:
    """The rate's schedule, also when it is not saved yet (a new schedule with its rows in the admin)."""
    try:
        return rate.schedule
    except FeeSchedule.DoesNotExist:
        return None


def duplicate_rate_message():
    return _(
        "Another price of this schedule already applies to the same charge, facility, unit, unit kind and fee "
        "category. Change that row instead of adding a second one."
    )


class FeeExemption(models.Model):
    """A registered group exempt from fees (K-USE-2 使用料免除): 100 % is a full exemption, less a reduction."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="fee_exemptions", verbose_name=_("municipality")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="fee_exemptions",
        verbose_name=_("registered user or group"),
    )
    percent = models.PositiveSmallIntegerField(
        _("exempted share (percent)"),
        default=100,
        validators=[
            MinValueValidator(1, _("Enter 1–100: 100 exempts the whole fee.")),
            MaxValueValidator(100, _("Enter 1–100: 100 exempts the whole fee.")),
        ],
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Empty: until further notice."))
    rule_id = models.CharField(_("rule id"), max_length=20, default="K-USE-2")
    note = models.CharField(_("reason"), max_length=200, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "user", "valid_from"]
        verbose_name = _("fee exemption")
        verbose_name_plural = _("fee exemptions")
        constraints = [
            models.CheckConstraint(condition=Q(percent__gte=1, percent__lte=100), name="fee_exemption_percent_1_100"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="fee_exemption_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.percent}% ({_period_text(self.valid_from, self.valid_until)})"

    def clean(self):
        errors = {}
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The last day of validity is before the first.")
        if self.user_id and self.municipality_id:
            if self.user.municipality_id != self.municipality_id or self.user.account_kind == User.AccountKind.STAFF:
                errors["user"] = _("Choose a registration of this municipality (not a staff account).")
            elif self.valid_from and "valid_until" not in errors:
                others = FeeExemption.objects.filter(user_id=self.user_id).exclude(pk=self.pk)
                if any(
                    _periods_overlap(self.valid_from, self.valid_until, o.valid_from, o.valid_until) for o in others
                ):
                    errors["valid_from"] = _("This registration already has an exemption in this period.")
        if errors:
            raise ValidationError(errors)


class Cause(models.TextChoices):
    OWN = "own", _("The user's own reason")
    WEATHER = "weather", _("Weather (rain, heat, warnings)")
    FACILITY = "facility", _("Facility management")


class RefundRule(models.Model):
    """How much of the paid fee a cancellation for ``cause`` returns while ``until`` has not passed.

    ``fees.rules.refund`` takes the first row of the cause, in order, whose deadline is still ahead; a row
    without a deadline applies whenever. ``cancellable`` off means no cancellation at all then (S-CAN-1).
    """

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="refund_rules", verbose_name=_("municipality")
    )
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    until = models.CharField(
        _("until"),
        max_length=40,
        blank=True,
        validators=[validate_date_rule_or_blank],
        help_text=_("A date rule, e.g. “D-7 23:59” (the named minute is included). Empty: whenever."),
    )
    percent = models.PositiveSmallIntegerField(
        _("refund (percent of the paid fee)"),
        validators=[MaxValueValidator(100, _("A refund cannot exceed what was paid: enter 0–100."))],
    )
    cancellable = models.BooleanField(
        _("cancellation accepted"),
        default=True,
        help_text=_("Off: the booking can no longer be cancelled at all (S-CAN-1)."),
    )
    rule_id = models.CharField(_("rule id"), max_length=20)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "cause", "order", "id"]
        verbose_name = _("refund rule")
        verbose_name_plural = _("refund rules")
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="refund_rule_percent_at_most_100"),
            models.CheckConstraint(
                condition=Q(cancellable=True) | Q(percent=0), name="refund_rule_no_refund_without_cancel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.get_cause_display()} {self.until or '—'} {self.percent}%"

    def clean(self):
        from facilities import daterules

        errors = {}
        if not self.cancellable and self.percent:
            errors["percent"] = _("A rule that refuses cancellation refunds nothing: enter 0.")
        if self.until:
            try:
                if daterules.parse(self.until).needs_booking_date:
                    errors["until"] = _(
                        "Refund deadlines are stated relative to the use date (D-7 23:59), not the booking date."
                    )
            except ValidationError:
                pass  # the field's validator reports it
        if errors:
            raise ValidationError(errors)


class PaymentPlaceQuerySet(TenantQuerySet):
    def taking_fees_of(self, facility: Facility):
        """The places that take ``facility``'s fees (S-PAY-4): those listing it and those listing no facility."""
        return (
            self.filter(municipality_id=facility.municipality_id)
            .filter(Q(facilities=facility) | Q(facilities__isnull=True))
            .distinct()
        )

    def with_closed_days(self):
        """Each place's closure rules read with the places (closed_days(), closing_rule() without a query each)."""
        return self.select_related("closure_calendar").prefetch_related("closure_calendar__rules")

    def open_first(self, facility: Facility, day: dt.date) -> list["PaymentPlace"]:
        """The places that take ``facility``'s fees, those open on ``day`` first (S-PAY-4): what a counter's payment
        form offers, so that the place chosen by default is one that can take the money today."""
        places = list(self.taking_fees_of(facility).with_closed_days())
        for place in places:
            place.open_on_day = place.is_open(day)
        return sorted(places, key=lambda place: not place.open_on_day)


class PaymentPlace(Bilingual):
    """A counter that takes fees (S-PAY-4, T-PAY-1, K-USE-2), with its own closed days and opening hours.

    ``facilities`` empty: it takes the fees of every facility of its municipality; otherwise only of those listed
    (S-PAY-4: 白井運動公園's fees only at 白井運動公園; the other tennis courts' at the city office and 白井運動公園;
    the other grounds' also at the centers). Closed days come from its closure calendar (X-2: weekdays, national
    holidays, "Monday, or the next working day when Monday is a holiday", the year end); ``opens_at``/``closes_at``
    are the counter's hours (受付時間) where the municipality states them, shown to residents and clerks."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="payment_places", verbose_name=_("municipality")
    )
    closure_calendar = models.ForeignKey(
        "facilities.ClosureCalendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closure calendar"),
        help_text=_("The place's closed days. Empty: open every day."),
    )
    opens_at = models.TimeField(_("opens at"), null=True, blank=True, help_text=_("Empty: no hours stated."))
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    facilities = models.ManyToManyField(
        Facility,
        blank=True,
        related_name="payment_places",
        verbose_name=_("facilities whose fees it takes"),
        help_text=_("Empty: every facility of the municipality."),
    )
    rule_id = models.CharField(_("rule id"), max_length=20, blank=True)

    objects = PaymentPlaceQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "name_ja"]
        verbose_name = _("payment place")
        verbose_name_plural = _("payment places")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name_ja"], name="payment_place_unique_name"),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True, closes_at__isnull=True) | Q(closes_at__gt=models.F("opens_at")),
                name="payment_place_hours_in_order",
            ),
        ]

    def takes_fees_of(self, facility: Facility) -> bool:
        return PaymentPlace.objects.taking_fees_of(facility).filter(pk=self.pk).exists()

    def closing_rule(self, day: dt.date):
        """The closure rule that closes the place on ``day`` (its closed days, X-2), or None when it is open."""
        from facilities import calendars

        if self.closure_calendar_id is None:
            return None
        return calendars.closing_rule(self.closure_calendar.rules.all(), day)

    def is_open(self, day: dt.date) -> bool:
        return self.closing_rule(day) is None

    def label_on(self, day: dt.date) -> str:
        """The place as a payment form lists it: name, hours, and whether it is closed on ``day``."""
        label = f"{self.name} {self.hours}".strip()
        if not self.is_open(day):
            label = _("%(place)s — closed today") % {"place": label}
        return label

    @property
    def hours(self) -> str:
        """“08:30–17:15”, or "" when the municipality states no hours."""
        if self.opens_at is None or self.closes_at is None:
            return ""
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"

    def closed_days(self) -> list[str]:
        """The closed days in words, in the current language (“Every Monday (…)”, “National holidays”, …)."""
        if self.closure_calendar_id is None:
            return []
        return [rule.describe() for rule in self.closure_calendar.rules.all()]

    def clean(self):
        errors = {}
        if (
            self.closure_calendar_id
            and self.municipality_id
            and self.closure_calendar.municipality_id != self.municipality_id
        ):
            errors["closure_calendar"] = _("This belongs to another municipality.")
        if (self.opens_at is None) != (self.closes_at is None):
            errors["closes_at"] = _("Give both the opening and the closing time, or neither.")
        elif self.opens_at is not None and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("Closing time must be after opening time.")
        if errors:
            raise ValidationError(errors)


class PermitCounter(models.Model):
    """The last use-permit number given per municipality and year; its row is locked FOR UPDATE while a number is
    taken, so two counters never hand out the same number (fees.services.next_permit_number)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "year"], name="permit_counter_unique_year")]

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}: {self.last}"


class CombinedPayment(models.Model):
    """One payment at the counter for several bookings of one person (issue #22, item 3): the clerk takes the
    total once, writes one receipt, and hands over one use permit listing every slot.

    Each booking still has its own ``Payment`` (its share: the booking's fee), so a later cancellation or change
    of one booking refunds that booking alone (S-CAN-2, T-CAN-1); the shares point here and carry this payment's
    receipt and permit number, and each booking's ``Permit`` carries the same number."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveIntegerField(_("amount (yen)"))
    receipt_number = models.CharField(_("receipt number"), max_length=40)
    place = models.ForeignKey(
        PaymentPlace, on_delete=models.PROTECT, related_name="combined_payments", verbose_name=_("payment place")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    permit_number = models.CharField(_("permit number"), max_length=30)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("combined payment")
        verbose_name_plural = _("combined payments")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "permit_number"], name="combined_payment_unique_permit")
        ]

    def __str__(self) -> str:
        return f"{self.permit_number} {self.amount:,}円"


class Permit(models.Model):
    """The use permit of a booking (利用承認書 K-USE-1, 施設使用許可書 T-PAY-1, 許可証 S-PAY-1): it belongs to the
    booking, not to a payment. A confirmed booking has one whatever its fee, a fee-exempt group's too (K-USE-2),
    numbered per municipality and fiscal year ("K-2027-000012"). Where payment is what confirms a booking (S-PAY-1,
    T-PAY-1) the permit is issued with the payment and its number is the payment's ``permit_number``; elsewhere it
    is issued the first time it is shown (fees.services.permit_for). One per booking: the database refuses a second."""

    reservation = models.OneToOneField(
        "reservations.Reservation", on_delete=models.PROTECT, related_name="permit", verbose_name=_("reservation")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    number = models.CharField(_("permit number"), max_length=30)
    issued_at = models.DateTimeField(_("issued at"))
    combined = models.ForeignKey(
        CombinedPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="permits",
        verbose_name=_("combined payment"),
        help_text=_("One permit for several bookings paid together: they share its number."),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("use permit")
        verbose_name_plural = _("use permits")
        constraints = [
            # The bookings of one combined payment share one number (one permit listing every slot).
            models.UniqueConstraint(
                fields=["municipality", "number"], condition=Q(combined__isnull=True), name="permit_unique_number"
            )
        ]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    """The fee of one booking paid at a counter (S-PAY-1, T-PAY-1): the booking is confirmed and a use permit
    (利用許可書 / 施設使用許可書) numbered. One payment per booking: the database refuses a second."""

    class Method(models.TextChoices):
        CASH = "cash", _("Cash")
        CARRIED = "carried", _("Carried over from an earlier booking")

    class Relation(models.TextChoices):
        SELF = "", _("The registered user")
        FAMILY = "family", _("Family member (proxy)")
        MEMBER = "member", _("Member of the group")

    reservation = models.OneToOneField(
        "reservations.Reservation", on_delete=models.PROTECT, related_name="payment", verbose_name=_("reservation")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="payments", verbose_name=_("municipality")
    )
    amount = models.PositiveIntegerField(_("amount (yen)"))
    method = models.CharField(_("method"), max_length=20, choices=Method.choices, default=Method.CASH)
    receipt_number = models.CharField(_("receipt number"), max_length=40)
    payer_name = models.CharField(_("paid by"), max_length=120, blank=True, help_text=_("Empty: the registered user."))
    payer_relation = models.CharField(
        _("payer"),
        max_length=20,
        choices=Relation.choices,
        blank=True,
        help_text=_("A family member may pay for the registered user (S-REG-5)."),
    )
    place = models.ForeignKey(
        PaymentPlace, on_delete=models.PROTECT, related_name="payments", verbose_name=_("payment place")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    permit_number = models.CharField(_("permit number"), max_length=30)
    carried_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carried_to",
        verbose_name=_("carried over from"),
        help_text=_(
            "The payment of the booking this one replaced (a change at the counter, or a transfer after rain or heat, "
            "S-WX-1)."
        ),
    )
    combined = models.ForeignKey(
        CombinedPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("combined payment"),
        help_text=_("This booking's share of one payment for several bookings (one receipt, one permit)."),
    )
    carried_amount = models.PositiveIntegerField(
        _("carried over (yen)"),
        default=0,
        help_text=_("The part of the amount paid earlier for the replaced booking: not taken now."),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "permit_number"],
                condition=Q(combined__isnull=True),
                name="payment_unique_permit_number",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(carried_amount__lte=models.F("amount")), name="payment_carried_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(carried_amount=0) | Q(carried_from__isnull=False), name="payment_carried_has_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permit_number} {self.amount:,}円"

    @property
    def taken(self) -> int:
        """Yen taken at the counter for this payment (what the day's takings count)."""
        return self.amount - self.carried_amount


class Refund(models.Model):
    """Money paid back on one payment (S-CAN-2, T-CAN-1/2, S-WX-1, or the difference of a cheaper change).

    At most one refund per payment, and never more than was paid: ``paid`` is the payment's amount, copied when
    the refund is recorded under the payment's row lock, and the database checks ``amount <= paid - carried``
    (``carried``: the part of the payment moved on to a replacing booking)."""

    class Cause(models.TextChoices):
        OWN = "own", _("The user's own reason")
        WEATHER = "weather", _("Weather (rain, heat, warnings)")
        FACILITY = "facility", _("Facility management")
        CHANGE = "change", _("Difference of a change to a cheaper booking")

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund", verbose_name=_("payment"))
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("municipality")
    )
    paid = models.PositiveIntegerField(_("paid (yen)"))
    carried = models.PositiveIntegerField(_("carried over to the new booking (yen)"), default=0)
    amount = models.PositiveIntegerField(_("refund (yen)"))
    percent = models.PositiveSmallIntegerField(_("percent"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    rule_id = models.CharField(_("rule id"), max_length=20, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    place = models.ForeignKey(
        PaymentPlace,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("paid back at"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__lte=models.F("paid") - models.F("carried")), name="refund_within_paid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment.permit_number} −{self.amount:,}円"


class WeatherClaim(models.Model):
    """A paid booking that rain or heat (WBGT ≥ 31) prevented (S-WX-1): the user may transfer it (振替) to
    another slot within one year of the use date without paying again, or, when no transfer is made, take a
    full refund within five years. Not granted when the facility was used for an hour or more."""

    class Kind(models.TextChoices):
        RAIN = "rain", _("Rained off")
        HEAT = "heat", _("Stopped for heat (WBGT 31 or more)")

    reservation = models.OneToOneField(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        related_name="weather_claim",
        verbose_name=_("reservation"),
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="+", verbose_name=_("municipality")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("marked by")
    )
    marked_at = models.DateTimeField(_("marked at"))
    transfer_until = models.DateField(_("transfer possible until"))
    refund_until = models.DateField(_("refund possible until"))
    transferred_to = models.OneToOneField(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transferred_from_claim",
        verbose_name=_("transferred to"),
    )
    refund = models.OneToOneField(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("refund")
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-marked_at", "-id"]
        verbose_name = _("rain or heat stop")
        verbose_name_plural = _("rain or heat stops")
        constraints = [
            models.CheckConstraint(
                condition=Q(transferred_to__isnull=True) | Q(refund__isnull=True),
                name="weather_claim_transfer_or_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reservation}"

    @property
    def is_open(self) -> bool:
        return self.transferred_to_id is None and self.refund_id is None


class WeatherPolicy(models.Model):
    """Whether and how a municipality makes good a booking that rain or heat prevented (S-WX-1), as data: the
    transfer period, the refund period, and the use after which nothing is made good. No row: no such scheme."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="weather_policy", verbose_name=_("municipality")
    )
    transfer_months = models.PositiveSmallIntegerField(
        _("transfer within (months after the use date)"),
        default=12,
        validators=[MinValueValidator(1, _("Enter at least 1 month."))],
    )
    refund_years = models.PositiveSmallIntegerField(
        _("refund claim open for (years after the use date)"),
        default=5,
        validators=[MinValueValidator(1, _("Enter at least 1 year."))],
    )
    used_minutes_limit = models.PositiveSmallIntegerField(
        _("not made good after this much use (minutes)"),
        default=60,
        help_text=_("S-WX-1: no transfer if the facility was used for an hour or more."),
    )
    rule_id = models.CharField(_("rule id"), max_length=20, default="S-WX-1")

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("rain and heat policy")
        verbose_name_plural = _("rain and heat policies")

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.transfer_months} / {self.refund_years}"
