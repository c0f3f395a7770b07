"""Municipalities (tenants), facilities, bookable units, slot schemes, opening hours and closure calendars.

Tenancy: every tenant-owned row carries ``municipality``. Reads go through ``selectors`` functions that take the
municipality as an explicit argument, so a query for one tenant never returns another's rows.

A package by subject: ``tenants``, ``closures``, ``catalogue``, ``profiles``, ``resident``; every name is
re-exported here, so callers import from ``facilities.models``.
"""

from .catalogue import (
    PHOTO_FORMATS,
    CatalogueVersion,
    Facility,
    FacilityPhoto,
    OpeningHours,
    SchemePeriod,
    SlotScheme,
    Unit,
    validate_photo,
)
from .closures import ORDINALS, ClosureCalendar, ClosureRule
from .profiles import (
    ACTIVE_STATES,
    BOOKING_STATES,
    BookingLimit,
    BookingState,
    BookingWindow,
    Channel,
    Phase,
    Question,
    RegistrationKind,
    RuleProfile,
    ValidityKind,
    validate_date_rule,
    validate_date_rule_or_blank,
)
from .resident import Announcement, FavouriteFacility
from .tenants import RESERVED_SLUGS, Bilingual, Municipality, TenantQuerySet, localized, validate_municipality_slug

__all__ = [
    "ACTIVE_STATES",
    "BOOKING_STATES",
    "ORDINALS",
    "PHOTO_FORMATS",
    "RESERVED_SLUGS",
    "Announcement",
    "Bilingual",
    "BookingLimit",
    "BookingState",
    "BookingWindow",
    "CatalogueVersion",
    "Channel",
    "ClosureCalendar",
    "ClosureRule",
    "Facility",
    "FacilityPhoto",
    "FavouriteFacility",
    "Municipality",
    "OpeningHours",
    "Phase",
    "Question",
    "RegistrationKind",
    "RuleProfile",
    "SchemePeriod",
    "SlotScheme",
    "TenantQuerySet",
    "Unit",
    "ValidityKind",
    "localized",
    "validate_date_rule",
    "validate_date_rule_or_blank",
    "validate_municipality_slug",
    "validate_photo",
]
