"""What residents keep and read beside the catalogue: favourite facilities and announcements."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .catalogue import Facility
from .tenants import Municipality, TenantQuerySet, localized


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
