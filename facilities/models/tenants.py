"""Municipalities (tenants) and what every tenant row shares: bilingual names, the tenant queryset."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

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
