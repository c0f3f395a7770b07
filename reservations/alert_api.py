"""Cancellation alerts in the JSON API (issue #19 item 7): the "My alerts" page, watching a taken slot from the
week grid and the pattern form (reservations/alert_views.py), as ``/api/v1/{muni}/watches``. Thin: every read and
write is ``reservations.alerts``, the same calls the pages make, so their limits and refusals apply unchanged
(``alerts_limit``: at most 20 active; ``slot_free``, ``slot_mine``, ``slot_past``, ``alerts_dates``, … as 422).
"""

import datetime as dt
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Body, Field, Path, Router, Schema
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, StrictInt, model_validator

from accounts.auth import API_AUTH, api_user
from config import clock
from facilities import selectors as facility_selectors
from facilities.models import Unit

from . import alerts
from .api import (
    ERRORS,
    MAX_ID,
    POST_ERRORS,
    SLUG,
    TENANCY,
    YEARS,
    ApiError,
    ErrorOut,
    IsoDate,
    Muni,
    ReservationIn,
    _municipality,
    _require_resident,
)
from .models import SlotWatch

watch_router = Router(tags=["alerts"], auth=API_AUTH)

TIME_FROM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
TIME_TO = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"  # the end of the day is 24:00 (or 00:00, as on the page)
UnitKind = Literal[tuple(Unit.Kind.values)]


class SlotWatchIn(ReservationIn):
    """Watch one slot that someone else holds: the unit and the slot's start and end, as when booking (years
    2000–2099, `end` after `start`, 400 otherwise). It tells you once, when the slot frees up."""

    kind: Literal["slot"]


class PatternWatchIn(BaseModel):
    """Watch every slot matching a pattern until its last day: a facility (optionally one unit, or one kind of
    unit), an optional weekday, a time-of-day range the slot must lie within, and a date range of at most 366
    days. It tells you about each slot that frees up."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["pattern"]
    facility_code: str = Field(
        pattern=SLUG.pattern, max_length=50, description="e.g. nakajima (GET /{muni}/facilities)."
    )
    unit_id: StrictInt | None = Field(None, ge=1, le=MAX_ID, description="One unit of that facility; null: any.")
    unit_kind: UnitKind | None = Field(None, description="Any unit of this kind in that facility (not with `unit_id`).")
    weekday: StrictInt | None = Field(None, ge=0, le=6, description="0 Monday … 6 Sunday; null: any day.")
    time_from: str = Field(pattern=TIME_FROM, description="HH:MM, Japan time.")
    time_to: str = Field(
        pattern=TIME_TO,
        description="HH:MM, after `time_from` (422 `alerts_times` otherwise); 24:00 or 00:00 is the end of the day.",
    )
    date_from: IsoDate = Field(description="First day, YYYY-MM-DD. " + YEARS)
    date_to: IsoDate = Field(
        description="Last day (included), YYYY-MM-DD; not over yet, at most 366 days after "
        "`date_from` (422 `alerts_over`, `alerts_dates`). " + YEARS
    )

    @model_validator(mode="after")
    def _one_of_unit_or_kind(self):
        if self.unit_id is not None and self.unit_kind is not None:
            raise ValueError("give unit_id or unit_kind, not both")
        return self


WatchIn = Annotated[SlotWatchIn | PatternWatchIn, Field(discriminator="kind")]


class WatchOut(Schema):
    id: int
    kind: str = Field(description="slot or pattern.")
    status: str = Field(
        description="watching; stopped (by you); fired (a slot watch that told you); over (its "
        "slot has started or its last day is past)."
    )
    facility_code: str
    unit_id: int | None = Field(description="slot: the unit; pattern: the one unit watched, or null.")
    start: dt.datetime | None = Field(description="slot only.")
    end: dt.datetime | None = Field(description="slot only.")
    unit_kind: str | None = Field(description="pattern: the kind of unit watched, or null.")
    weekday: int | None = Field(description="pattern: 0 Monday … 6 Sunday, or null for any day.")
    time_from: str | None = Field(description="pattern: HH:MM.")
    time_to: str | None = Field(description="pattern: HH:MM; 24:00 is the end of the day.")
    date_from: dt.date | None = Field(description="pattern only.")
    date_to: dt.date | None = Field(description="pattern only.")
    created_at: dt.datetime
    watching_until: dt.datetime = Field(description="The slot's start, or the end of the pattern's last day.")
    stopped_at: dt.datetime | None
    fired_at: dt.datetime | None = Field(description="slot: when it told you.")
    last_fired_at: dt.datetime | None
    fire_count: int = Field(description="E-mails sent for this watch.")


class WatchesOut(Schema):
    active: list[WatchOut] = Field(description="Watching now, in the order you asked.")
    ended: list[WatchOut] = Field(description="Stopped, fired or over: the latest 20, newest first.")
    limit: int = Field(description="Active watches one person may have (alerts_limit beyond).")
    left: int = Field(description="How many more you may ask for now.")


def _local(moment):
    return clock.localtime(moment) if moment else None


def _watch(watch: SlotWatch) -> dict:
    pattern = watch.kind == SlotWatch.Kind.PATTERN
    facility = watch.facility if pattern else watch.unit.facility
    return {
        "id": watch.pk,
        "kind": watch.kind,
        "status": watch.current_status,
        "facility_code": facility.code,
        "unit_id": watch.unit_id,
        "start": _local(watch.starts_at),
        "end": _local(watch.ends_at),
        "unit_kind": watch.unit_kind or None,
        "weekday": watch.weekday,
        "time_from": watch.from_text or None,
        "time_to": watch.to_text or None,
        "date_from": watch.date_from,
        "date_to": watch.date_to,
        "created_at": _local(watch.created_at),
        "watching_until": _local(watch.expires_at),
        "stopped_at": _local(watch.stopped_at),
        "fired_at": _local(watch.fired_at),
        "last_fired_at": _local(watch.last_fired_at),
        "fire_count": watch.fire_count,
    }


def _refused(error: alerts.AlertRefused) -> ApiError:
    return ApiError(422, error.refusal.code, error.refusal.message, refusals=[error.refusal])


def _end_minute(text: str) -> int:
    return 24 * 60 if text == "24:00" else alerts.minute_of_day(dt.time.fromisoformat(text), end=True)


def _pattern(municipality, payload: PatternWatchIn) -> alerts.Pattern:
    facility = facility_selectors.get_facility(municipality=municipality, code=payload.facility_code)
    unit = None
    if payload.unit_id is not None:
        unit = facility_selectors.get_unit(municipality=municipality, unit_id=payload.unit_id)
    return alerts.Pattern(
        facility=facility,
        unit=unit,
        unit_kind=payload.unit_kind or "",
        weekday=payload.weekday,
        from_minute=alerts.minute_of_day(dt.time.fromisoformat(payload.time_from), end=False),
        to_minute=_end_minute(payload.time_to),
        date_from=payload.date_from,
        date_to=payload.date_to,
    )


def _own_watch(user, municipality, watch_id: int) -> SlotWatch:
    try:
        return alerts.my_watch(user=user, municipality_id=municipality.pk, watch_id=watch_id)
    except SlotWatch.DoesNotExist:
        raise Http404(_("You have no such alert.")) from None


WatchId = Annotated[int, Path(..., ge=1, le=MAX_ID)]


@watch_router.get(
    "/{muni}/watches",
    response={200: WatchesOut, **ERRORS},
    summary="My cancellation alerts",
    description="As the “My alerts” page: the active ones, the latest ended ones, the limit and how "
    "many are left." + TENANCY,
)
def list_watches(request, muni: Muni):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    found = alerts.my_watches(user=user, municipality_id=municipality.pk)
    return {
        "active": [_watch(w) for w in found["active"]],
        "ended": [_watch(w) for w in found["ended"]],
        "limit": found["limit"],
        "left": found["left"],
    }


@watch_router.post(
    "/{muni}/watches",
    response={200: WatchOut, 201: WatchOut, **POST_ERRORS, 422: ErrorOut},
    summary="Ask for a cancellation alert",
    description=(
        "`kind: slot` watches one slot someone else holds (from the week grid): 201 with the new watch, 200 with the "
        "one you already have for that slot. `kind: pattern` watches slots matching a pattern (the “new alert” "
        "form): 201. Refusals are 422 with a code: `slot_free` (free now: book it), `slot_mine` (your own "
        "booking), `slot_past`, `slot_invalid`, `alerts_limit` (20 active at most), `alerts_unit`, `alerts_times`, "
        "`alerts_dates`, `alerts_over`. Nothing is held for you: when a slot frees up you are e-mailed (and see it "
        "in /notifications), and booking it is first come." + TENANCY
    ),
)
def ask(request, muni: Muni, payload: WatchIn = Body(...)):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    base_url = request.build_absolute_uri("/")  # for the link in the e-mail, as the pages do
    try:
        if isinstance(payload, SlotWatchIn):
            unit = facility_selectors.get_unit(municipality=municipality, unit_id=payload.unit_id)
            watch, created = alerts.watch_slot(
                user=user, unit=unit, starts_at=payload.start, ends_at=payload.end, base_url=base_url
            )
        else:
            watch, created = (
                alerts.watch_pattern(user=user, pattern=_pattern(municipality, payload), base_url=base_url),
                True,
            )
    except alerts.AlertRefused as error:
        raise _refused(error) from None
    return Status(201 if created else 200, _watch(_own_watch(user, municipality, watch.pk)))


@watch_router.get(
    "/{muni}/watches/{watch_id}",
    response={200: WatchOut, **ERRORS},
    summary="One of my alerts",
    description="Another user's or another municipality's alert is a 404." + TENANCY,
)
def get_watch(request, muni: Muni, watch_id: WatchId):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    return _watch(_own_watch(user, municipality, watch_id))


@watch_router.delete(
    "/{muni}/watches/{watch_id}",
    response={200: WatchOut, **ERRORS},
    summary="Stop an alert",
    description="Stops it (as the page's Stop button); 200 with the alert, now `stopped` — or as it was when it had "
    "already fired or stopped: it stays in the `ended` list. Another user's alert is a 404." + TENANCY,
)
def stop(request, muni: Muni, watch_id: WatchId):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    try:
        alerts.stop_watch(user=user, municipality_id=municipality.pk, watch_id=watch_id)
    except SlotWatch.DoesNotExist:
        raise Http404(_("You have no such alert.")) from None
    return _watch(_own_watch(user, municipality, watch_id))
