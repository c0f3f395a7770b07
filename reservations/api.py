"""The JSON API's operations (issue #3, item 6): thin — parse, call a selector or a service, shape the answer.

Rule decisions come from ``reservations.rules`` (the one rules module) and writes from ``reservations.services``;
nothing here decides whether a booking is allowed. Error bodies are ``{"code", "message"}`` (see config/api.py).
"""

import datetime as dt
import re
from typing import Annotated, Literal

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StrictStr,
    model_validator,
)

from accounts.auth import API_AUTH, OPTIONAL_AUTH, api_user
from config import clock
from facilities import selectors
from facilities.models import Channel, localized
from facilities.selectors import SlotState

from . import rules, services
from . import selectors as booking_selectors
from .models import Reservation

MAX_ID = 2**63 - 1  # a larger id would overflow the database's bigint: refuse it as malformed (400), never 500
MAX_AVAILABILITY_DAYS = 62
EARLIEST_YEAR, LATEST_YEAR = clock.EARLIEST_YEAR, clock.LATEST_YEAR
SLUG = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")

# What the OpenAPI schema states about input, so that a client generated from it does not send what is refused.
# JSON Schema cannot bound the value of a date, but a pattern can bound its text: the years config.clock accepts,
# 2000–2099, are exactly those written "20..".
assert (EARLIEST_YEAR, LATEST_YEAR) == (2000, 2099), "DATE_PATTERN and DATETIME_PATTERN state config.clock's years"
DATE_PATTERN = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = r"^20[0-9]{2}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
YEARS = f"Years {EARLIEST_YEAR}–{LATEST_YEAR} only (400 otherwise)."

# Every operation's municipality: a slug; anything else is a 404 like an unknown municipality.
Muni = Annotated[
    str,
    Field(
        description="The municipality's slug, e.g. kodaira (GET /municipalities lists them).",
        json_schema_extra={"pattern": SLUG.pattern, "maxLength": 50},
    ),
]


class ApiError(Exception):
    """An error answer: HTTP ``status`` with body ``{"code", "message"}`` (+ ``refusals`` for rule refusals)."""

    def __init__(self, status: int, code: str, message: str, *, refusals: list[rules.Refusal] | None = None):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.refusals = refusals

    def body(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.refusals is not None:
            body["refusals"] = [r.as_dict() for r in self.refusals]
        return body


# Schemas ----------------------------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str = Field(
        description="A rule id of RULES.md (K-FC-1, S-FC-2, …) or a short code (bad_request, not_found, slot_taken, …)."
    )
    message: str = Field(description="In the request's language (Accept-Language; Japanese by default).")
    refusals: list["RefusalOut"] | None = Field(
        None, description="422 only: every refusal, the first being code/message."
    )
    errors: list[dict] | None = Field(None, description="400 only: which input was malformed and how.")


class RefusalOut(Schema):
    code: str
    message: str


class MunicipalityOut(Schema):
    slug: str
    name_ja: str
    name_en: str
    phone: str
    website: str


class UnitOut(Schema):
    id: int
    code: str
    name_ja: str
    name_en: str
    kind: str = Field(description="room, hall, gym, court or ground.")
    capacity: int | None
    surface: str | None = Field(description="artificial_turf, clay, hard, dirt, wood, or null.")
    has_night_lights: bool
    features_ja: str
    features_en: str
    slot_scheme_kind: str = Field(
        description="periods (named periods), fixed_length (e.g. 2 hours) or hourly "
        "(whole hours; a booking may take a run of consecutive hours)."
    )
    slot_minutes: int | None = Field(description="Length of a slot for fixed_length (and 60 for hourly) schemes.")


class FacilityOut(Schema):
    code: str
    name_ja: str
    name_en: str
    kind: str
    address_ja: str
    address_en: str
    phone: str
    has_parking: bool
    units: list[UnitOut] = Field(description="Bookable units only.")


class ClosureOut(Schema):
    kind: str = Field(
        description="weekly, nth_weekday, holidays, annual, dates, or no_hours (no opening hours that day)."
    )
    description: str
    note: str


class SlotOut(Schema):
    start: dt.datetime = Field(description="ISO 8601 in Japan time (+09:00). Slots are half-open: [start, end).")
    end: dt.datetime
    label: str = Field(
        description="The period's name (午前/Morning) in the request's language; empty for plain time slots."
    )
    state: Literal["open", "booked", "past", "lottery"] = Field(
        description="open: free; booked: held by a booking; past: already started; lottery: its month of use is still "
        "in the lottery (applications or draw; K-LOT-1/3, S-LOT-1/5), not first-come yet."
    )
    applications: int | None = Field(None, description="lottery: how many applications the slot has so far (S-LOT-1).")
    availability: str = Field(
        "",
        description="What the week grid shows, as a key (issue #21): open (○), booked (×), mine (◎), past (－), "
        "not_yet (受付前: online booking opens later), other_channel (窓口: the counter only now), ended "
        "(受付終了), service_hours (outside the online service hours, T-APP-3), not_for_you (your account or "
        "registration refuses it), lottery (抽: applications open), lottery_soon (受付前: applications open "
        "later), lottery_drawing (抽選中: the draw, until the results moment). Anonymous callers get every key "
        "that does not depend on who asks.",
    )
    mine: bool | None = Field(
        description="Authenticated: whether the booking holding this slot is yours. Anonymous: null."
    )
    bookable: bool | None = Field(
        description=(
            "Authenticated: whether you could book this slot online now. Computed with "
            "rules.evaluate(check_limits=False) per slot, so monthly limits (K-FC-3, S-FC-4) are not counted here — "
            "the booking itself still checks them. Anonymous: null."
        )
    )
    refusal: RefusalOut | None = Field(
        description="Why it cannot be booked online now: `code` (a rule id, or a short system code) and `message`, "
        "the same sentence as the slot page, with the dates filled in. Authenticated: your own answer; "
        "anonymous: the reasons that hold for anyone (window, channel, service hours, lottery), else null."
    )


class DayOut(Schema):
    date: dt.date
    state: Literal["open", "closed"] = Field(
        description="closed: a closure day (休館日) or no opening hours; no slots then."
    )
    holiday: str | None = Field(description="Name of the national holiday, if any.")
    closure: ClosureOut | None
    slots: list[SlotOut]


class AvailabilityOut(Schema):
    model_config = ConfigDict(populate_by_name=True)

    municipality: str
    unit: UnitOut
    facility_code: str
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    authenticated: bool
    days: list[DayOut]


def _strict_iso_date(value):
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("expected a date in the form YYYY-MM-DD")
        value = dt.date.fromisoformat(value)  # ValueError for 2027-13-45
        if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValueError(f"dates from {EARLIEST_YEAR} to {LATEST_YEAR} only")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_strict_iso_date), Field(json_schema_extra={"pattern": DATE_PATTERN})]


def _iso_datetime_text(value):
    """ISO 8601 text only: pydantic alone would also take numbers as Unix timestamps."""
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        raise ValueError("expected an ISO 8601 datetime with its offset, e.g. 2027-05-10T09:00:00+09:00")
    return value


IsoDateTime = Annotated[
    AwareDatetime, BeforeValidator(_iso_datetime_text), Field(json_schema_extra={"pattern": DATETIME_PATTERN})
]


class ReservationIn(BaseModel):
    """The unit and the time to book: `end` must be after `start` (400 otherwise), both in the years
    2000–2099, with their UTC offset."""

    # A plain pydantic model, not a ninja Schema: a Schema with extra="forbid" is validated twice per request
    # (once as given, once through ninja's attribute getter), which the booking path pays for at the 9:00 rush.
    model_config = ConfigDict(extra="forbid")

    unit_id: StrictInt = Field(ge=1, le=MAX_ID)
    start: IsoDateTime = Field(
        description="Aware ISO 8601 datetime, e.g. 2027-05-10T09:00:00+09:00 (naive → 400). " + YEARS
    )
    end: IsoDateTime = Field(
        description="The end of the last slot booked; after `start` (400 otherwise). Tamba's "
        "hourly units accept a run of hours. " + YEARS
    )

    purpose: StrictStr = Field(
        "",
        max_length=200,
        description="利用目的, the purpose of use. Required where the municipality's profile asks it "
        "(422 `purpose_required` otherwise); stored with the booking.",
    )
    headcount: StrictInt | None = Field(
        None,
        ge=1,
        le=9999,
        description="人数, the number of people. Required where the profile asks it (422 `headcount_required`); "
        "1 to the profile's maximum (422 `headcount_invalid`).",
    )
    accept_terms: StrictBool = Field(
        False,
        description="true: the user read and accepted the municipality's terms of use (the booking page shows "
        "them). Where the profile has terms, a booking without it is refused (422 `terms_not_accepted`).",
    )

    @model_validator(mode="after")
    def _in_order(self):
        for moment in (self.start, self.end):
            if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
                raise ValueError(f"dates from {EARLIEST_YEAR} to {LATEST_YEAR} only")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class FeeLineOut(BaseModel):
    kind: str = Field(description="base, multiplier, lighting or exemption.")
    label: str = Field(description="In the request's language, e.g. “Use fee: 620 yen × 1 slot”.")
    amount: int = Field(description="Yen; an exemption is negative.")
    rule_id: str


class ReservationOut(BaseModel):
    # Plain pydantic too: it is built from the dicts of _booking(), so ninja's attribute getter is not needed.
    id: int
    unit_id: int
    start: dt.datetime
    end: dt.datetime
    state: Literal["provisional", "awaiting_payment", "confirmed", "cancelled", "won"] = Field(
        description=(
            "provisional, awaiting_payment, confirmed or cancelled; `won`: a lottery win its winner has not confirmed "
            "yet (S-LOT-5) — no fee and no payment deadline until confirmed (then provisional), cancelled at the end "
            "of `confirm_until` otherwise. A provisional Kodaira booking past its confirmation midnight shows as "
            "confirmed (K-FC-4). Lottery wins are listed only from the draw's results moment (K-LOT-3, S-LOT-5)."
        )
    )
    origin: str = Field(description="first_come, last_minute or lottery.")
    channel: str = Field(description="online, counter or phone.")
    fee: int | None = Field(
        description="Yen, fixed when booked (the fee table of the booking day); null when the "
        "municipality has no fee table for this unit."
    )
    fee_lines: list["FeeLineOut"] = Field(
        description="The fee line by line: base, non-resident surcharge (S-FEE-1), "
        "lighting (S-HRS-2), exemption (K-USE-2); empty when `fee` is null."
    )
    pay_by: dt.datetime | None = Field(
        description="The last minute in which payment is on time (S-PAY-2, T-PAY-1), or null."
    )
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str = Field(
        description="Empty while active; user, unpaid, staff, changed (replaced by `changed_to`), "
        "or unconfirmed (a lottery win not confirmed in time, S-LOT-5)."
    )
    changed_from: int | None = Field(description="The booking this one replaced (a change), or null.")
    changed_to: int | None = Field(description="The booking that replaced this one (a change), or null.")
    purpose: str = Field("", description="利用目的 as entered when booking; empty when not asked.")
    headcount: int | None = Field(None, description="人数 as entered when booking; null when not asked.")
    confirm_from: dt.datetime | None = Field(
        None,
        description="`won` only: the first minute in which the win can be confirmed or given up (S-LOT-5); else null.",
    )
    confirm_until: dt.datetime | None = Field(
        None,
        description="`won` only: the last minute to confirm the win or give "
        "it up; unconfirmed, it is cancelled after it (S-LOT-5).",
    )


ErrorOut.model_rebuild()
ReservationOut.model_rebuild()


# Helpers ----------------------------------------------------------------------------------------------------


def _municipality(slug: str):
    if not SLUG.fullmatch(slug):
        raise Http404(_("No municipality “%(slug)s” uses this portal.") % {"slug": slug[:50]})
    return selectors.get_municipality(slug)


def _require_resident(user, municipality) -> None:
    """/reservations is for resident accounts of the municipality in the URL (403 otherwise); same codes and
    messages as the rules module's own refusals."""
    refusal = rules.account_refusal(user, municipality.pk)
    if refusal is not None:
        raise ApiError(403, refusal.code, refusal.message)


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    return clock.localtime(moment) if moment else None


def _unit(unit) -> dict:
    return {
        "id": unit.pk,
        "code": unit.code,
        "name_ja": unit.name_ja,
        "name_en": unit.name_en,
        "kind": unit.kind,
        "capacity": unit.capacity,
        "surface": unit.surface or None,
        "has_night_lights": unit.has_night_lights,
        "features_ja": unit.features_ja,
        "features_en": unit.features_en,
        "slot_scheme_kind": unit.slot_scheme.kind,
        "slot_minutes": int(unit.slot_scheme.step().total_seconds() // 60) or None,
    }


def _booking(reservation: Reservation, profile_rules, now, windows: dict | None = None) -> dict:
    confirm_from, confirm_until, _rule_id = (windows or {}).get(reservation.pk, (None, None, ""))
    return {
        "id": reservation.pk,
        "unit_id": reservation.unit_id,
        "start": _local(reservation.starts_at),
        "end": _local(reservation.ends_at),
        "state": rules.effective_state(reservation, profile_rules, now) if profile_rules else reservation.state,
        "origin": reservation.origin,
        "channel": reservation.channel,
        "fee": reservation.fee_total,
        "fee_lines": _fee_lines(reservation),
        "pay_by": _local(reservation.pay_by_last_minute),
        "created_at": _local(reservation.created_at),
        "cancelled_at": _local(reservation.cancelled_at),
        "cancel_reason": reservation.cancel_reason,
        "changed_from": reservation.changed_from_id,
        "changed_to": _changed_to(reservation),
        "purpose": reservation.purpose,
        "headcount": reservation.headcount,
        "confirm_from": _local(confirm_from),
        "confirm_until": _local(confirm_until),
    }


def _fee_lines(reservation: Reservation) -> list[dict]:
    breakdown = reservation.fee_breakdown
    if breakdown is None:
        return []
    return [
        {"kind": line.kind, "label": line.label, "amount": line.amount, "rule_id": line.rule_id}
        for line in breakdown.lines
    ]


def _changed_to(reservation: Reservation) -> int | None:
    if reservation.cancel_reason != Reservation.CancelReason.CHANGED:
        return None  # only a changed booking has a successor: no query for the others
    return Reservation.objects.filter(changed_from=reservation).values_list("pk", flat=True).first()


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
# A POST's body over the server's limit (config/api.py too_large).
POST_ERRORS = {**ERRORS, 413: ErrorOut}


# Public: municipalities, facilities, availability -----------------------------------------------------------

public = Router(tags=["facilities"])


@public.get("/municipalities", response={200: list[MunicipalityOut]}, summary="Municipalities using the portal")
def list_municipalities(request):
    return [
        {"slug": m.slug, "name_ja": m.name_ja, "name_en": m.name_en, "phone": m.phone, "website": m.website}
        for m in selectors.list_municipalities()
    ]


@public.get(
    "/{muni}/facilities", response={200: list[FacilityOut], 404: ErrorOut}, summary="Facilities and their units"
)
def list_facilities(request, muni: Muni):
    municipality = _municipality(muni)
    facilities = selectors.list_facilities(municipality=municipality).prefetch_related("units__slot_scheme")
    return [
        {
            "code": f.code,
            "name_ja": f.name_ja,
            "name_en": f.name_en,
            "kind": f.kind,
            "address_ja": f.address_ja,
            "address_en": f.address_en,
            "phone": f.phone,
            "has_parking": f.has_parking,
            "units": [_unit(u) for u in f.units.all()],
        }
        for f in facilities
    ]


@public.get(
    "/{muni}/units/{unit_id}/availability",
    auth=OPTIONAL_AUTH,
    response={200: AvailabilityOut, **ERRORS},
    by_alias=True,
    summary="A unit's slots, day by day",
    description=(
        f"Public (S-FC-1). `from` and `to` are dates (YYYY-MM-DD) of the years {EARLIEST_YEAR}–{LATEST_YEAR}, both "
        f"included, `to` not before `from` (400), at most {MAX_AVAILABILITY_DAYS} days (400 `range_too_long` "
        "beyond). Every day of the range is listed: a closure day (休館日) or a day without opening hours has "
        "`state: closed`, a `closure` saying why, and no slots. With a token or a "
        "session, each slot also says whether *you* could book it online now (`bookable`, `refusal`): computed "
        "per slot with `rules.evaluate(check_limits=False)`, i.e. without counting monthly limits (K-FC-3, "
        "S-FC-4), which would cost a query per slot; booking checks them. Without credentials `mine` and `bookable` "
        "are null, and `refusal` gives only the reasons that hold for anyone (not open yet, counter only, closed, "
        "a lottery month), with `availability` saying what the week grid shows (issue #21)."
    ),
    openapi_extra={"security": [{}]},  # appended to the two schemes: credentials are optional here
)
def unit_availability(
    request,
    muni: Muni,
    unit_id: int = Path(..., ge=1, le=MAX_ID),
    date_from: IsoDate = Query(..., alias="from", description="First day, YYYY-MM-DD. " + YEARS),
    date_to: IsoDate = Query(
        ...,
        alias="to",
        description=f"Last day (included), YYYY-MM-DD: not before `from`, at "
        f"most {MAX_AVAILABILITY_DAYS} days after it. " + YEARS,
    ),
):
    municipality = _municipality(muni)
    if date_to < date_from:
        raise ApiError(400, "bad_request", _("“to” is before “from”."))
    if (date_to - date_from).days + 1 > MAX_AVAILABILITY_DAYS:
        raise ApiError(
            400, "range_too_long", _("Ask for at most %(days)s days at a time.") % {"days": MAX_AVAILABILITY_DAYS}
        )
    unit = selectors.get_unit(municipality=municipality, unit_id=unit_id)
    user = api_user(request)
    authenticated = user.is_authenticated
    now = clock.now()
    holds = selectors.holds_between(
        unit=unit, start=clock.at(date_from, dt.time(0)), end=clock.at(date_to + dt.timedelta(days=1), dt.time(0))
    )
    online = selectors.OnlineRules(unit, user if authenticated else None)
    user_id = user.pk if authenticated else None
    lottery = selectors.lottery_cells(unit, date_from, date_to + dt.timedelta(days=1), user if authenticated else None)

    days = []
    for day in selectors.unit_days(unit=unit, first=date_from, count=(date_to - date_from).days + 1):
        closure = None
        if day.closed_by:
            closure = {
                "kind": day.closed_by.kind,
                "description": day.closed_by.describe(),
                "note": day.closed_by.shown_note,
            }
        elif not day.slots:
            closure = {"kind": "no_hours", "description": _("No opening hours on this day."), "note": ""}
        cells = [
            selectors.slot_cell(slot, holds=holds, now=now, user_id=user_id, online=online, lottery=lottery)
            for slot in day.slots
        ]
        days.append(
            {
                "date": day.date,
                "state": "closed" if closure else "open",
                "holiday": day.holiday,
                "closure": closure,
                "slots": [_slot(cell, authenticated) for cell in cells],
            }
        )

    return {
        "municipality": municipality.slug,
        "unit": _unit(unit),
        "facility_code": unit.facility.code,
        "date_from": date_from,
        "date_to": date_to,
        "authenticated": authenticated,
        "days": days,
    }


# The grid's cell states (facilities.selectors.SlotState) as the API names them.
API_STATE = {
    SlotState.PAST: "past",
    SlotState.BOOKED: "booked",
    SlotState.MINE: "booked",
    SlotState.OPEN: "open",
    SlotState.NOT_BOOKABLE: "open",
    SlotState.LOTTERY: "lottery",
    SlotState.LOTTERY_SOON: "lottery",
    SlotState.LOTTERY_DRAWING: "lottery",
}


def _slot(cell, authenticated: bool) -> dict:
    slot = cell.slot
    out = {
        "start": slot.starts_at,
        "end": slot.ends_at,
        "label": localized(slot, "label"),
        "state": API_STATE[cell.state],
        "availability": cell.legend_key if cell.state != SlotState.PAST else SlotState.PAST,
        "mine": None,
        "bookable": None,
        "refusal": None,
        "applications": cell.applications,
    }
    if cell.state in SlotState.LOTTERY_STATES:
        refusal = rules.Refusal("lottery", cell.why)
    elif cell.state == SlotState.NOT_BOOKABLE:
        refusal = cell.refusal
    elif not authenticated:
        refusal = None
    elif cell.state == SlotState.PAST:
        refusal = rules.Refusal("slot_past", _("This slot has already started."))
    elif cell.state in (SlotState.BOOKED, SlotState.MINE):
        refusal = rules.Refusal("slot_taken", _("This slot is already booked."))
    else:
        refusal = None
    out["refusal"] = refusal.as_dict() if refusal else None
    if not authenticated:
        if out["availability"] == SlotState.MINE:
            out["availability"] = SlotState.BOOKED
        return out
    out["mine"] = cell.state == SlotState.MINE
    out["bookable"] = refusal is None
    return out


# Reservations: authenticated residents of the municipality in the URL ------------------------------------------

TENANCY = (
    " Only resident accounts registered with the municipality in the URL may use it: another municipality's "
    "account gets 403 `not_registered_here`, a staff account 403 `staff_account`. A booking or unit that is not "
    "of this municipality, or not yours, is a 404."
)

bookings = Router(tags=["reservations"], auth=API_AUTH)


@bookings.get(
    "/{muni}/reservations",
    response={200: list[ReservationOut], **ERRORS},
    summary="My reservations",
    description=(
        "Yours in this municipality, active and cancelled, newest use date first. A lottery win is listed "
        "from its draw's results moment on (K-LOT-3, S-LOT-5), not before." + TENANCY
    ),
)
def my_reservations(request, muni: Muni):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    now = clock.now()
    profile_rules = rules.ProfileRules.find(municipality)
    mine = list(
        Reservation.objects.of(municipality).for_user(user).visible_to_resident(now).order_by("-starts_at", "-id")
    )
    windows = booking_selectors.confirmation_windows(mine)
    return [_booking(r, profile_rules, now, windows) for r in mine]


@bookings.post(
    "/{muni}/reservations",
    response={201: ReservationOut, **POST_ERRORS, 409: ErrorOut, 422: ErrorOut},
    summary="Book slots (online, first come)",
    description=(
        "Books the unit's slots that exactly tile [start, end) through the online channel. 201 with the booking; "
        "422 when a rule refuses (`code` is the rule id, e.g. K-FC-1, S-FC-2, T-APP-3; `refusals` lists them "
        "all); 409 `slot_taken` when someone holds one of the slots; 400 for malformed input (naive datetimes, "
        "end before start, unknown fields)." + TENANCY
    ),
)
def book(request, muni: Muni, payload: ReservationIn):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    unit = selectors.get_unit(municipality=municipality, unit_id=payload.unit_id)
    reservation = services.book(
        user=user,
        unit=unit,
        starts_at=payload.start,
        ends_at=payload.end,
        channel=Channel.ONLINE,
        details=rules.BookingDetails(
            purpose=payload.purpose.strip(), headcount=payload.headcount, terms_accepted=payload.accept_terms
        ),
    )
    return Status(201, _booking(reservation, None, clock.now()))


@bookings.post(
    "/{muni}/reservations/{reservation_id}/change",
    response={201: ReservationOut, **POST_ERRORS, 409: ErrorOut, 422: ErrorOut},
    summary="Change my reservation to another slot online",
    description=(
        "Moves the booking to the slots that tile [start, end) of `unit_id`, where the municipality allows online "
        "changes (Kodaira: on the day it was made, K-FC-4; Shiroi: until paid, S-PAY-3). One step: the old booking "
        "is cancelled (`cancel_reason` changed) and a new one made (201, with `changed_from`); when the new slot is "
        "refused (422, with the rule id) or taken (409), the old booking stays as it was." + TENANCY
    ),
)
def change(request, muni: Muni, payload: ReservationIn, reservation_id: int = Path(..., ge=1, le=MAX_ID)):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    unit = selectors.get_unit(municipality=municipality, unit_id=payload.unit_id)
    try:
        reservation = services.change_online(
            user=user, reservation_id=reservation_id, unit=unit, starts_at=payload.start, ends_at=payload.end
        )
    except Reservation.DoesNotExist:
        raise Http404(_("You have no such reservation here.")) from None
    return Status(201, _booking(reservation, None, clock.now()))


@bookings.post(
    "/{muni}/reservations/{reservation_id}/cancel",
    response={200: ReservationOut, **POST_ERRORS, 422: ErrorOut},
    summary="Cancel my reservation online",
    description=(
        "Where the municipality allows it online (Kodaira: on the day it was made, K-FC-4; Shiroi: until paid, "
        "S-PAY-3; Tamba: at the center, T-CAN-1). 422 with the rule id otherwise." + TENANCY
    ),
)
def cancel(request, muni: Muni, reservation_id: int = Path(..., ge=1, le=MAX_ID)):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    try:  # only the user's own bookings are found, and _require_resident tied the user to this municipality
        reservation = services.cancel_online(user=user, reservation_id=reservation_id)
    except Reservation.DoesNotExist:
        raise Http404(_("You have no such reservation here.")) from None
    return _booking(reservation, None, clock.now())
