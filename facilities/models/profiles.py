"""Rule profiles as data: a municipality's booking windows, limits, channels, payment and cancellation rules,
and the booking states and channels they speak of (the rules module, reservations/rules.py, reads them)."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config import clock
from facilities import daterules

from .catalogue import Facility, Unit
from .tenants import Municipality, TenantQuerySet, localized


class Channel(models.TextChoices):
    ONLINE = "online", _("Online")
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("By telephone")


class Phase(models.TextChoices):
    LOTTERY = "lottery", _("Lottery")
    FIRST_COME = "first_come", _("First come, first served")
    LAST_MINUTE = "last_minute", _("Last minute")


class BookingState(models.TextChoices):
    PROVISIONAL = "provisional", _("Provisional")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    CANCELLED = "cancelled", _("Cancelled")
    # A lottery win the winner must still confirm (S-LOT-5: 当選結果を確定する makes it a provisional booking;
    # unconfirmed wins are purged at the end of the confirmation window). It holds its slot and counts toward the
    # monthly limits that count wins (S-FC-4), but it is not a booking yet: no fee, no payment, no cancellation
    # as a booking (the winner forfeits it on the lottery page), never cancelled as unpaid.
    WON = "won", _("Won — awaiting confirmation")


# States that hold their slots and count as the user's bookings in lists and limits.
ACTIVE_STATES = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT, BookingState.CONFIRMED, BookingState.WON)


# Active states of a booking proper: the ones a fee, a payment, a change or a cancellation applies to.
BOOKING_STATES = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT, BookingState.CONFIRMED)


def validate_date_rule(value: str) -> None:
    daterules.parse(value)


def validate_date_rule_or_blank(value: str) -> None:
    if value:
        validate_date_rule(value)


class ValidityKind(models.TextChoices):
    """How a registration's last valid day follows from its registration or renewal day (accounts/registration.py)."""

    YEARS_FROM_ISSUE = "years_from_issue", _("A number of years from issue (K-REG-3, T-REG-1)")
    UNTIL_MARCH_31_NEXT_YEAR = "until_march_31_next_year", _("Until March 31 of the following year (S-REG-3)")


class RegistrationKind(models.TextChoices):
    """What a registration of the municipality is (accounts/registering.py): the form and the checks follow it."""

    GROUP = "group", _("Groups, registered at the counter (K-REG-1)")
    INDIVIDUAL = "individual", _("Individuals, identity checked at the counter (S-REG-1)")
    CARD_HOLDER = "card_holder", _("Card holders, with a card number (T-REG-1)")


class Question(models.TextChoices):
    """Whether the booking form asks something (RuleProfile.ask_purpose, ask_headcount)."""

    OPTIONAL = "optional", _("Asked, may be left empty")
    REQUIRED = "required", _("Asked, required")


class RuleProfile(models.Model):
    """One municipality's booking rules: its windows and limits are rows below; this row holds the rest."""

    municipality = models.OneToOneField(
        Municipality, on_delete=models.CASCADE, related_name="rule_profile", verbose_name=_("municipality")
    )
    confirm_after_booking_day = models.BooleanField(
        _("provisional bookings become confirmed at midnight after the booking day"),
        default=False,
        help_text=_("Otherwise a provisional booking is confirmed by its payment."),
    )
    confirm_rule_id = models.CharField(_("rule id of the confirmation"), max_length=20, blank=True)
    online_cancellable_states = models.CharField(
        _("states a resident may cancel online"),
        max_length=100,
        blank=True,
        help_text=_("Comma-separated: provisional, awaiting_payment, confirmed. Empty: only at the counter."),
    )
    online_cancel_rule_id = models.CharField(
        _("rule id cited when online cancellation is refused"), max_length=20, blank=True
    )
    unpaid_rule_id = models.CharField(_("rule id of the cancellation of unpaid bookings"), max_length=20, blank=True)
    registration_rule_id = models.CharField(
        _("rule id cited when a registration has expired"), max_length=20, blank=True
    )
    unavailable_channel_rule_id = models.CharField(
        _("rule id cited for a channel without any window"),
        max_length=20,
        blank=True,
        help_text=_("The rule that says a channel is not offered (e.g. no telephone bookings)."),
    )
    # Registration validity and renewal (K-REG-3, S-REG-3, T-REG-1); computed by accounts/registration.py.
    validity_kind = models.CharField(
        _("registration validity"),
        max_length=30,
        choices=ValidityKind.choices,
        blank=True,
        help_text=_("How long a registration or renewal is valid. Empty: registrations do not expire."),
    )
    validity_years = models.PositiveSmallIntegerField(
        _("years of validity"),
        default=3,
        help_text=_(
            "For “years from issue”: K-REG-3 and T-REG-1 say 3. Also the period a rolling renewal looks back over."
        ),
    )
    renewal_opens_months_before = models.PositiveSmallIntegerField(
        _("renewal opens months before expiry"),
        null=True,
        blank=True,
        help_text=_("T-REG-1: 3. Empty: a registration may be renewed at any time."),
    )
    rolling_renewal_when_used = models.BooleanField(
        _("rolling renewal when a room was used"),
        default=False,
        help_text=_(
            "K-REG-3: a registration that booked and used a room within its period continues for another year."
        ),
    )
    renewal_rule_id = models.CharField(_("rule id cited for renewal"), max_length=20, blank=True)
    grant_rule_id = models.CharField(
        _("rule id of staff grants outside the booking windows"),
        max_length=20,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "The rule under which staff may grant a booking outside the windows (for a public event, with a recorded "
            "reason). The counter's override form fills it in; empty: the clerk types the rule cited, if any."
        ),
    )
    walk_in_rule_id = models.CharField(
        _("rule id of counter bookings for unregistered persons"),
        max_length=20,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "S-FC-3: the counter books for a person without registration (name and phone), paid at once. "
            "Empty: every booking needs a registration (the registration rule id is cited)."
        ),
    )
    # T-USE-1: sports units may start before the opening hours when staff approve it in advance (an override at
    # the counter, reservations.services.book_early_start). Empty time: no early starts in this municipality.
    early_start_from = models.TimeField(
        _("early start from"),
        null=True,
        blank=True,
        help_text=_("T-USE-1: 07:00. Staff may grant a booking that starts this early. Empty: no early starts."),
    )
    early_start_unit_kinds = models.CharField(
        _("unit kinds that may start early"),
        max_length=100,
        blank=True,
        default="",
        db_default="",
        help_text=_("Comma-separated unit kinds: gym, court, ground (T-USE-1: sports facilities)."),
    )
    early_start_rule_id = models.CharField(
        _("rule id of early starts"),
        max_length=20,
        blank=True,
        default="",
        db_default="",
        help_text=_("T-USE-1."),
    )
    permit_title = models.CharField(
        _("title of the use permit"),
        max_length=40,
        blank=True,
        help_text=_(
            "As the municipality names it: 利用承認書 (K-USE-1), 施設使用許可書 (T-PAY-1). Empty: “Use permit”."
        ),
    )
    permit_after_payment = models.BooleanField(
        _("the use permit only once the fee is paid"),
        default=False,
        db_default=False,
        help_text=_(
            "S-PAY-1, T-PAY-1: a booking with a fee to pay gets its permit with the payment. Off: every "
            "confirmed booking gets its permit, the fee being paid separately (K-USE-1, K-USE-2)."
        ),
    )
    slot_rule_id = models.CharField(
        _("rule id of the slots and hours"),
        max_length=20,
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "Cited when a requested time is not a slot of the unit: S-HRS-1 (2-hour slots within the hours), "
            "T-USE-1 (whole hours from 09:00 to 22:00). Empty: “slot_invalid”."
        ),
    )
    # Registration (issue #6 item 1; accounts/registering.py reads these). Empty numbers: not checked.
    registration_kind = models.CharField(
        _("kind of registration"),
        max_length=20,
        choices=RegistrationKind.choices,
        blank=True,
        help_text=_("Empty: staff cannot register accounts on the portal."),
    )
    account_rule_id = models.CharField(
        _("rule id of registration"), max_length=20, blank=True, help_text=_("K-REG-1, S-REG-1, T-REG-1.")
    )
    pin_digits = models.PositiveSmallIntegerField(
        _("password is a PIN of this many digits"),
        null=True,
        blank=True,
        help_text=_("K-REG-1: 4. Empty: ordinary passwords (the password validators apply)."),
    )
    online_registration_requests = models.BooleanField(
        _("registration may be requested online"),
        default=False,
        help_text=_("S-REG-1: the request stays pending until staff check the identity at the counter."),
    )
    group_min_members = models.PositiveSmallIntegerField(
        _("groups: at least this many members"), null=True, blank=True, help_text=_("K-REG-2: 5.")
    )
    group_min_resident_percent = models.PositiveSmallIntegerField(
        _("groups: at least this percentage of residents"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("K-REG-2: 50 (half or more live, work or study here)."),
    )
    group_representative_resident = models.BooleanField(
        _("groups: the representative is a resident"), default=False, help_text=_("K-REG-2.")
    )
    group_max_monthly_fee = models.PositiveIntegerField(
        _("groups: membership fee at most (yen a month)"),
        null=True,
        blank=True,
        help_text=_("K-REG-2: 2,000, instructor fees included."),
    )
    eligibility_rule_id = models.CharField(_("rule id of group eligibility"), max_length=20, blank=True)
    min_school_grade = models.PositiveSmallIntegerField(
        _("individuals: from school grade"),
        null=True,
        blank=True,
        help_text=_("From the birth date, Japanese school years (1 = first year of elementary school). S-REG-1: 1."),
    )
    guardian_consent_until_grade = models.PositiveSmallIntegerField(
        _("individuals: guardian's consent up to school grade"),
        null=True,
        blank=True,
        help_text=_("S-REG-2: 9 (elementary and junior-high pupils)."),
    )
    student_id_required = models.BooleanField(
        _("student fee needs a checked student ID"),
        default=False,
        help_text=_("S-REG-2."),
    )
    consent_rule_id = models.CharField(_("rule id of guardian consent and student ID"), max_length=20, blank=True)
    family_proxies = models.BooleanField(_("family proxies may act for a user"), default=False, help_text=_("S-REG-5."))
    family_proxy_rule_id = models.CharField(_("rule id of family proxies"), max_length=20, blank=True)
    card_numbers = models.BooleanField(_("registrations carry a card number"), default=False, help_text=_("T-REG-1."))
    card_reissue_rule_id = models.CharField(
        _("rule id of a card re-issue"),
        max_length=20,
        blank=True,
        help_text=_("T-REG-2: a lost card withdraws the registration and issues a new one (new ID)."),
    )
    online_profile_fields = models.CharField(
        _("what users may change online"),
        max_length=100,
        blank=True,
        default="email,password,language",
        help_text=_("Comma-separated: email, password, language. The rest is changed at the counter."),
    )
    profile_change_rule_id = models.CharField(
        _("rule id of changes at the counter"), max_length=20, blank=True, help_text=_("T-REG-3.")
    )
    recovery_rule_id = models.CharField(
        _("rule id of password recovery"), max_length=20, blank=True, help_text=_("K-REG-4, T-REG-4.")
    )
    id_recovery_by_name_phone_email = models.BooleanField(
        _("user ID and password recovered by name, phone and e-mail"),
        default=False,
        help_text=_("T-REG-4."),
    )
    # What the booking form asks (issue #21 item 5): the purpose of use (利用目的), the number of people (人数)
    # and terms to accept. reservations.rules.details_refusals checks them; the confirm page and the API ask them.
    ask_purpose = models.CharField(
        _("ask the purpose of use"),
        max_length=10,
        choices=Question.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("利用目的 on the online booking form. Empty: not asked."),
    )
    ask_headcount = models.CharField(
        _("ask the number of people"),
        max_length=10,
        choices=Question.choices,
        blank=True,
        default="",
        db_default="",
        help_text=_("人数 on the online booking form. Empty: not asked."),
    )
    headcount_max = models.PositiveSmallIntegerField(
        _("at most this many people"),
        null=True,
        blank=True,
        help_text=_("The largest number a resident may enter. Empty: 999."),
    )
    terms_ja = models.TextField(
        _("terms to accept (Japanese)"),
        blank=True,
        default="",
        db_default="",
        help_text=_(
            "Shown on the booking form with a box to tick; a booking is made only when it is ticked. Empty: no terms."
        ),
    )
    terms_en = models.TextField(_("terms to accept (English)"), blank=True, default="", db_default="")

    objects = TenantQuerySet.as_manager()

    class Meta:
        verbose_name = _("rule profile")
        verbose_name_plural = _("rule profiles")

    def __str__(self) -> str:
        return str(self.municipality)

    def online_profile(self) -> set[str]:
        return {part.strip() for part in self.online_profile_fields.split(",") if part.strip()}

    def early_start_kinds(self) -> set[str]:
        return {part.strip() for part in self.early_start_unit_kinds.split(",") if part.strip()}

    @property
    def terms(self) -> str:
        """The terms in the current language (the Japanese when there is no English)."""
        return localized(self, "terms")

    @property
    def headcount_limit(self) -> int:
        return self.headcount_max or 999

    def online_cancellable(self) -> set[str]:
        return {part.strip() for part in self.online_cancellable_states.split(",") if part.strip()}

    def clean(self):
        unknown = self.online_cancellable() - set(BookingState.values)
        if unknown:
            raise ValidationError(
                {"online_cancellable_states": _("Unknown states: %(states)s") % {"states": ", ".join(sorted(unknown))}}
            )
        unknown_kinds = self.early_start_kinds() - set(Unit.Kind.values)
        if unknown_kinds:
            raise ValidationError(
                {
                    "early_start_unit_kinds": _("Unknown unit kinds: %(kinds)s")
                    % {"kinds": ", ".join(sorted(unknown_kinds))}
                }
            )


class BookingWindow(models.Model):
    """When a phase is open for a channel, relative to the use date, e.g. Kodaira first-come online
    from ``M-1/first-open 09:00`` to ``D-8 23:59`` (K-FC-1, K-FC-2)."""

    profile = models.ForeignKey(RuleProfile, on_delete=models.CASCADE, related_name="windows")
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    opens = models.CharField(pgettext_lazy("booking window", "opens"), max_length=40, validators=[validate_date_rule])
    closes = models.CharField(pgettext_lazy("booking window", "closes"), max_length=40, validators=[validate_date_rule])
    opens_rule_id = models.CharField(_("rule id of the opening"), max_length=20)
    closes_rule_id = models.CharField(_("rule id of the closing"), max_length=20)
    service_from = models.TimeField(_("daily service from"), null=True, blank=True)
    service_until = models.TimeField(
        _("daily service until"), null=True, blank=True, help_text=_("00:00 means midnight at the end of the day.")
    )
    service_rule_id = models.CharField(_("rule id of the service hours"), max_length=20, blank=True)
    facility_kinds = models.CharField(
        _("only for facility kinds"), max_length=100, blank=True, help_text=_("Comma-separated kinds; empty: all.")
    )
    excluded_facility_kinds = models.CharField(_("not for facility kinds"), max_length=100, blank=True)
    initial_state = models.CharField(
        _("state of a new booking"), max_length=20, choices=BookingState.choices[:3], default=BookingState.PROVISIONAL
    )
    pay_by = models.CharField(
        _("payment due"),
        max_length=40,
        blank=True,
        validators=[validate_date_rule_or_blank],
        help_text=_("Empty: no payment deadline. E.g. “D-7 23:59” (S-PAY-2), “B+15 23:59” (T-PAY-1)."),
    )
    pay_by_rule_id = models.CharField(_("rule id of the payment deadline"), max_length=20, blank=True)
    paid_at_booking = models.BooleanField(
        _("the fee is paid with the booking"),
        default=False,
        help_text=_(
            "Counter windows only: the booking is made only together with its payment (S-FC-3 from D-6, "
            "T-PAY-3 from D-21). The rule id is the payment deadline's."
        ),
    )

    class Meta:
        ordering = ["profile", "phase", "channel", "id"]
        verbose_name = _("booking window")
        verbose_name_plural = _("booking windows")

    def __str__(self) -> str:
        return f"{self.get_phase_display()} / {self.get_channel_display()}: {self.opens} – {self.closes}"

    def applies_to(self, facility: "Facility") -> bool:
        kinds = {k.strip() for k in self.facility_kinds.split(",") if k.strip()}
        excluded = {k.strip() for k in self.excluded_facility_kinds.split(",") if k.strip()}
        return (not kinds or facility.kind in kinds) and facility.kind not in excluded

    def clean(self):
        errors = {}
        for field in ("opens", "closes", "pay_by"):
            value = getattr(self, field)
            if value:
                try:
                    daterules.parse(value)
                except ValidationError as error:
                    errors[field] = error.messages
        if not errors:
            opens, closes = daterules.parse(self.opens), daterules.parse(self.closes)
            if opens.needs_booking_date or closes.needs_booking_date:
                errors["opens"] = _("Windows are stated relative to the use date (B… is for payment deadlines).")
            elif self._closes_before_opening(opens, closes):
                errors["closes"] = _("This window closes before it opens.")
        if (self.service_from is None) != (self.service_until is None):
            errors["service_until"] = _("Give both ends of the daily service hours, or neither.")
        if self.paid_at_booking and self.channel != Channel.COUNTER:
            errors["paid_at_booking"] = _("Only a booking made at the counter can be paid with the booking.")
        elif (
            self.service_from
            and self.service_until
            and self.service_until != dt.time(0)
            and self.service_until <= self.service_from
        ):
            errors["service_until"] = _("Daily service must end after it starts.")
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _closes_before_opening(opens, closes) -> bool:
        """Checked on sample use dates across a year, for a slot at 12:00 and a facility open every day."""
        for month in range(1, 13):
            for day in (1, 15, 28):
                use_date = dt.date(2027, month, day)
                slot_start = clock.at(use_date, dt.time(12))
                start = daterules.opens_at(opens, use_date=use_date, slot_start=slot_start)
                end = daterules.closes_at(closes, use_date=use_date, slot_start=slot_start)
                if start is not None and end is not None and end <= start:
                    return True
        return False


class BookingLimit(models.Model):
    """At most ``count`` slots per user in a scope and month of use (K-FC-3, S-FC-4)."""

    class Scope(models.TextChoices):
        MUNICIPALITY = "municipality", _("Across the municipality")
        FACILITY = "facility", _("Per facility or site")
        UNIT = "unit", _("Per unit")

    profile = models.ForeignKey(RuleProfile, on_delete=models.CASCADE, related_name="limits")
    rule_id = models.CharField(_("rule id"), max_length=20)
    phase = models.CharField(_("applies to bookings in phase"), max_length=20, choices=Phase.choices)
    scope = models.CharField(_("scope"), max_length=20, choices=Scope.choices)
    count = models.PositiveSmallIntegerField(_("slots per month of use"), validators=[MinValueValidator(1)])
    counted_origins = models.CharField(
        _("bookings that count"),
        max_length=100,
        default="first_come,lottery",
        help_text=_("Comma-separated origins, e.g. “first_come,lottery”: lottery wins count too (K-FC-3, S-FC-4)."),
    )
    lifted_from = models.CharField(
        _("no longer applies from"),
        max_length=40,
        blank=True,
        validators=[validate_date_rule_or_blank],
        help_text=_("E.g. “D-6 00:00” (S-FC-4). Empty: always applies."),
    )

    class Meta:
        ordering = ["profile", "rule_id"]
        verbose_name = _("booking limit")
        verbose_name_plural = _("booking limits")

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.count} / {self.get_scope_display()}"

    def origins(self) -> set[str]:
        return {part.strip() for part in self.counted_origins.split(",") if part.strip()}

    def clean(self):
        unknown = self.origins() - set(Phase.values)
        if unknown:
            raise ValidationError(
                {"counted_origins": _("Unknown origins: %(origins)s") % {"origins": ", ".join(sorted(unknown))}}
            )
