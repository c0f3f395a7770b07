"""Favourite facilities in the JSON API (issue #19 item 7): the star of the facility pages (issue #8 item 1).
Thin: ``facilities.favourites`` reads and writes, as the pages' star form (facilities/search_views.favourite) and
the favourites list of the home and municipality pages (templatetags/favourites.py) do.

As on the pages, favourites are not tied to the account's own municipality: a Shiroi resident may star a Tamba
hall, and the portal's home page lists the favourites of every municipality. Each municipality's address lists
and changes that municipality's only; a facility of another municipality is a 404 there. Staff accounts get the
API's 403 ``staff_account``.
"""

from typing import Annotated

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict

from accounts.auth import API_AUTH, api_user
from reservations import rules
from reservations.api import ERRORS, POST_ERRORS, SLUG, ApiError, Muni, _municipality

from . import favourites, selectors
from .models import Facility, Municipality

favourite_router = Router(tags=["favourites"], auth=API_AUTH)

FACILITY_CODE = {"pattern": SLUG.pattern, "maxLength": 50}


class FavouriteUnitOut(Schema):
    id: int = Field(description="For /units/{unit_id}/availability.")
    code: str
    name_ja: str
    name_en: str
    kind: str


class FavouriteOut(Schema):
    municipality: str
    code: str = Field(description="The facility's code (GET /{muni}/facilities).")
    name_ja: str
    name_en: str
    units: list[FavouriteUnitOut] = Field(description="Its bookable units, as the quick links of the pages.")


class FavouriteIn(BaseModel):
    """The facility to star, by its code."""

    model_config = ConfigDict(extra="forbid")

    facility_code: str = Field(
        pattern=SLUG.pattern, max_length=50, description="e.g. nakajima (GET /{muni}/facilities)."
    )


# Not enforced by pydantic, like Muni: any other text is a 404 (_facility), as an unknown code is.
FacilityCode = Annotated[str, Field(description="The facility's code.", json_schema_extra=FACILITY_CODE)]


def _resident_account(request):
    """A resident account of any municipality (as the pages' star); staff: 403 ``staff_account``."""
    user = api_user(request)
    refusal = rules.account_refusal(user, user.municipality_id)  # the municipality check is not asked here
    if refusal is not None:
        raise ApiError(403, refusal.code, refusal.message)
    return user


def _facility(municipality: Municipality, code: str) -> Facility:
    if not SLUG.fullmatch(code):
        raise Http404(_("This municipality has no such facility."))
    return selectors.get_facility(municipality=municipality, code=code)


def _favourite(facility: Facility, municipality: Municipality) -> dict:
    return {
        "municipality": municipality.slug,
        "code": facility.code,
        "name_ja": facility.name_ja,
        "name_en": facility.name_en,
        "units": [
            {"id": u.pk, "code": u.code, "name_ja": u.name_ja, "name_en": u.name_en, "kind": u.kind}
            for u in facility.units.all()
        ],
    }


@favourite_router.get(
    "/{muni}/favourites",
    response={200: list[FavouriteOut], **ERRORS},
    summary="My favourite facilities",
    description="Your favourite facilities of this municipality, in the order you starred them, each with its units "
    "(as on the municipality's page). Any resident account; a staff account gets 403 `staff_account`.",
)
def list_favourites(request, muni: Muni):
    municipality = _municipality(muni)
    user = _resident_account(request)
    return [
        _favourite(f, municipality) for f in favourites.favourites_of(user=user, municipality=municipality).facilities
    ]


@favourite_router.post(
    "/{muni}/favourites",
    response={200: FavouriteOut, 201: FavouriteOut, **POST_ERRORS},
    summary="Star a facility",
    description="201 when starred now, 200 when it already was one of your favourites (asking twice, or twice at "
    "once, keeps one). A facility of another municipality, or none, is a 404.",
)
def star(request, muni: Muni, payload: FavouriteIn):
    municipality = _municipality(muni)
    user = _resident_account(request)
    facility = _facility(municipality, payload.facility_code)
    changed = favourites.set_favourite(user=user, facility=facility, starred=True)
    return Status(201 if changed else 200, _favourite(facility, municipality))


@favourite_router.get(
    "/{muni}/favourites/{facility_code}",
    response={200: FavouriteOut, **ERRORS},
    summary="Is this facility a favourite?",
    description="200 with the facility when it is one of your favourites; 404 when it is not, or is not a facility "
    "of this municipality.",
)
def get_favourite(request, muni: Muni, facility_code: FacilityCode):
    municipality = _municipality(muni)
    user = _resident_account(request)
    facility = _facility(municipality, facility_code)
    if not favourites.is_favourite(user=user, facility=facility):
        raise Http404(_("%(facility)s is not one of your favourites.") % {"facility": facility.name})
    return _favourite(facility, municipality)


@favourite_router.delete(
    "/{muni}/favourites/{facility_code}",
    response={204: None, **ERRORS},
    summary="Unstar a facility",
    description="204 whether or not it was a favourite (as unstarring twice on the page is harmless); 404 when it "
    "is not a facility of this municipality.",
)
def unstar(request, muni: Muni, facility_code: FacilityCode):
    municipality = _municipality(muni)
    user = _resident_account(request)
    facility = _facility(municipality, facility_code)
    favourites.set_favourite(user=user, facility=facility, starred=False)
    return Status(204, None)
