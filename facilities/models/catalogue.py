"""The catalogue: slot schemes, facilities and their photos, opening hours, bookable units, and the
catalogue's version (facilities.cache)."""

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .closures import ClosureCalendar
from .tenants import Bilingual, Municipality, TenantQuerySet, localized


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
