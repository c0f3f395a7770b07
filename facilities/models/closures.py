"""Closure calendars (休館日) and their rules."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .tenants import Municipality, TenantQuerySet


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
    # The note on English pages (issue #21 item 8: 毎月第1・第3火曜日 stood on the English facility page). Empty: the
    # English page gives the rule in words only (describe()).
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True, default="", db_default="")

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

    @property
    def shown_note(self) -> str:
        """The note in the page's language: ``note_en`` on English pages (nothing when it is empty), else ``note``."""
        if (get_language() or "ja").startswith("en"):
            return self.note_en
        return self.note

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
