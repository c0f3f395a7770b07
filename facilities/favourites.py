"""Favourite facilities (issue #8 item 1): a resident stars a facility; the portal's home and municipality pages
show their favourites first, each with quick links to its units' availability.

Reads take the user (and, on a municipality's pages, the municipality) explicitly; the one write is a service
in a transaction. Starring is the user's own data, not a staff action: it is not audited.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Prefetch

from config import clock

from .models import Facility, FavouriteFacility, Municipality, Unit


@dataclass
class Favourites:
    """A user's favourites as a page shows them: the facilities (with their active units) and their ids."""

    facilities: list[Facility] = field(default_factory=list)

    @property
    def ids(self) -> set[int]:
        return {facility.pk for facility in self.facilities}

    def __bool__(self) -> bool:
        return bool(self.facilities)


def favourites_of(*, user, municipality: Municipality | None = None) -> Favourites:
    """The user's favourite facilities, in the order they were starred; only ``municipality``'s when given.
    Three queries (favourites with facility and municipality, units), none for an anonymous visitor."""
    if user is None or not user.is_authenticated:
        return Favourites()
    rows = FavouriteFacility.objects.filter(user=user)
    if municipality is not None:
        rows = rows.of(municipality)
    facility_ids = list(rows.order_by("created_at", "id").values_list("facility_id", flat=True))
    if not facility_ids:
        return Favourites()
    facilities = {
        f.pk: f
        for f in Facility.objects.filter(pk__in=facility_ids)
        .select_related("municipality")
        .prefetch_related(
            Prefetch("units", queryset=Unit.objects.filter(is_active=True).order_by("sort_order", "code"))
        )
    }
    return Favourites([facilities[pk] for pk in facility_ids if pk in facilities])


def is_favourite(*, user, facility: Facility) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return FavouriteFacility.objects.of(facility.municipality_id).filter(user=user, facility=facility).exists()


def set_favourite(*, user, facility: Facility, starred: bool) -> bool:
    """Star (``starred=True``) or unstar the facility for ``user``; idempotent. Returns whether anything changed."""
    if not starred:
        deleted, _per_model = (
            FavouriteFacility.objects.of(facility.municipality_id).filter(user=user, facility=facility).delete()
        )
        return bool(deleted)
    try:
        with transaction.atomic():
            if FavouriteFacility.objects.filter(user=user, facility=facility).exists():
                return False
            FavouriteFacility.objects.create(user=user, facility=facility, created_at=clock.now())
    except IntegrityError:  # the same form sent twice at once: the unique constraint kept one row
        return False
    return True
