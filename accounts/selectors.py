"""Reads of a user's own account, shaped for the pages and the JSON API alike: the profile page
(accounts/profile_views.py) and ``GET /api/v1/me``, the notifications page (accounts/notice_views.py) and
``GET /api/v1/{muni}/notifications`` (accounts/api.py) call these, so a page and the API never disagree.

Validity and renewal come from the municipality's rule profile through accounts/registration.py (K-REG-3,
S-REG-3, T-REG-1); nothing here decides anything that module does not.
"""

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils import formats
from django.utils.translation import gettext as _

from config import clock
from facilities.models import RuleProfile

from . import registration
from .models import Notice, Registration

PER_PAGE = 20  # notices a page, on the page and in the API


# The account ---------------------------------------------------------------------------------------------------


def rule_profile_of(user) -> RuleProfile | None:
    """The rule profile of the user's municipality; None for the operator (no municipality) or a municipality
    without one."""
    if user.municipality_id is None:
        return None
    return RuleProfile.objects.filter(municipality_id=user.municipality_id).first()


@dataclass(frozen=True)
class Validity:
    """A resident registration's validity as the profile page and ``GET /api/v1/me`` show it."""

    valid_from: dt.date | None
    valid_until: dt.date | None
    valid_today: bool
    rule_id: str  # the profile's registration rule (K-REG-3, S-REG-3, T-REG-1)
    renewal_opens_on: dt.date | None  # T-REG-1: the renewal window's first day; None: at any time
    renewal_open: bool | None  # whether that window is open today; None when the profile has no window
    renewal_rule_id: str
    rolling_renewal: bool  # K-REG-3: a registration that booked and used a room continues by itself
    note: str  # the same, in a sentence or two of the request's language


def validity_of(user, profile: RuleProfile | None, today: dt.date | None = None) -> Validity | None:
    """None for a staff account (no registration to be valid)."""
    if user.account_kind == user.AccountKind.STAFF:
        return None
    today = today or clock.today()
    has_window = profile is not None and bool(profile.validity_kind)
    opens = registration.renewal_opens_on(user, profile) if has_window else None
    rolling = has_window and profile.rolling_renewal_when_used
    return Validity(
        valid_from=user.valid_from,
        valid_until=user.valid_until,
        valid_today=user.is_valid_on(today),
        rule_id=profile.registration_rule_id if profile else "",
        renewal_opens_on=opens,
        renewal_open=None if opens is None else today >= opens,
        renewal_rule_id=profile.renewal_rule_id if profile else "",
        rolling_renewal=rolling,
        note=_validity_note(user, profile, opens, rolling) if has_window else "",
    )


def _validity_note(user, profile: RuleProfile, opens: dt.date | None, rolling: bool) -> str:
    """The expiry e-mail's sentences (accounts/services.expiry_notice_text), for a registration that expires."""
    if user.valid_until is None:
        return ""
    lines = []
    if rolling:
        lines.append(
            _(
                "If your group books and uses a room before then, the registration continues for another "
                "year by itself (%(rule)s)."
            )
            % {"rule": profile.registration_rule_id or profile.renewal_rule_id}
        )
    if opens is not None:
        lines.append(
            _("You can renew it at a counter from %(date)s.") % {"date": formats.date_format(opens, "DATE_FORMAT")}
        )
    else:
        lines.append(_("You can renew it at a counter."))
    return " ".join(lines)


@dataclass(frozen=True)
class Account:
    user: object
    rule_profile: RuleProfile | None
    registration: Registration | None
    validity: Validity | None


def account_of(user) -> Account:
    """The logged-in user's own account: nothing here takes an id."""
    profile = rule_profile_of(user)
    return Account(
        user=user,
        rule_profile=profile,
        registration=Registration.objects.filter(user=user).first(),
        validity=validity_of(user, profile),
    )


# Notifications -------------------------------------------------------------------------------------------------


def notices_of(user):
    """Every notice addressed to ``user`` (accounts.Notice, the e-mail outbox), newest first; nobody else's."""
    return Notice.objects.filter(user=user).order_by("-created_at", "-id")


@dataclass(frozen=True)
class NoticePage:
    items: list
    count: int
    number: int
    pages: int


def notice_page(*, user, number: int) -> NoticePage:
    """Page ``number`` (from 1) of the user's notices, PER_PAGE a page; past the last page, no items (a client
    paging on stops there rather than being sent back to the last page)."""
    paginator = Paginator(notices_of(user), PER_PAGE)
    items = list(paginator.page(number).object_list) if number <= paginator.num_pages else []
    return NoticePage(items=items, count=paginator.count, number=number, pages=paginator.num_pages)
