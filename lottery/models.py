"""The monthly lottery (抽選): each municipality's lottery policy, the applications, the draw record with its
commit and reveal, the per-slot ordered results, and the results e-mails.

- ``LotteryPolicy`` — what varies per municipality (X-1), edited in the admin: draw day (K-LOT-3, S-LOT-4),
  results day, the confirmation window and purge (S-LOT-5), residents only (S-REG-4), one application per site
  and slot time (S-LOT-3), the state and payment deadline of a win, and the optional loss weighting. The
  application windows and the monthly application limits are ordinary ``BookingWindow`` and ``BookingLimit`` rows
  of phase ``lottery`` in the rule profile (K-LOT-1/2, S-LOT-1/2).
- ``Application`` — one user's application for one slot of one unit.
- ``Draw`` — one per municipality and month of use: the commit (SHA-256 of the secret seed and of the canonical
  application list), then the revealed seed and the results.
- ``DrawResult`` — for every application of a draw: where its slot came in the draw order, its rank among the
  slot's applicants and the outcome (won, lost, or passed over because the user had won an overlapping slot).
- ``ResultNotice`` — the results e-mail outbox: one row per (draw, user), marked when sent (sent once).
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from facilities.models import (
    BookingState,
    Channel,
    Municipality,
    TenantQuerySet,
    Unit,
    validate_date_rule,
    validate_date_rule_or_blank,
)


class LotteryPolicy(models.Model):
    """A municipality's lottery rules beyond its windows and limits. Dates use the vocabulary of
    ``facilities/daterules.py`` relative to the use month M: "M-2/16 00:00"."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="lottery_policy", verbose_name=_("municipality")
    )
    draw_at = models.CharField(
        _("draw runs at"),
        max_length=40,
        validators=[validate_date_rule],
        help_text=_("E.g. “M-2/16 00:00” (S-LOT-4), “M-2/20 00:00” (K-LOT-3). After the application window closes."),
    )
    draw_rule_id = models.CharField(_("rule id of the draw"), max_length=20, blank=True)
    results_from = models.CharField(
        _("results published from"),
        max_length=40,
        validators=[validate_date_rule],
        help_text=_(
            "E.g. “M-2/18 00:00” (S-LOT-5), “M-2/20 00:00” (K-LOT-3). The seed is revealed and the e-mails go out then."
        ),
    )
    results_rule_id = models.CharField(_("rule id of the results"), max_length=20, blank=True)
    confirmation_required = models.BooleanField(
        _("winners must confirm their wins"),
        default=False,
        help_text=_("Off: a win is a booking at once."),
    )
    confirm_until = models.CharField(
        _("confirmation closes after"),
        max_length=40,
        blank=True,
        validators=[validate_date_rule_or_blank],
        help_text=_(
            "E.g. “M-2/25 23:59” (S-LOT-5): confirmation is open from the results day until then; unconfirmed "
            "wins are purged at the next minute (the 26th, 00:00) and their slots become free."
        ),
    )
    confirmation_rule_id = models.CharField(_("rule id of the confirmation"), max_length=20, blank=True)
    win_state = models.CharField(
        _("state of a booking won (after confirmation, where needed)"),
        max_length=20,
        choices=BookingState.choices[:3],
        default=BookingState.CONFIRMED,
        help_text=_("Confirmed at once, or provisional until paid."),
    )
    win_rule_id = models.CharField(_("rule id of the win"), max_length=20, blank=True)
    pay_by = models.CharField(
        _("payment due"),
        max_length=40,
        blank=True,
        validators=[validate_date_rule_or_blank],
        help_text=_("Empty: no payment deadline. E.g. “D-7 23:59” (S-PAY-2)."),
    )
    pay_by_rule_id = models.CharField(_("rule id of the payment deadline"), max_length=20, blank=True)
    residents_only = models.BooleanField(
        _("residents only"), default=False, help_text=_("Non-residents use first-come booking only.")
    )
    residents_only_rule_id = models.CharField(_("rule id of “residents only”"), max_length=20, blank=True)
    one_per_site_and_time = models.BooleanField(
        _("one application per site and slot time"),
        default=False,
        help_text=_("No two applications by one person for the same site at the same time."),
    )
    one_per_site_rule_id = models.CharField(
        _("rule id of one application per site and time"), max_length=20, blank=True
    )
    loss_weighting = models.BooleanField(
        _("favour those who keep losing"),
        default=False,
        help_text=_(
            "Off by default. On: an applicant's weight is 1 + the number of consecutive earlier draws in which "
            "all their applications lost, at most the cap."
        ),
    )
    loss_weight_cap = models.PositiveSmallIntegerField(
        _("cap of consecutive losses counted"), default=3, validators=[MaxValueValidator(20)]
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("lottery policy")
        verbose_name_plural = _("lottery policies")

    def __str__(self) -> str:
        return str(self.municipality)

    def clean(self):
        from facilities import daterules

        errors = {}
        for field in ("draw_at", "results_from", "confirm_until", "pay_by"):
            value = getattr(self, field)
            if value:
                try:
                    rule = daterules.parse(value)
                except ValidationError as error:
                    errors[field] = error.messages
                    continue
                if field != "pay_by" and rule.kind != "month_day":
                    errors[field] = _("Give a day of a month before the use month, e.g. “M-2/16 00:00”.")
        if self.confirmation_required and not self.confirm_until:
            errors["confirm_until"] = _("Say until when winners may confirm.")
        if errors:
            raise ValidationError(errors)


class Application(models.Model):
    class State(models.TextChoices):
        APPLIED = "applied", _("Applied")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        CONFIRMED = "confirmed", _("Win confirmed")
        FORFEITED = "forfeited", _("Win forfeited")
        EXPIRED = "expired", _("Win not confirmed in time")

    # Few indexes on purpose: the draw rewrites a million rows' state; (municipality, month) and (user, month)
    # below serve the foreign keys too.
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="lottery_applications",
        db_index=False,
        verbose_name=_("municipality"),
    )
    month = models.DateField(_("month of use"), help_text=_("The first day of the month of use."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="lottery_applications", db_index=False
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="lottery_applications")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
        db_index=False,
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.APPLIED)
    weight = models.PositiveSmallIntegerField(
        _("weight in the draw"),
        default=1,
        help_text=_("1 unless the policy favours those who keep losing; set when the list is committed."),
    )
    language = models.CharField(_("language"), max_length=10, blank=True, help_text=_("Of the results e-mail."))
    created_at = models.DateTimeField(_("applied at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reservation = models.OneToOneField(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lottery_application",
        verbose_name=_("booking"),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "unit", "id"]
        verbose_name = _("lottery application")
        verbose_name_plural = _("lottery applications")
        indexes = [
            models.Index(fields=["municipality", "month"], name="lottery_app_draw"),
            models.Index(fields=["user", "month"], name="lottery_app_user_month"),
        ]
        constraints = [
            # One live application per user and slot (a second one would only double the chance).
            models.UniqueConstraint(
                fields=["user", "unit", "starts_at"],
                condition=Q(withdrawn_at__isnull=True),
                name="lottery_one_application_per_slot",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="lottery_app_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.unit} {self.starts_at:%Y-%m-%d %H:%M}"


class Draw(models.Model):
    """One municipality's lottery for one month of use (K-LOT-3, S-LOT-4), verifiable by commit and reveal."""

    class Status(models.TextChoices):
        OPEN = "open", _("Taking applications (seed committed)")
        COMMITTED = "committed", _("Applications closed and committed")
        DRAWN = "drawn", _("Drawn")

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="lottery_draws", verbose_name=_("municipality")
    )
    month = models.DateField(_("month of use"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    # The secret: generated with ``secrets`` when the record is made, shown only from the results day on.
    seed = models.CharField(_("seed"), max_length=64, editable=False)
    seed_sha256 = models.CharField(_("SHA-256 of the seed"), max_length=64)
    # Salt of the applicants' pseudonyms in the published list; never published.
    applicant_salt = models.CharField(max_length=64, editable=False)
    list_sha256 = models.CharField(_("SHA-256 of the application list"), max_length=64, blank=True)
    application_count = models.PositiveIntegerField(_("applications"), default=0)
    weighting = models.BooleanField(_("loss weighting"), default=False)
    weight_cap = models.PositiveSmallIntegerField(_("weight cap"), default=0)
    created_at = models.DateTimeField(_("created at"))
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    results_from = models.DateTimeField(_("results published from"), null=True, blank=True)
    purge_at = models.DateTimeField(_("unconfirmed wins purged at"), null=True, blank=True)
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True)
    notices_prepared_at = models.DateTimeField(_("results e-mails prepared at"), null=True, blank=True)
    winners = models.PositiveIntegerField(_("winners"), default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "-month"]
        verbose_name = _("lottery draw")
        verbose_name_plural = _("lottery draws")
        constraints = [models.UniqueConstraint(fields=["municipality", "month"], name="lottery_one_draw_per_month")]

    def __str__(self) -> str:
        return f"{self.municipality} {self.month:%Y-%m}"

    def seed_revealed(self, now: dt.datetime) -> bool:
        return self.status == self.Status.DRAWN and self.results_from is not None and now >= self.results_from


class DrawResult(models.Model):
    """Where one application came in its draw: staff answer "why did I lose?" from these rows."""

    class Outcome(models.TextChoices):
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        OVERLAP = "overlap", _("Passed over: already won an overlapping slot")
        UNAVAILABLE = "unavailable", _("Slot not available at the draw")

    # No database foreign-key constraints on this audit table: the draw writes a million rows in the same
    # transaction as the rows they point to, and PostgreSQL would check each reference again at commit.
    draw = models.ForeignKey(
        Draw, on_delete=models.CASCADE, related_name="results", db_index=False, db_constraint=False
    )
    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, related_name="result", db_constraint=False
    )
    slot_order = models.PositiveIntegerField(_("slot's place in the draw order"))
    position = models.PositiveIntegerField(_("rank among the slot's applicants"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        ordering = ["draw", "slot_order", "position"]
        verbose_name = _("draw result")
        verbose_name_plural = _("draw results")
        indexes = [models.Index(fields=["draw", "slot_order", "position"], name="lottery_result_order")]

    def __str__(self) -> str:
        return f"#{self.application_id} {self.get_outcome_display()}"


class ResultNotice(models.Model):
    """The results e-mail outbox (K-LOT-3): one row per draw and applicant with an address; ``sent_at`` set in
    the same transaction as the sending, so a rerun never sends twice."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="notices")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("results e-mail")
        verbose_name_plural = _("results e-mails")
        constraints = [models.UniqueConstraint(fields=["draw", "user"], name="lottery_one_notice_per_user")]

    def __str__(self) -> str:
        return f"{self.draw} {self.email}"
