"""The monthly lottery in the JSON API: what a resident does on the lottery pages (lottery/views.py) — apply for
a slot, list their applications with the allowance left, withdraw, and confirm or give up a Shiroi win — as
``/api/v1/{muni}/lottery/applications``. Thin: every read is ``lottery.selectors`` (the "My lottery
applications" page's own rows) and every write ``lottery.services``, so the same rules and refusals apply.

Outcomes follow ``lottery.selectors.resident_state``: until the draw's results moment (K-LOT-3, S-LOT-5) an
application reads ``applied``, without order, outcome or booking, whatever the draw has written.
"""

import datetime as dt
from typing import Annotated

from ninja import Field, Path, Router, Schema
from ninja.responses import Status

from accounts.auth import API_AUTH, api_user
from config import clock
from facilities import daterules
from facilities import selectors as facility_selectors
from facilities.models import Channel
from reservations.api import (
    ERRORS,
    MAX_ID,
    POST_ERRORS,
    TENANCY,
    ApiError,
    ErrorOut,
    Muni,
    RefusalOut,
    ReservationIn,
    _municipality,
    _require_resident,
)

from . import selectors, services
from .models import Application

lottery_router = Router(tags=["lottery"], auth=API_AUTH)


class ApplicationIn(ReservationIn):
    """The unit and the one slot to apply for: `start` and `end` of one slot of the unit (years 2000–2099, with
    their UTC offset, `end` after `start`; 400 otherwise). The same rules as the apply page."""


class AllowanceOut(Schema):
    rule_id: str = Field(
        description="The limit's rule id: K-LOT-2 (2 a month per group), S-LOT-2 (10 a month per person)."
    )
    limit: int = Field(description="Applications a month allowed (municipality-wide).")
    used: int = Field(description="Your applications for that month, not withdrawn.")
    left: int = Field(description="How many more you may make for that month.")


class ApplicationOut(Schema):
    id: int
    unit_id: int
    facility_code: str
    month: dt.date = Field(description="The month of use (its first day).")
    start: dt.datetime = Field(description="ISO 8601 in Japan time (+09:00).")
    end: dt.datetime
    channel: str = Field(description="online, counter or phone.")
    state: str = Field(
        description=(
            "applied, withdrawn, won, lost, confirmed (a win confirmed, Shiroi S-LOT-5), forfeited (a win given up), "
            "expired (a win not confirmed in time). Until the draw's results moment (Kodaira the 20th, K-LOT-3; Shiroi "
            "the 18th, S-LOT-5) an application reads applied, whatever the draw has decided."
        )
    )
    state_label: str = Field(description="The state in the request's language.")
    applied_at: dt.datetime
    withdrawn_at: dt.datetime | None
    position: int | None = Field(
        description="After the results: where this application came in its slot's drawn order (1 = first). Null before."
    )
    applicants: int | None = Field(description="After the results: how many applied for the same slot.")
    outcome: str | None = Field(
        description="After the results: won, lost, overlap (passed over: you had won an "
        "overlapping slot) or unavailable (the slot was not available at the draw)."
    )
    reservation_id: int | None = Field(description="After the results, a win's booking (GET /{muni}/reservations).")
    confirm_from: dt.datetime | None = Field(
        description=(
            "Where wins must be confirmed (Shiroi, S-LOT-5) and this application is applied or won: the first minute "
            "a win can be confirmed or given up. Null where a win is a booking at once (Kodaira, K-LOT-4)."
        )
    )
    confirm_until: dt.datetime | None = Field(
        description="With `confirm_from`: the last minute; an unconfirmed win is cancelled after it and its slot freed."
    )
    can_withdraw: bool = Field(description="Whether POST …/withdraw would be taken now.")
    can_confirm: bool = Field(description="Whether POST …/confirm and …/forfeit would be taken now.")
    refusal: RefusalOut | None = Field(
        description="When neither is open to an applied or won application: why "
        "(e.g. K-LOT-1 or S-LOT-1: the application window has closed)."
    )


class MonthOut(Schema):
    month: dt.date = Field(description="The month of use (its first day).")
    label: str = Field(description="The month in the request's language.")
    applications_from: dt.datetime | None = Field(
        description="The first minute applications are taken (K-LOT-1, S-LOT-1)."
    )
    applications_until: dt.datetime | None = Field(description="The last minute applications are taken or withdrawn.")
    results_from: dt.datetime | None = Field(description="The results moment (K-LOT-3, S-LOT-5).")
    results_published: bool = Field(description="Whether the draw has run and its results are out.")
    allowances: list[AllowanceOut] = Field(
        description="Per monthly limit: how many applications are left (K-LOT-2, S-LOT-2)."
    )
    applications: list[ApplicationOut] = Field(description="Yours for this month, withdrawn ones included.")


class ApplicationsOut(Schema):
    months: list[MonthOut] = Field(
        description="Newest month of use first: the months you applied for, and the "
        "months taking applications now (with no applications yet)."
    )


class ApplicationAnswer(Schema):
    application: ApplicationOut
    allowances: list[AllowanceOut] = Field(
        description="The allowance left for the application's month (K-LOT-2, S-LOT-2)."
    )


def _local(moment):
    return clock.localtime(moment) if moment else None


def _allowances(month: selectors.MonthApplications) -> list[dict]:
    return [{"rule_id": a.rule_id, "limit": a.limit, "used": a.used, "left": a.remaining} for a in month.allowances]


def _confirmation_window(row: selectors.ApplicationRow, month: selectors.MonthApplications, policy):
    if policy is None or not policy.confirmation_required:
        return None, None
    if row.state not in (Application.State.APPLIED, Application.State.WON):
        return None, None
    draw = month.draw
    starts = (
        draw.results_from
        if draw is not None and draw.results_from
        else (month.timeline.results_from if month.timeline else None)
    )
    purge = (
        draw.purge_at if draw is not None and draw.purge_at else (month.timeline.purge_at if month.timeline else None)
    )
    return _local(starts), _local(purge - daterules.ONE_MINUTE) if purge else None


def _application(row: selectors.ApplicationRow, month: selectors.MonthApplications, policy) -> dict:
    application = row.application
    confirm_from, confirm_until = _confirmation_window(row, month, policy)
    refusal = row.action_refusal if not (row.can_withdraw or row.can_confirm) else None
    return {
        "id": application.pk,
        "unit_id": application.unit_id,
        "facility_code": application.unit.facility.code,
        "month": application.month,
        "start": _local(application.starts_at),
        "end": _local(application.ends_at),
        "channel": application.channel,
        "state": row.state,
        "state_label": str(row.state_label),
        "applied_at": _local(application.created_at),
        "withdrawn_at": _local(application.withdrawn_at),
        "position": row.position,
        "applicants": row.applicants,
        "outcome": row.outcome or None,
        "reservation_id": application.reservation_id if row.results_published else None,
        "confirm_from": confirm_from,
        "confirm_until": confirm_until,
        "can_withdraw": row.can_withdraw,
        "can_confirm": row.can_confirm,
        "refusal": refusal.as_dict() if refusal else None,
    }


def _month(month: selectors.MonthApplications, policy) -> dict:
    line = month.timeline
    return {
        "month": month.month,
        "label": str(month.label),
        "applications_from": _local(line.applications_open) if line else None,
        "applications_until": _local(line.applications_close - daterules.ONE_MINUTE) if line else None,
        "results_from": _local(line.results_from) if line else None,
        "results_published": month.published,
        "allowances": _allowances(month),
        "applications": [_application(row, month, policy) for row in month.rows],
    }


def _answer(municipality, user, application_id: int) -> dict:
    (month,) = selectors.my_applications(municipality=municipality, user=user, application_id=application_id)
    policy = services.policy_of(municipality)
    return {"application": _application(month.rows[0], month, policy), "allowances": _allowances(month)}


def _refused(error: services.LotteryError) -> ApiError:
    first = error.refusals[0]
    return ApiError(422, first.code, first.message, refusals=error.refusals)


def _resident(request, muni: str):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    return municipality, user


ApplicationId = Annotated[int, Path(..., ge=1, le=MAX_ID)]
ACTION_ERRORS = {**POST_ERRORS, 422: ErrorOut}
NOT_YOURS = " Another user's application, or one of another municipality, is a 404."


@lottery_router.get(
    "/{muni}/lottery/applications",
    response={200: ApplicationsOut, **ERRORS},
    summary="My lottery applications",
    description=(
        "As the “My lottery applications” page: your applications by month of use, newest first, each with "
        "what you may do now, and per month the allowance left (K-LOT-2, S-LOT-2). Months taking "
        "applications now are listed even before your first application." + TENANCY
    ),
)
def list_applications(request, muni: Muni):
    municipality, user = _resident(request, muni)
    policy = services.policy_of(municipality)
    months = selectors.my_applications(municipality=municipality, user=user, open_months=True)
    return {"months": [_month(m, policy) for m in months]}


@lottery_router.post(
    "/{muni}/lottery/applications",
    response={201: ApplicationAnswer, **ACTION_ERRORS},
    summary="Apply for a slot in the lottery",
    description=(
        "Applies for one slot of a unit in its month's lottery, online, as the apply page does: inside the "
        "application window (K-LOT-1: M-2/10 00:00 – M-2/19 23:59; S-LOT-1: M-2/5 08:30 – M-2/15 23:59), within "
        "the monthly limit (K-LOT-2, S-LOT-2), residents only where the rules say so (S-REG-4), one application per "
        "site and slot time (S-LOT-3). 201 with the application and the allowance left; 422 with the rule id when "
        "a rule refuses (`refusals` lists them all; `already_applied` for a second application for the same slot, "
        "`lottery_unavailable` where there is no lottery). Applications do not hold slots, so there is no 409: "
        "requests of one user are counted one after the other, under the user's lock." + TENANCY
    ),
)
def apply(request, muni: Muni, payload: ApplicationIn):
    municipality, user = _resident(request, muni)
    unit = facility_selectors.get_unit(municipality=municipality, unit_id=payload.unit_id)
    try:
        application = services.apply(
            user=user, unit=unit, starts_at=payload.start, ends_at=payload.end, channel=Channel.ONLINE
        )
    except services.LotteryError as error:
        raise _refused(error) from None
    return Status(201, _answer(municipality, user, application.pk))


def _act(request, muni: str, application_id: int, service) -> dict:
    municipality, user = _resident(request, muni)
    application = selectors.get_my_application(municipality=municipality, user=user, application_id=application_id)
    try:
        service(user=user, application_id=application.pk)
    except services.LotteryError as error:
        raise _refused(error) from None
    return _answer(municipality, user, application.pk)


@lottery_router.get(
    "/{muni}/lottery/applications/{application_id}",
    response={200: ApplicationAnswer, **ERRORS},
    summary="One of my lottery applications",
    description="With the allowance left for its month." + NOT_YOURS + TENANCY,
)
def get_application(request, muni: Muni, application_id: ApplicationId):
    municipality, user = _resident(request, muni)
    application = selectors.get_my_application(municipality=municipality, user=user, application_id=application_id)
    return _answer(municipality, user, application.pk)


@lottery_router.post(
    "/{muni}/lottery/applications/{application_id}/withdraw",
    response={200: ApplicationAnswer, **ACTION_ERRORS},
    summary="Withdraw a lottery application",
    description=(
        "While the application window is open (K-LOT-1, S-LOT-1): 200 with the application, now "
        "`withdrawn`, and the allowance it gives back. Afterwards 422 with the window's rule id; an "
        "application no longer applied for, 422 `not_active`." + NOT_YOURS + TENANCY
    ),
)
def withdraw(request, muni: Muni, application_id: ApplicationId):
    return _act(request, muni, application_id, services.withdraw)


@lottery_router.post(
    "/{muni}/lottery/applications/{application_id}/confirm",
    response={200: ApplicationAnswer, **ACTION_ERRORS},
    summary="Confirm a lottery win (Shiroi)",
    description=(
        "S-LOT-5 (当選結果を確定する): from the results moment (the 18th) to the end of the 25th, a "
        "Shiroi win becomes a provisional booking due for payment (S-PAY-1/2); 200 with the application, "
        "now `confirmed`, and its `reservation_id`. Outside that window 422 `S-LOT-5` (before the results "
        "a loser gets the same answer as a winner); an application that is not a win awaiting "
        "confirmation, 422 `not_won`; where a win is a booking at once (Kodaira), 422 `K-LOT-4`." + NOT_YOURS + TENANCY
    ),
)
def confirm(request, muni: Muni, application_id: ApplicationId):
    return _act(request, muni, application_id, services.confirm_win)


@lottery_router.post(
    "/{muni}/lottery/applications/{application_id}/forfeit",
    response={200: ApplicationAnswer, **ACTION_ERRORS},
    summary="Give up a lottery win (Shiroi)",
    description=(
        "S-LOT-5 (当選の権利を放棄する): in the same window as confirming, the win is given up and its "
        "slot freed at once; 200 with the application, now `forfeited`. The same refusals as confirming."
        + NOT_YOURS
        + TENANCY
    ),
)
def forfeit(request, muni: Muni, application_id: ApplicationId):
    return _act(request, muni, application_id, services.forfeit_win)
