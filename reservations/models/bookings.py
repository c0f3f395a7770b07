"""Bookings and the slots they hold.

X-3 (a slot is never held by two bookings) is the database's job: one ``SlotHold`` row per (unit, slot start)
held by an active booking, under a unique constraint. Cancelling deletes the holds in the same transaction; the
``Reservation`` row stays as history.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config import clock
from facilities.models import ACTIVE_STATES, BookingState, Channel, Municipality, Phase, Unit


def published_q(now: dt.datetime, prefix: str = "") -> Q:
    """Bookings a resident may know about at ``now`` (K-LOT-3, S-LOT-4/5): every booking but a lottery win whose
    results are not out yet (``published_from`` after ``now``). ``prefix`` reaches the booking through a relation
    (``"reservation__"`` from a slot hold)."""
    return Q(**{f"{prefix}published_from__isnull": True}) | Q(**{f"{prefix}published_from__lte": now})


class ReservationQuerySet(models.QuerySet):
    def of(self, municipality):
        return self.filter(municipality=municipality)

    def active(self):
        return self.filter(state__in=ACTIVE_STATES)

    def visible_to_resident(self, now: dt.datetime):
        """What residents (the holder included) may see at ``now``: lottery wins only from their results moment.
        Staff screens do not filter."""
        return self.filter(published_q(now))

    def for_user(self, user):
        return self.filter(user=user)

    def starting_between(self, start: dt.datetime, end: dt.datetime):
        return self.filter(starts_at__gte=start, starts_at__lt=end)


class Reservation(models.Model):
    class CancelReason(models.TextChoices):
        USER = "user", _("Cancelled by the user")
        UNPAID = "unpaid", _("Not paid by the deadline")
        STAFF = "staff", _("Cancelled by staff")
        CHANGED = "changed", _("Changed to another slot")
        UNCONFIRMED = "unconfirmed", _("Lottery win not confirmed in time")

    class OverrideKind(models.TextChoices):
        """Why staff booked it with the booking windows skipped (services.book_override, services.block_slot)."""

        GRANT = "grant", _("Granted outside the booking windows")  # T-APP-5: a non-profit body's public event
        MAINTENANCE = "maintenance", _("Blocked for maintenance")
        MUNICIPAL_EVENT = "municipal_event", _("Blocked for a municipal event")

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("municipality")
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="reservations")
    # Empty for a walk-in (S-FC-3: a person without registration booked at the counter, paid at once): then the
    # walk-in's name and phone say who it is. Exactly one of the two (constraint below).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reservations"
    )
    # db_default: during a rolling deploy the previous release, which knows neither column, still inserts bookings.
    walk_in_name = models.CharField(
        _("name (without registration)"), max_length=120, blank=True, default="", db_default=""
    )
    walk_in_phone = models.CharField(
        _("phone (without registration)"), max_length=20, blank=True, default="", db_default=""
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    slot_count = models.PositiveSmallIntegerField(_("slots"), default=1)
    state = models.CharField(_("state"), max_length=20, choices=BookingState.choices)
    origin = models.CharField(_("origin"), max_length=20, choices=Phase.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    created_at = models.DateTimeField(_("booked at"))
    confirm_at = models.DateTimeField(_("confirmed automatically at"), null=True, blank=True)
    pay_by = models.DateTimeField(_("payment due before"), null=True, blank=True)
    pay_by_rule_id = models.CharField(max_length=20, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=20, choices=CancelReason.choices, blank=True)
    # A lottery win is known to nobody but staff before its draw's results moment (K-LOT-3, S-LOT-5): the draw
    # writes the booking and its slot hold at once, with this instant. Empty: known at once.
    published_from = models.DateTimeField(
        _("shown to residents from"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Lottery wins: the results moment of their draw. Empty: at once."),
    )
    fee = models.JSONField(
        _("fee breakdown"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Fixed when booked (fees.rules.quote): base, non-resident surcharge, lighting, exemption. Empty when "
            "the municipality has no fee table for it."
        ),
    )
    fee_total = models.PositiveIntegerField(_("fee (yen)"), null=True, blank=True, editable=False)
    changed_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changed_to",
        verbose_name=_("changed from"),
        help_text=_("The booking this one replaced when the resident changed it."),
    )
    # Counter overrides (issue #7): empty for every booking that passed the booking windows.
    override_kind = models.CharField(_("override"), max_length=20, choices=OverrideKind.choices, blank=True, default="")
    override_rule_id = models.CharField(_("rule id of the override"), max_length=20, blank=True, default="")
    override_reason = models.TextField(_("reason for the override"), blank=True, default="")
    # Asked on the booking form where the municipality's profile says so (RuleProfile.ask_purpose, ask_headcount).
    purpose = models.CharField(_("purpose of use"), max_length=200, blank=True, default="", db_default="")
    headcount = models.PositiveSmallIntegerField(_("number of people"), null=True, blank=True)

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        indexes = [
            models.Index(fields=["user", "state", "starts_at"], name="reservation_user_state_start"),
            models.Index(fields=["state", "confirm_at"], name="reservation_due_confirmation"),
            models.Index(fields=["state", "pay_by"], name="reservation_due_payment"),
            # The counter's day sheet and reports read a facility's units for a day: without it PostgreSQL may
            # scan the whole table (tests/ops/test_query_plans.py saw it choose a parallel sequential scan).
            models.Index(fields=["unit", "starts_at"], name="reservation_unit_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="reservation_ends_after_start"),
            models.CheckConstraint(
                condition=Q(state="cancelled") | Q(cancelled_at__isnull=True),
                name="reservation_cancelled_at_only_if_cancelled",
            ),
            # A registered user's booking, or a walk-in's with name and phone (S-FC-3): never both, never neither.
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(walk_in_name="") & Q(walk_in_phone=""))
                | (Q(user__isnull=True) & ~Q(walk_in_name="") & ~Q(walk_in_phone="")),
                name="reservation_user_or_walk_in",
            ),
        ]

    def __str__(self) -> str:
        # Japan time, as every page shows it (the admin's lists and log entries print this), not the stored UTC.
        return f"#{self.pk} {self.unit} {clock.localtime(self.starts_at):%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def awaiting_confirmation(self) -> bool:
        """A lottery win the winner has not confirmed yet (S-LOT-5): not a booking proper yet."""
        return self.state == BookingState.WON

    def published(self, now: dt.datetime) -> bool:
        """May a resident (its holder included) know about it at ``now``? (K-LOT-3, S-LOT-5)."""
        return self.published_from is None or self.published_from <= now

    @property
    def is_walk_in(self) -> bool:
        """Booked at the counter for a person without registration (S-FC-3): no account, a name and a phone."""
        return self.user_id is None

    @property
    def holder_name(self) -> str:
        """Who the booking is for, as lists and permits show it: the user's name, or the walk-in's."""
        if self.user_id is None:
            return self.walk_in_name
        return str(self.user)

    @property
    def holder_phone(self) -> str:
        return self.walk_in_phone if self.user_id is None else (self.user.phone or "")

    @property
    def fee_breakdown(self):
        """The fee as booked (fees.breakdown.FeeBreakdown), labels in the current language; None when unknown."""
        if not self.fee:
            return None
        from fees.rules import breakdown_from_dict

        return breakdown_from_dict(self.fee)

    @property
    def pay_by_last_minute(self):
        """The last minute in which payment is still on time (the deadline is stored as the first late instant)."""
        return self.pay_by - dt.timedelta(minutes=1) if self.pay_by else None


class SlotHoldQuerySet(models.QuerySet):
    def visible_to_resident(self, now: dt.datetime):
        """Holds residents may see at ``now``: a lottery win's hold only from its results moment; before it the
        slot reads as still in its lottery (facilities.selectors.slot_cell)."""
        return self.filter(published_q(now, "reservation__"))


class SlotHold(models.Model):
    """One slot of one unit held by an active reservation (X-3)."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="holds")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="holds")
    starts_at = models.DateTimeField()

    objects = SlotHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("held slot")
        verbose_name_plural = _("held slots")
        constraints = [models.UniqueConstraint(fields=["unit", "starts_at"], name="one_booking_per_unit_slot")]

    def __str__(self) -> str:
        return f"{self.unit} {clock.localtime(self.starts_at):%Y-%m-%d %H:%M}"


# The counter console (issue #7): overrides, key lending, use reports ----------------------------------------


class KeyLending(models.Model):
    """The key of a booked room handed out and taken back at the counter (T-USE-1: the booked time runs from key
    pick-up to key return). One per reservation; who and when on both sides."""

    reservation = models.OneToOneField(
        Reservation, on_delete=models.CASCADE, related_name="key_lending", verbose_name=_("reservation")
    )
    lent_at = models.DateTimeField(_("key lent at"))
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("key lent by")
    )
    returned_at = models.DateTimeField(_("key returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("key taken back by"),
    )

    class Meta:
        verbose_name = _("key lending")
        verbose_name_plural = _("key lendings")
        indexes = [models.Index(fields=["returned_at"], name="key_lending_open")]

    def __str__(self) -> str:
        return f"#{self.reservation_id}"


class UseReport(models.Model):
    """K-USE-1: after use, staff record the use report (利用報告書): attendance and the actual times."""

    reservation = models.OneToOneField(
        Reservation, on_delete=models.CASCADE, related_name="use_report", verbose_name=_("reservation")
    )
    attendance = models.PositiveIntegerField(_("attendance"))
    actual_start = models.DateTimeField(_("actual start"))
    actual_end = models.DateTimeField(_("actual end"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    reported_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("use report")
        verbose_name_plural = _("use reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(actual_end__gt=models.F("actual_start")), name="use_report_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.reservation_id}"
