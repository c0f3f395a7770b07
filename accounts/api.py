"""The JSON API of one's own account (issue #19 item 7): ``GET /api/v1/me`` (what the profile page shows) and
``GET /api/v1/{muni}/notifications`` (the notifications page). Thin: the reads are ``accounts.selectors``, the
same the pages call; the error contract is config/api.py's.
"""

import datetime as dt

from ninja import Field, Query, Router, Schema

from accounts.auth import API_AUTH, api_user
from config import clock
from reservations import rules
from reservations.api import ERRORS, ApiError, ErrorOut, Muni, _municipality, _require_resident

from . import selectors
from .models import Notice

MAX_PAGE = 1_000_000  # a page number beyond this is malformed (400); beyond the last page, no items

account = Router(tags=["account"], auth=API_AUTH)


class MunicipalityRef(Schema):
    slug: str
    name_ja: str
    name_en: str


class RenewalOut(Schema):
    opens_on: dt.date = Field(
        description="The first day the registration may be renewed at a counter (T-REG-1: "
        "3 months before the last valid day)."
    )
    open: bool = Field(description="Whether that day has come (Japan time).")
    rule_id: str


class ValidityOut(Schema):
    valid_from: dt.date | None
    valid_until: dt.date | None = Field(description="The last valid day, included; null: does not expire.")
    valid_today: bool = Field(
        description="Whether the registration is valid today (Japan time): an expired one "
        "cannot book or apply (the profile's rule id, e.g. T-REG-1)."
    )
    rule_id: str = Field(description="The profile's registration rule: K-REG-3, S-REG-3, T-REG-1.")
    renewal: RenewalOut | None = Field(
        description="The renewal window, where the municipality has one (Tamba, "
        "T-REG-1); null where a registration may be renewed at any time."
    )
    rolling_renewal: bool = Field(
        description="K-REG-3: a registration that booked and used a room within its "
        "period continues for another year by itself."
    )
    note: str = Field(description="The same in words, in the request's language (as on the profile page).")


class MeOut(Schema):
    username: str = Field(description="The user ID (利用者ID, 登録番号).")
    display_name: str = Field(description="The name shown: the group's or the person's.")
    municipality: MunicipalityRef
    account_kind: str = Field(description="group (Kodaira), individual (Shiroi) or card_holder (Tamba).")
    residency: str = Field(description="resident or non_resident (S-REG-4: non-residents pay double, no lottery).")
    fee_category: str = Field(description="general, student or child (the Shiroi fee table's columns).")
    email: str = Field(description="Empty: no address; notices are then shown on the portal only.")
    language: str = Field(description="The language of the e-mails: ja or en.")
    validity: ValidityOut


class NoticeOut(Schema):
    id: int
    kind: str = Field(
        description="booked, payment_due, paid, cancelled, cancelled_unpaid, slot_free, "
        "lottery_result, account_expiring, … (accounts.Notice.Kind)."
    )
    kind_label: str = Field(description="The kind in the request's language.")
    subject: str = Field(
        description="In the request's language (Accept-Language) when the notice was written in it, else in the "
        "language it was e-mailed in; `language` says which."
    )
    body: str = Field(description="In the same language as `subject`.")
    language: str = Field(description="The language of `subject` and `body`: ja or en.")
    created_at: dt.datetime
    email: str = Field(
        description="sent, not_sent_yet, or not_emailed (the user has no address: shown on the portal only)."
    )
    sent_at: dt.datetime | None


class NoticePageOut(Schema):
    items: list[NoticeOut]
    count: int = Field(description="All your notices.")
    page: int
    pages: int = Field(description="Pages of `per_page`; a page past the last has no items.")
    per_page: int


def _require_resident_account(user) -> None:
    """/me is for resident accounts, like every operation that is not public: a staff account gets 403
    ``staff_account``, as on /reservations (rules.account_refusal is the one check)."""
    refusal = rules.account_refusal(user, user.municipality_id)
    if refusal is not None:
        raise ApiError(403, refusal.code, refusal.message)


@account.get(
    "/me",
    response={200: MeOut, 401: ErrorOut, 403: ErrorOut},
    summary="My account",
    description="Your account as the profile page shows it: user ID, name, municipality, kind, residency, "
    "fee category, validity and the renewal window. A staff account gets 403 `staff_account`.",
)
def me(request):
    user = api_user(request)
    _require_resident_account(user)
    found = selectors.account_of(user)
    validity = found.validity
    municipality = user.municipality
    return {
        "username": user.get_username(),
        "display_name": user.display_name,
        "municipality": {"slug": municipality.slug, "name_ja": municipality.name_ja, "name_en": municipality.name_en},
        "account_kind": user.account_kind,
        "residency": user.residency,
        "fee_category": user.fee_category,
        "email": user.email,
        "language": user.language,
        "validity": {
            "valid_from": validity.valid_from,
            "valid_until": validity.valid_until,
            "valid_today": validity.valid_today,
            "rule_id": validity.rule_id,
            "rolling_renewal": validity.rolling_renewal,
            "note": validity.note,
            "renewal": None
            if validity.renewal_opens_on is None
            else {
                "opens_on": validity.renewal_opens_on,
                "open": validity.renewal_open,
                "rule_id": validity.renewal_rule_id,
            },
        },
    }


KIND_LABELS = dict(Notice.Kind.choices)


def _notice(notice: Notice) -> dict:
    if notice.sent_at:
        email = "sent"
    elif notice.email:
        email = "not_sent_yet"
    else:
        email = "not_emailed"
    # The reader's language, as the notifications page (issue #21 item 8); notices from before Notice.texts have
    # only the e-mail's language.
    subject, body, language = notice.in_language()
    return {
        "id": notice.pk,
        "kind": notice.kind,
        "kind_label": str(KIND_LABELS.get(notice.kind, notice.kind)),
        "subject": subject,
        "body": body,
        "language": language,
        "created_at": clock.localtime(notice.created_at),
        "email": email,
        "sent_at": clock.localtime(notice.sent_at) if notice.sent_at else None,
    }


@account.get(
    "/{muni}/notifications",
    response={200: NoticePageOut, **ERRORS},
    summary="My notifications",
    description=(
        f"Everything the portal has told you (bookings, payments, cancellations, alerts, lottery results, your "
        f"account), newest first, {selectors.PER_PAGE} a page, as on the notifications page: only yours. Only "
        "resident accounts registered with the municipality in the URL: another municipality's account gets 403 "
        "`not_registered_here`, a staff account 403 `staff_account`."
    ),
)
def my_notifications(
    request, muni: Muni, page: int = Query(1, ge=1, le=MAX_PAGE, description="From 1; past the last page, no items.")
):
    municipality = _municipality(muni)
    user = api_user(request)
    _require_resident(user, municipality)
    found = selectors.notice_page(user=user, number=page)
    return {
        "items": [_notice(n) for n in found.items],
        "count": found.count,
        "page": found.number,
        "pages": found.pages,
        "per_page": selectors.PER_PAGE,
    }
