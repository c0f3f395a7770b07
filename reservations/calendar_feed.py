"""Calendar files (issue #8 item 3): the private feed of a user's bookings and the one-booking "add to calendar"
file, both RFC 5545 iCalendar built with the ``icalendar`` library; and the feed's issue and revoke.

- **UID** ``yoyaku-reservation-<id>@<host>``: the booking's id and the portal's host name, so it is the same on
  every fetch and in the one-booking file (a calendar app that has both keeps one event). A change at the
  portal is a new booking (``changed_from``): the old UID disappears, a new one appears.
- **STATUS** ``TENTATIVE`` while provisional or awaiting payment (K-FC-4, S-PAY-1, T-PAY-1), ``CONFIRMED`` once
  confirmed; the state is the one the pages show (``rules.effective_state``: past its K-FC-4 confirmation
  instant a provisional booking is confirmed even before the midnight job ran). ``SEQUENCE`` is 0 for a
  tentative event and 1 for a confirmed one, so a client that compares sequences takes the confirmation.
- **Cancelled bookings are left out** of the feed: at the next fetch the event disappears.
- **Times** are ``DTSTART;TZID=Asia/Tokyo`` with the VTIMEZONE component in the file (all rules speak Japan time).
- **SUMMARY** is the facility and unit name, **LOCATION** the facility's address, both in the given language
  (the user's e-mail language for the feed, which has no session; the page's language for the one-booking file).
"""

import datetime as dt
import zoneinfo

import icalendar
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import credentials
from accounts.hashed_keys import digest
from accounts.models import Revocation
from config import clock
from facilities.models import BookingState

from . import rules
from .models import CalendarFeed, Reservation

JAPAN = zoneinfo.ZoneInfo(settings.TIME_ZONE)
PRODID = "-//Yoyaku//Public facility reservations//JA"
# How far back the feed keeps bookings that took place: a year, so that the file stays small for old accounts.
PAST_KEPT = dt.timedelta(days=366)
TENTATIVE_STATES = (BookingState.PROVISIONAL, BookingState.AWAITING_PAYMENT, BookingState.WON)


# Issue and revoke -------------------------------------------------------------------------------------------


def issue_feed(*, user) -> tuple[CalendarFeed, str]:
    """A new feed for ``user``; any active one is revoked in the same transaction (re-issue). Returns the row and
    the key, which is shown once and never stored. ``accounts.credentials.CredentialRefused`` when the account
    can no longer have one (withdrawn, registration expired, password changed meanwhile)."""
    for _attempt in range(5):
        prefix, key = CalendarFeed.new_key()
        try:
            with transaction.atomic():
                credentials.lock_for_new_credential(user)  # refused for a withdrawn, expired or changed account
                now = clock.now()
                CalendarFeed.objects.of_user(user).active().update(revoked_at=now, revoked_reason=Revocation.REISSUED)
                row = CalendarFeed.objects.create(user=user, prefix=prefix, secret_hash=digest(key), created_at=now)
                return row, key
        except IntegrityError:  # a prefix taken (1 in 2^48) or a concurrent issue: try again
            continue
    raise RuntimeError("could not issue a calendar feed")


def revoke_feed(*, user) -> int:
    """Revoke the user's active feed; its address answers 404 from now on. Returns how many were revoked."""
    with transaction.atomic():
        return (
            CalendarFeed.objects.of_user(user)
            .active()
            .update(revoked_at=clock.now(), revoked_reason=Revocation.BY_USER)
        )


def active_feed(*, user) -> CalendarFeed | None:
    return CalendarFeed.objects.of_user(user).active().first()


# Reads ------------------------------------------------------------------------------------------------------


def feed_reservations(*, user, municipality, now: dt.datetime | None = None) -> list[Reservation]:
    """The user's bookings in ``municipality`` for the feed: not cancelled, ended at most a year ago, lottery wins
    from their results moment (K-LOT-3, S-LOT-5)."""
    now = now or clock.now()
    return list(
        Reservation.objects.of(municipality)
        .for_user(user)
        .active()
        .visible_to_resident(now)
        .filter(ends_at__gt=now - PAST_KEPT)
        .select_related("unit", "unit__facility", "municipality")
        .order_by("starts_at", "id")
    )


# Building ---------------------------------------------------------------------------------------------------


def uid(reservation: Reservation, host: str) -> str:
    return f"yoyaku-reservation-{reservation.pk}@{host}"


def host_name(request) -> str:
    """The portal's host name without the port: the domain part of the UIDs."""
    host = request.get_host().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


def build_calendar(
    reservations, *, host: str, language: str, name: str, link: str = "", now: dt.datetime | None = None
) -> bytes:
    """The iCalendar file of ``reservations`` (cancelled ones are skipped), texts in ``language``."""
    now = now or clock.now()
    with translation.override(language):
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", name)
        calendar.add("x-wr-timezone", settings.TIME_ZONE)
        for reservation in reservations:
            if reservation.is_active:
                calendar.add_component(_event(reservation, host=host, link=link, now=now))
        calendar.add_missing_timezones()
        return calendar.to_ical()


def _event(reservation: Reservation, *, host: str, link: str, now: dt.datetime) -> icalendar.Event:
    unit = reservation.unit
    facility = unit.facility
    state = rules.effective_state(reservation, None, now)
    tentative = state in TENTATIVE_STATES
    event = icalendar.Event()
    event.add("uid", uid(reservation, host))
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("created", reservation.created_at.astimezone(dt.UTC))
    event.add("dtstart", reservation.starts_at.astimezone(JAPAN))
    event.add("dtend", reservation.ends_at.astimezone(JAPAN))
    event.add("summary", f"{facility.name} {unit.name}")
    if facility.address:
        event.add("location", facility.address)
    event.add("status", "TENTATIVE" if tentative else "CONFIRMED")
    event.add("sequence", 0 if tentative else 1)
    event.add("transp", "OPAQUE")
    event.add("description", _description(reservation, state, link, now))
    if link:
        event.add("url", link)
    return event


def _description(reservation: Reservation, state: str, link: str, now: dt.datetime) -> str:
    lines = [
        _("Booking no. %(id)s") % {"id": reservation.pk},
        _("State: %(state)s") % {"state": BookingState(state).label},
    ]
    if state in TENTATIVE_STATES and reservation.pay_by:
        last = clock.localtime(reservation.pay_by_last_minute)
        text = _("Pay by %(date)s %(time)s") % {"date": f"{last:%Y-%m-%d}", "time": f"{last:%H:%M}"}
        if reservation.pay_by_rule_id:
            text += f" ({reservation.pay_by_rule_id})"
        lines.append(text)
    if state == BookingState.PROVISIONAL and reservation.confirm_at and reservation.confirm_at > now:
        at = clock.localtime(reservation.confirm_at)
        lines.append(
            _("Confirmed automatically at %(date)s %(time)s") % {"date": f"{at:%Y-%m-%d}", "time": f"{at:%H:%M}"}
        )
    if link:
        lines.append(link)
    return "\n".join(lines)
