"""Municipalities (tenants), facilities, bookable units, slot schemes, opening hours and closure calendars.

Tenancy: every tenant-owned row carries ``municipality``. Reads go through ``selectors`` functions that take the
municipality as an explicit argument, so a query for one tenant never returns another's rows.
"""

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.formats import date_format
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from config import clock

# Top-level URL segments that a municipality slug must not take over.
RESERVED_SLUGS = {"admin", "accounts", "api", "i18n", "static", "media", "health", "favicon.ico"}


def validate_municipality_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("“%(slug)s” is reserved for the portal itself."), params={"slug": value})


class Bilingual(models.Model):
    """Japanese and English names; ``name`` picks the one for the current language."""

    name_ja = models.CharField(_("name (Japanese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name_ja

    @property
    def name(self) -> str:
        return localized(self, "name")


def localized(obj, field: str) -> str:
    """``obj.<field>_en`` in English when filled in, else ``obj.<field>_ja``."""
    if (get_language() or "ja").startswith("en"):
        value = getattr(obj, f"{field}_en", "")
        if value:
            return value
    return getattr(obj, f"{field}_ja", "")


class Municipality(Bilingual):
    slug = models.SlugField(_("slug"), unique=True, validators=[validate_municipality_slug])
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    address_ja = models.CharField(_("address (Japanese)"), max_length=200, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=200, blank=True)
    website = models.URLField(_("website"), blank=True)
    department_ja = models.CharField(_("department in charge (Japanese)"), max_length=120, blank=True)
    department_en = models.CharField(_("department in charge (English)"), max_length=120, blank=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    @property
    def department(self) -> str:
        return localized(self, "department")


class TenantQuerySet(models.QuerySet):
    def of(self, municipality):
        """Rows of one municipality only: the one way tenant rows are read."""
        return self.filter(municipality=municipality)


class ClosureCalendar(models.Model):
    """A set of closure rules (X-2). A facility uses one; later, payment places and key counters can too."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="closure_calendars", verbose_name=_("municipality")
    )
    name = models.CharField(_("name"), max_length=120)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "name"]
        verbose_name = _("closure calendar")
        verbose_name_plural = _("closure calendars")
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="closure_calendar_unique_name")]

    def __str__(self) -> str:
        return self.name


ORDINALS = {1: _("1st"), 2: _("2nd"), 3: _("3rd"), 4: _("4th"), 5: _("5th")}


class ClosureRule(models.Model):
    """One line of a closure calendar; ``facilities.calendars`` evaluates them."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Every week on a weekday")
        NTH_WEEKDAY = "nth_weekday", _("Nth weekday of each month")
        HOLIDAYS = "holidays", _("National holidays")
        ANNUAL = "annual", _("Every year between two dates")
        DATES = "dates", _("One-off date or date range")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    calendar = models.ForeignKey(ClosureCalendar, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, null=True, blank=True)
    weeks_of_month = models.CharField(
        _("weeks of the month"),
        max_length=20,
        blank=True,
        help_text=_("For the Nth weekday: comma-separated numbers 1–5, e.g. “1,3” for the 1st and 3rd."),
    )
    shift_if_holiday = models.BooleanField(
        _("when it falls on a national holiday, the next day that is not"),
        default=False,
        help_text=_(
            "For example: closed on Mondays, or on the next day that is not a national holiday when Monday is one."
        ),
    )
    start_month = models.PositiveSmallIntegerField(
        _("from month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    start_day = models.PositiveSmallIntegerField(
        _("from day"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    end_month = models.PositiveSmallIntegerField(
        _("to month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    end_day = models.PositiveSmallIntegerField(
        _("to day"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    start_date = models.DateField(_("from date"), null=True, blank=True)
    end_date = models.DateField(_("to date"), null=True, blank=True, help_text=_("Leave empty for a single day."))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["calendar", "kind", "id"]
        verbose_name = _("closure rule")
        verbose_name_plural = _("closure rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["weekly", "nth_weekday"]) | Q(weekday__isnull=False),
                name="closure_rule_weekday_needed",
            ),
            models.CheckConstraint(
                condition=~Q(kind="annual")
                | Q(start_month__isnull=False, start_day__isnull=False, end_month__isnull=False, end_day__isnull=False),
                name="closure_rule_annual_needs_month_days",
            ),
            models.CheckConstraint(
                condition=~Q(kind="dates") | Q(start_date__isnull=False),
                name="closure_rule_dates_needs_start",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="closure_rule_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.describe()

    def weeks(self) -> set[int]:
        return {int(part) for part in self.weeks_of_month.replace("、", ",").split(",") if part.strip()}

    def describe(self) -> str:
        """The rule in words, in the current language: “The 1st and 3rd Tuesday of each month”."""
        if self.kind == self.Kind.WEEKLY:
            text = _("Every %(weekday)s") % {"weekday": self.get_weekday_display()}
        elif self.kind == self.Kind.NTH_WEEKDAY:
            weeks = _(" and ").join(str(ORDINALS.get(n, n)) for n in sorted(self.weeks()))
            text = _("The %(weeks)s %(weekday)s of each month") % {
                "weeks": weeks,
                "weekday": self.get_weekday_display(),
            }
        elif self.kind == self.Kind.HOLIDAYS:
            return str(_("National holidays"))
        elif self.kind == self.Kind.ANNUAL:
            start = date_format(dt.date(2024, self.start_month, self.start_day), "MONTH_DAY_FORMAT")
            end = date_format(dt.date(2024, self.end_month, self.end_day), "MONTH_DAY_FORMAT")
            return _("Every year from %(start)s to %(end)s") % {"start": start, "end": end}
        elif self.end_date and self.end_date != self.start_date:
            return _("From %(start)s to %(end)s") % {
                "start": date_format(self.start_date, "DATE_FORMAT"),
                "end": date_format(self.end_date, "DATE_FORMAT"),
            }
        else:
            return date_format(self.start_date, "DATE_FORMAT")
        if self.shift_if_holiday:
            text += _(" (when that day is a national holiday, the next day that is not)")
        return text

    def clean(self):
        errors = {}
        if self.kind in (self.Kind.WEEKLY, self.Kind.NTH_WEEKDAY) and self.weekday is None:
            errors["weekday"] = _("Choose the weekday.")
        if self.kind == self.Kind.NTH_WEEKDAY:
            try:
                weeks = self.weeks()
            except ValueError:
                weeks = set()
            if not weeks or not weeks <= {1, 2, 3, 4, 5}:
                errors["weeks_of_month"] = _("Enter week numbers from 1 to 5, separated by commas.")
        if self.kind == self.Kind.ANNUAL:
            for month_field, day_field in (("start_month", "start_day"), ("end_month", "end_day")):
                month, day = getattr(self, month_field), getattr(self, day_field)
                if month is None or day is None:
                    errors[month_field] = _("Enter both month and day.")
                    continue
                try:
                    dt.date(2024, month, day)  # a leap year accepts every real month/day
                except ValueError:
                    errors[day_field] = _("This day does not exist in that month.")
        if self.kind == self.Kind.DATES:
            if self.start_date is None:
                errors["start_date"] = _("Enter the date.")
            elif self.end_date and self.end_date < self.start_date:
                errors["end_date"] = _("The end date is before the start date.")
        if errors:
            raise ValidationError(errors)


class SlotScheme(Bilingual):
    """How a unit's day is cut into bookable slots (コマ)."""

    class Kind(models.TextChoices):
        PERIODS = "periods", _("Fixed named periods")
        FIXED_LENGTH = "fixed_length", _("Fixed-length slots")
        HOURLY = "hourly", _("Whole hours, any length")

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="slot_schemes", verbose_name=_("municipality")
    )
    code = models.SlugField(_("code"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    slot_minutes = models.PositiveSmallIntegerField(
        _("slot length in minutes"),
        null=True,
        blank=True,
        help_text=_("Fixed-length slots only (e.g. 120 for two-hour slots). Hourly schemes use 60."),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "code"]
        verbose_name = _("slot scheme")
        verbose_name_plural = _("slot schemes")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "code"], name="slot_scheme_unique_code"),
            models.CheckConstraint(
                condition=~Q(kind="fixed_length") | Q(slot_minutes__gt=0),
                name="slot_scheme_fixed_needs_length",
            ),
        ]

    @property
    def allows_runs(self) -> bool:
        """Tamba (T-USE-1): a booking is a run of consecutive whole hours."""
        return self.kind == self.Kind.HOURLY

    def step(self) -> dt.timedelta:
        minutes = 60 if self.kind == self.Kind.HOURLY else (self.slot_minutes or 0)
        return dt.timedelta(minutes=minutes)

    def clean(self):
        if self.kind == self.Kind.FIXED_LENGTH and not self.slot_minutes:
            raise ValidationError({"slot_minutes": _("Fixed-length slots need a length.")})
        if self.kind == self.Kind.HOURLY and self.slot_minutes not in (None, 60):
            raise ValidationError({"slot_minutes": _("Hourly schemes are cut into 60-minute slots.")})


class SchemePeriod(Bilingual):
    """A named period of a PERIODS scheme, e.g. 午前 09:00–12:00."""

    scheme = models.ForeignKey(SlotScheme, on_delete=models.CASCADE, related_name="periods")
    starts = models.TimeField(_("starts"))
    ends = models.TimeField(_("ends"))

    class Meta:
        ordering = ["scheme", "starts"]
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        constraints = [
            models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="scheme_period_ends_after_start"),
            models.UniqueConstraint(fields=["scheme", "starts"], name="scheme_period_unique_start"),
        ]

    def clean(self):
        if self.starts and self.ends and self.ends <= self.starts:
            raise ValidationError({"ends": _("A period must end after it starts.")})


class Facility(Bilingual):
    """A building or a park: a community center, a resident center, a tennis site, a ground."""

    class Kind(models.TextChoices):
        COMMUNITY_CENTER = "community_center", _("Community center")
        RESIDENT_CENTER = "resident_center", _("Resident center")
        SCHOOL = "school", _("School facility open to the public")
        TENNIS = "tennis", _("Tennis courts")
        GROUND = "ground", _("Sports ground")

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="facilities", verbose_name=_("municipality")
    )
    code = models.SlugField(_("code"), help_text=_("Used in web addresses; unique within the municipality."))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    address_ja = models.CharField(_("address (Japanese)"), max_length=200, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    has_parking = models.BooleanField(_("has parking"), default=True)
    notes_ja = models.TextField(_("notes (Japanese)"), blank=True)
    notes_en = models.TextField(_("notes (English)"), blank=True)
    closure_calendar = models.ForeignKey(
        ClosureCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilities",
        verbose_name=_("closure calendar"),
        help_text=_("Empty: open every day."),
    )
    sort_order = models.PositiveIntegerField(_("order"), default=0)
    # The facility page's details (issue #21 item 6). Empty text is not shown; an empty yes/no means "not known",
    # which the page says, never "no".
    access_ja = models.TextField(
        _("access (Japanese)"), blank=True, default="", db_default="", help_text=_("How to get there: trains, buses.")
    )
    access_en = models.TextField(_("access (English)"), blank=True, default="", db_default="")
    parking_ja = models.CharField(
        _("parking details (Japanese)"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("E.g. 20 cars, free of charge."),
    )
    parking_en = models.CharField(_("parking details (English)"), max_length=200, blank=True, default="", db_default="")
    step_free_entrance = models.BooleanField(
        _("step-free entrance"), null=True, blank=True, help_text=_("Empty: not known.")
    )
    accessible_toilet = models.BooleanField(
        _("accessible toilet"), null=True, blank=True, help_text=_("Empty: not known.")
    )
    lift = models.BooleanField(_("lift"), null=True, blank=True, help_text=_("Empty: not known."))
    accessibility_ja = models.TextField(_("accessibility notes (Japanese)"), blank=True, default="", db_default="")
    accessibility_en = models.TextField(_("accessibility notes (English)"), blank=True, default="", db_default="")
    equipment_ja = models.TextField(
        _("equipment (Japanese)"), blank=True, default="", db_default="", help_text=_("One item per line.")
    )
    equipment_en = models.TextField(
        _("equipment (English)"), blank=True, default="", db_default="", help_text=_("One item per line.")
    )
    details_are_samples = models.BooleanField(
        _("details are samples"),
        default=False,
        db_default=False,
        help_text=_(
            "The access, parking, accessibility and equipment above are made-up demo values: the page "
            "labels them as samples."
        ),
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["municipality", "sort_order", "code"]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")
        constraints = [models.UniqueConstraint(fields=["municipality", "code"], name="facility_unique_code")]

    @property
    def address(self) -> str:
        return localized(self, "address")

    @property
    def notes(self) -> str:
        return localized(self, "notes")

    @property
    def access(self) -> str:
        return localized(self, "access")

    @property
    def parking(self) -> str:
        return localized(self, "parking")

    @property
    def accessibility(self) -> str:
        return localized(self, "accessibility")

    @property
    def equipment(self) -> list[str]:
        """The equipment list, one item per line of the text."""
        return [line.strip() for line in localized(self, "equipment").splitlines() if line.strip()]

    @property
    def map_url(self) -> str:
        """A map search for the address (a plain link, nothing embedded); empty without an address."""
        address = self.address_ja or self.address_en
        if not address:
            return ""
        return "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": address})

    @property
    def has_accessibility_facts(self) -> bool:
        return any(v is not None for v in (self.step_free_entrance, self.accessible_toilet, self.lift)) or bool(
            self.accessibility_ja or self.accessibility_en
        )

    def clean(self):
        if (
            self.closure_calendar_id
            and self.municipality_id
            and self.closure_calendar.municipality_id != self.municipality_id
        ):
            raise ValidationError({"closure_calendar": _("This calendar belongs to another municipality.")})


def validate_photo(file) -> None:
    """A facility photo is a JPEG, PNG or WebP image of at most settings.FACILITY_PHOTO_MAX_BYTES (issue #21 item 6).
    The form's ImageField has already refused files that are no image at all."""
    limit = settings.FACILITY_PHOTO_MAX_BYTES
    if file.size > limit:
        raise ValidationError(
            _("This photo is %(size)s; photos may be at most %(limit)s. Make it smaller and upload it again."),
            params={"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
            code="photo_too_big",
        )
    from PIL import Image, UnidentifiedImageError

    try:
        file.seek(0)
        with Image.open(file) as image:
            kind = image.format
    except (UnidentifiedImageError, OSError):
        kind = None
    finally:
        file.seek(0)
    if kind not in PHOTO_FORMATS:
        raise ValidationError(
            _("Photos must be JPEG, PNG or WebP images; this file is not one of them."), code="photo_type"
        )


PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}


class FacilityPhoto(models.Model):
    """A photo on the facility page (issue #21 item 6), uploaded in the admin; served from MEDIA_ROOT
    (docs/operations/deploy.md)."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(
        _("photo"),
        upload_to="facility-photos/",
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"]), validate_photo],
        help_text=_("JPEG, PNG or WebP, at most 2 MB."),
    )
    alt_ja = models.CharField(
        _("description (Japanese)"),
        max_length=200,
        help_text=_("What the photo shows, for people who cannot see it (read aloud by screen readers)."),
    )
    alt_en = models.CharField(_("description (English)"), max_length=200, blank=True)
    is_sample = models.BooleanField(_("sample"), default=False, help_text=_("A demo picture, labelled as a sample."))
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["facility", "sort_order", "id"]
        verbose_name = _("facility photo")
        verbose_name_plural = _("facility photos")

    def __str__(self) -> str:
        return self.alt_ja

    @property
    def alt(self) -> str:
        return localized(self, "alt")


class OpeningHours(models.Model):
    """Opening hours of a facility for a season of whole months (S-HRS-1: April–September, October–March).

    A season may wrap the year end (10→3). Months that no season covers are closed.
    """

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="opening_hours")
    first_month = models.PositiveSmallIntegerField(
        _("first month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    last_month = models.PositiveSmallIntegerField(
        _("last month"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["facility", "first_month"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="opening_hours_close_after_open"),
            models.CheckConstraint(
                condition=Q(first_month__gte=1, first_month__lte=12, last_month__gte=1, last_month__lte=12),
                name="opening_hours_months_valid",
            ),
            models.UniqueConstraint(fields=["facility", "first_month"], name="opening_hours_unique_season_start"),
        ]

    def __str__(self) -> str:
        return f"{self.first_month}–{self.last_month}: {self.opens:%H:%M}–{self.closes:%H:%M}"

    def months(self) -> set[int]:
        if self.first_month <= self.last_month:
            return set(range(self.first_month, self.last_month + 1))
        return set(range(self.first_month, 13)) | set(range(1, self.last_month + 1))

    def clean(self):
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": _("Closing time must be after opening time.")})
        if self.facility_id and self.first_month and self.last_month:
            others = OpeningHours.objects.filter(facility_id=self.facility_id).exclude(pk=self.pk)
            overlap = self.months() & set().union(*(other.months() for other in others))
            if overlap:
                raise ValidationError(
                    _("These months overlap another season of this facility: %(months)s."),
                    params={"months": ", ".join(str(m) for m in sorted(overlap))},
                )


class Unit(Bilingual):
    """What is booked: a room, one tennis court, one ground."""

    class Kind(models.TextChoices):
        ROOM = "room", _("Room")
        HALL = "hall", _("Hall")
        GYM = "gym", _("Gymnasium")
        COURT = "court", _("Tennis court")
        GROUND = "ground", _("Ground")

    class Surface(models.TextChoices):
        NONE = "", _("—")
        ARTIFICIAL_TURF = "artificial_turf", _("Artificial turf")
        CLAY = "clay", _("Clay")
        HARD = "hard", _("Hard court")
        DIRT = "dirt", _("Dirt")
        WOOD = "wood", _("Wooden floor")

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="units", verbose_name=_("facility"))
    # Copied from the facility on save, so tenant scoping is one filter on this table.
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="units", editable=False, verbose_name=_("municipality")
    )
    code = models.SlugField(_("code"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    capacity = models.PositiveIntegerField(_("capacity (people)"), null=True, blank=True)
    surface = models.CharField(_("surface"), max_length=20, choices=Surface.choices, blank=True)
    has_night_lights = models.BooleanField(_("night lights"), default=False)
    features_ja = models.CharField(_("features (Japanese)"), max_length=300, blank=True)
    features_en = models.CharField(_("features (English)"), max_length=300, blank=True)
    slot_scheme = models.ForeignKey(
        SlotScheme, on_delete=models.PROTECT, related_name="units", verbose_name=_("slot scheme")
    )
    is_active = models.BooleanField(_("bookable"), default=True)
    sort_order = models.PositiveIntegerField(_("order"), default=0)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["facility", "sort_order", "code"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [models.UniqueConstraint(fields=["facility", "code"], name="unit_unique_code_per_facility")]

    def save(self, *args, **kwargs):
        self.municipality_id = self.facility.municipality_id
        super().save(*args, **kwargs)

    @property
    def features(self) -> str:
        return localized(self, "features")

    def clean(self):
        if (
            self.facility_id
            and self.slot_scheme_id
            and self.slot_scheme.municipality_id != self.facility.municipality_id
        ):
            raise ValidationError({"slot_scheme": _("This slot scheme belongs to another municipality.")})


# Rule profiles (X-1) ------------------------------------------------------------------------------------------


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
    from . import daterules

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
            "T-APP-5: staff may grant a booking outside the windows for a public event, with a recorded reason. "
            "The counter's override form fills it in; empty: the clerk types the rule cited, if any."
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
        from . import daterules

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
        from . import daterules

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


class CatalogueVersion(models.Model):
    """One row whose number goes up whenever facility or rule data changes (facilities.cache).

    Per-process caches of units and rule profiles compare it — one primary-key read per request — so a change made
    in the admin through any web worker reaches every worker at once.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("catalogue version")

    def __str__(self) -> str:
        return str(self.version)


class FavouriteFacility(models.Model):
    """A facility a resident starred (issue #8 item 1): shown first on the portal's home and municipality pages,
    with quick links to its units' availability. ``municipality`` is copied from the facility on save, so reads
    are one tenant filter like every other tenant row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourite_facilities", verbose_name=_("user")
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="favourites", verbose_name=_("facility")
    )
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="+", editable=False, verbose_name=_("municipality")
    )
    created_at = models.DateTimeField(_("starred at"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("favourite facility")
        verbose_name_plural = _("favourite facilities")
        constraints = [models.UniqueConstraint(fields=["user", "facility"], name="favourite_facility_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.facility}"

    def save(self, *args, **kwargs):
        self.municipality_id = self.facility.municipality_id
        super().save(*args, **kwargs)


class Announcement(models.Model):
    """A notice on the portal (issue #7 item 4), e.g. a maintenance notice: one municipality's, or site-wide when
    ``municipality`` is empty (only the operator writes those). Shown from ``shown_from`` until just before
    ``shown_until`` (half-open, like slots); ``title``/``body`` pick the English text when the page is in English
    and it is filled in, else the Japanese. Not part of the catalogue cache: the pages read it with one query."""

    class Level(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.CASCADE,
        related_name="announcements",
        null=True,
        blank=True,
        verbose_name=_("municipality"),
        help_text=_("Empty: shown on every municipality's pages and the portal's home page."),
    )
    title_ja = models.CharField(_("title (Japanese)"), max_length=120)
    title_en = models.CharField(_("title (English)"), max_length=120, blank=True)
    body_ja = models.TextField(_("text (Japanese)"), blank=True)
    body_en = models.TextField(_("text (English)"), blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, default=Level.INFO)
    shown_from = models.DateTimeField(_("shown from"))
    shown_until = models.DateTimeField(_("shown until"), null=True, blank=True, help_text=_("Empty: until removed."))

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-shown_from", "id"]
        verbose_name = _("announcement")
        verbose_name_plural = _("announcements")
        indexes = [models.Index(fields=["shown_from"], name="announcement_shown_from")]
        constraints = [
            models.CheckConstraint(
                condition=Q(shown_until__isnull=True) | Q(shown_until__gt=models.F("shown_from")),
                name="announcement_until_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.title_ja

    @property
    def title(self) -> str:
        return localized(self, "title")

    @property
    def body(self) -> str:
        return localized(self, "body")

    def clean(self):
        if self.shown_from and self.shown_until and self.shown_until <= self.shown_from:
            raise ValidationError({"shown_until": _("The end must come after the start.")})
