"""The one rules module: may this user book these slots of this unit through this channel now, and if not, why.

Every answer cites the rule id of RULES.md (K-FC-3, S-FC-2, T-APP-3, …) or, for checks that are not a
municipal rule, a short code (``slot_past``). The same answer drives the pages, the API and the counter.
All numbers come from the municipality's rule profile (facilities.models.RuleProfile and its windows and limits).
"""

import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.db import connection
from django.utils import formats
from django.utils.translation import gettext as _

from config import clock
from config.tenancy import pk_of
from facilities import cache, calendars, daterules
from facilities.models import (
    ACTIVE_STATES,
    BookingLimit,
    BookingState,
    BookingWindow,
    Channel,
    Phase,
    RuleProfile,
    Unit,
)
from facilities.slots import Slot, unit_slots

from .models import Reservation

CHANNELS = frozenset(Channel.values)  # Channel.values builds a new list on each call


# What kind of "not now" a window refusal is (the grid's short words, issue #21): the booking opens later
# (受付前, with ``Refusal.at`` the opening instant), only another channel takes it now (窓口), it has closed
# (受付終了), or the channel's daily service hours are over for now (T-APP-3).
NOT_YET = "not_yet"
OTHER_CHANNEL = "other_channel"
ENDED = "ended"
SERVICE_HOURS = "service_hours"


@dataclass(frozen=True)
class Refusal:
    code: str  # a rule id of RULES.md, or a short system code
    message: str
    kind: str = field(default="", compare=False)  # NOT_YET, OTHER_CHANNEL, ENDED, SERVICE_HOURS; "" otherwise
    at: dt.datetime | None = field(default=None, compare=False)  # NOT_YET: when it opens

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


@dataclass
class Decision:
    refusals: list[Refusal] = field(default_factory=list)
    window: BookingWindow | None = None
    initial_state: str = ""
    confirm_at: dt.datetime | None = None
    pay_by: dt.datetime | None = None
    pay_by_rule_id: str = ""
    paid_at_booking: bool = False  # the window takes the booking only together with its payment (S-FC-3, T-PAY-3)

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def phase(self) -> str:
        return self.window.phase if self.window else ""


def when(moment: dt.datetime) -> str:
    """The date in the current language and a 24-hour Japan time: "2027年7月2日 09:00", "July 2, 2027 09:00".
    (The locale's DATETIME_FORMAT would say "9 a.m.." in English, with the sentence's full stop.)"""
    local = clock.localtime(moment)
    return f"{formats.date_format(local, 'DATE_FORMAT')} {local:%H:%M}"


def until(moment: dt.datetime) -> str:
    """The last minute before ``moment`` when it is a midnight ("until the end of D-8": "2027年5月8日 23:59"),
    else ``when(moment)``: a window that closes at 00:00 is open until 23:59 of the day before."""
    local = clock.localtime(moment)
    if local.time() == dt.time(0):
        return when(local - dt.timedelta(minutes=1))
    return when(local)


class ProfileRules:
    """A municipality's profile with its windows and limits, loaded once (one request, one job run)."""

    def __init__(self, profile: RuleProfile):
        self.profile = profile
        self.windows = list(profile.windows.all())
        self.limits = list(profile.limits.all())

    @classmethod
    def of(cls, municipality) -> "ProfileRules":
        """Cached per process until the catalogue changes (facilities.cache): the profile changes rarely."""
        municipality_id = pk_of(municipality)
        return cache.cached(
            ("profile", municipality_id),
            lambda: cls(RuleProfile.objects.prefetch_related("windows", "limits").get(municipality_id=municipality_id)),
        )

    @classmethod
    def find(cls, municipality) -> "ProfileRules | None":
        """Like ``of``, but None for a municipality that has no rule profile yet (it takes no bookings)."""
        try:
            return cls.of(municipality)
        except RuleProfile.DoesNotExist:
            return None


def staff_refusal(staff, municipality_id: int) -> Refusal | None:
    """None when ``staff`` is active staff of the municipality (counter entries, payments, overrides, keys)."""
    if staff is None or not staff.is_clerk_of(municipality_id):
        return Refusal("staff_only", _("Only staff of this municipality can do this."))
    return None


def scope_refusal(staff, facility) -> Refusal | None:
    """None when ``staff`` serves the counter of ``facility`` (``User.serves_facility``: the clerk's facility scope,
    empty = all; administrators serve all); else the refusal of a clerk acting outside it (issue #7)."""
    if staff is None or not staff.serves_facility(facility):
        return Refusal("staff_scope", _("This facility is outside your counter's scope."))
    return None


@dataclass(frozen=True)
class BookingDetails:
    """What the resident entered on the booking form (issue #21 item 5): the purpose of use, the number of
    people, whether the terms were accepted. The profile says which are asked (``details_refusals``)."""

    purpose: str = ""
    headcount: int | None = None
    terms_accepted: bool = False


PURPOSE_MAX_LENGTH = 200


def details_refusals(profile: RuleProfile | None, details: BookingDetails) -> list[Refusal]:
    """Why the form's answers do not do for this municipality's profile: a required purpose or number of people
    left empty, a number out of range, terms not accepted. Each refusal's code names the field (the page puts
    the sentence beside it; the API answers with it). No profile: nothing is asked."""
    if profile is None:
        return []
    refusals = []
    if profile.ask_purpose == "required" and not details.purpose.strip():
        refusals.append(Refusal("purpose_required", _("Enter the purpose of use (e.g. a meeting, a practice).")))
    if len(details.purpose) > PURPOSE_MAX_LENGTH:
        refusals.append(
            Refusal(
                "purpose_too_long", _("Keep the purpose of use within %(n)d characters.") % {"n": PURPOSE_MAX_LENGTH}
            )
        )
    if details.headcount is not None and not 1 <= details.headcount <= profile.headcount_limit:
        refusals.append(
            Refusal(
                "headcount_invalid",
                _("Enter the number of people as a whole number from 1 to %(max)d.") % {"max": profile.headcount_limit},
            )
        )
    elif profile.ask_headcount == "required" and details.headcount is None:
        refusals.append(Refusal("headcount_required", _("Enter the number of people who will use it.")))
    if profile.terms_ja.strip() and not details.terms_accepted:
        refusals.append(
            Refusal(
                "terms_not_accepted", _("Read the terms of use and tick the box to accept them; nothing was booked.")
            )
        )
    return refusals


def no_profile_refusal() -> Refusal:
    """What a slot of a municipality without a rule profile answers."""
    return Refusal("channel_unavailable", _("This municipality does not take bookings online yet."), kind=OTHER_CHANNEL)


def account_refusal(user, municipality_id: int) -> Refusal | None:
    """None when ``user`` is a resident account of this municipality; else why they cannot book here."""
    if user is None:  # a walk-in's booking (S-FC-3): what needs an account (an override, a transfer) is refused
        return Refusal("registration_required", _("This person has no registration: this needs a registered user."))
    if user.municipality_id != municipality_id:
        return Refusal("not_registered_here", _("Your registration is with another municipality."))
    if user.account_kind == "staff":
        return Refusal("staff_account", _("Staff accounts book for residents through the counter console."))
    if not user.is_active:  # withdrawn (T-REG-2 re-issue, duplicates), or an online request not yet checked (S-REG-1)
        return inactive_refusal(user)
    return None


def inactive_refusal(user) -> Refusal:
    """Why an inactive account cannot book, with the rule that made it so: an online request whose identity is not
    checked yet (S-REG-1: the profile's registration rule), a card re-issued under a new ID (T-REG-2); else a code
    (withdrawn for another reason, e.g. a duplicate). A query, but only for the refused."""
    from accounts.models import Registration

    registration = Registration.objects.filter(user=user).first()
    loaded = ProfileRules.find(user.municipality_id)
    profile = loaded.profile if loaded else None
    if registration is not None and profile is not None:
        if registration.status == Registration.Status.PENDING and profile.account_rule_id:
            return Refusal(
                profile.account_rule_id,
                _("This registration is not completed yet: the identity is checked at the counter first."),
            )
        replaced = Registration.objects.filter(replaces=registration).exists()
        if registration.status == Registration.Status.WITHDRAWN and replaced and profile.card_reissue_rule_id:
            return Refusal(
                profile.card_reissue_rule_id,
                _("This registration was withdrawn when a new card was issued: book with the new user ID."),
            )
    return Refusal("account_inactive", _("This registration is not active: it was withdrawn or is not completed yet."))


def walk_in_refusal(rules: "ProfileRules", channel: str) -> Refusal | None:
    """None when the counter may book for a person without registration here (S-FC-3: ``walk_in_rule_id`` of
    the profile); else why not, citing the profile's registration rule (K-REG-1, T-REG-1) when it takes none."""
    profile = rules.profile
    if not profile.walk_in_rule_id:
        return Refusal(
            profile.account_rule_id or "registration_required",
            _("Bookings here are for registered users only: register the person first."),
        )
    if channel != Channel.COUNTER:
        return Refusal(profile.walk_in_rule_id, _("A person without registration is booked at the counter only."))
    return None


# Slots ------------------------------------------------------------------------------------------------------


CLOSURE_RULE_ID = "X-2"  # the facility's closure calendar (休館日): closed days take no bookings, in every profile


def slot_rule_id(unit: Unit) -> str:
    """The rule a requested time breaks when it is not a slot of ``unit``: the profile's (S-HRS-1: 2-hour slots
    within the season's hours; T-USE-1: whole hours from 09:00 to 22:00), or ``slot_invalid`` where the profile
    names none (Kodaira's periods: the seed states no rule id)."""
    loaded = ProfileRules.find(unit.municipality_id)
    return (loaded.profile.slot_rule_id if loaded else "") or "slot_invalid"


class SlotRequestError(ValueError):
    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal


def resolve_slots(unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime) -> list[Slot]:
    """The unit's slots that exactly tile [starts_at, ends_at); SlotRequestError when they do not."""
    starts_at, ends_at = clock.localtime(starts_at), clock.localtime(ends_at)
    day = starts_at.date()
    facility = unit.facility
    if ends_at <= starts_at or (ends_at.date() != day and ends_at.time() != dt.time(0)):
        raise SlotRequestError(Refusal(slot_rule_id(unit), _("A booking must start and end on the same day.")))
    if not calendars.is_open(facility, day):
        raise SlotRequestError(Refusal(CLOSURE_RULE_ID, _("The facility is closed on that day.")))
    offered = unit_slots(unit, day)
    chosen = [slot for slot in offered if starts_at <= slot.starts_at and slot.ends_at <= ends_at]
    tiles = (
        chosen
        and chosen[0].starts_at == starts_at
        and chosen[-1].ends_at == ends_at
        and all(a.ends_at == b.starts_at for a, b in itertools.pairwise(chosen))
    )
    if not tiles:
        if offered and (ends_at > offered[-1].ends_at or starts_at < offered[0].starts_at):
            first, last = clock.localtime(offered[0].starts_at), clock.localtime(offered[-1].ends_at)
            raise SlotRequestError(
                Refusal(
                    slot_rule_id(unit),
                    _(
                        "On that day this unit can be used from %(opens)s to %(closes)s; %(start)s–%(end)s is outside "
                        "those hours. Choose a time within them."
                    )
                    % {
                        "opens": f"{first:%H:%M}",
                        "closes": "24:00" if last.time() == dt.time(0) and last.date() > day else f"{last:%H:%M}",
                        "start": f"{starts_at:%H:%M}",
                        "end": "24:00" if ends_at.time() == dt.time(0) and ends_at.date() > day else f"{ends_at:%H:%M}",
                    },
                )
            )
        raise SlotRequestError(Refusal(slot_rule_id(unit), _("That time is not a slot of this unit.")))
    if len(chosen) > 1 and not unit.slot_scheme.allows_runs:
        raise SlotRequestError(Refusal(slot_rule_id(unit), _("This unit is booked one slot at a time.")))
    return chosen


def early_start_slots(
    profile: RuleProfile | None, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime
) -> list[Slot]:
    """T-USE-1: the slots of an early start granted by staff — [starts_at, ends_at) beginning before the unit's
    first slot of the day, at the profile's ``early_start_from`` (Tamba: 07:00) at the earliest. The part before
    the first slot is cut into slots of the scheme's length ending at that first slot (hourly: 07:00, 08:00), so
    the booking holds them like any slot (X-3); a span that runs on past the first slot must tile the day's slots
    from there (``resolve_slots``). SlotRequestError says why not: no early starts in this profile, a unit kind
    that is not a sports one, before the earliest time, not on the slot grid, a closed day."""
    if profile is None or profile.early_start_from is None:  # the hours stand as they are (S-HRS-1)
        code = (profile.slot_rule_id if profile else "") or "early_start_unavailable"
        raise SlotRequestError(Refusal(code, _("This municipality's rules have no early starts.")))
    code = profile.early_start_rule_id or "early_start"
    if unit.kind not in profile.early_start_kinds():
        raise SlotRequestError(
            Refusal(
                code,
                _("Only sports units may start early (%(kinds)s).")
                % {
                    "kinds": ", ".join(
                        str(Unit.Kind(kind).label)
                        for kind in sorted(profile.early_start_kinds())
                        if kind in Unit.Kind.values
                    )
                },
            )
        )
    local_start, local_end = clock.localtime(starts_at), clock.localtime(ends_at)
    day = local_start.date()
    earliest = clock.at(day, profile.early_start_from)
    if local_start < earliest:
        raise SlotRequestError(
            Refusal(
                code,
                _("An early start begins at %(time)s at the earliest.") % {"time": f"{profile.early_start_from:%H:%M}"},
            )
        )
    if local_end <= local_start or (local_end.date() != day and local_end.time() != dt.time(0)):
        raise SlotRequestError(Refusal(code, _("A booking must start and end on the same day.")))
    facility = unit.facility
    if not calendars.is_open(facility, day):
        raise SlotRequestError(Refusal(CLOSURE_RULE_ID, _("The facility is closed on that day.")))
    offered = unit_slots(unit, day)
    step = unit.slot_scheme.step()
    if not offered or step <= dt.timedelta(0):
        raise SlotRequestError(Refusal(code, _("This unit has no slots to start early before.")))
    first = offered[0].starts_at
    if local_start >= first:
        raise SlotRequestError(
            Refusal(
                code,
                _("An early start begins before the first slot of the day (%(time)s).")
                % {"time": f"{clock.localtime(first):%H:%M}"},
            )
        )
    early: list[Slot] = []
    moment = first - step
    while moment >= local_start:
        early.insert(0, Slot(moment, moment + step))
        moment -= step
    early = [slot for slot in early if slot.ends_at <= local_end]
    if not early or early[0].starts_at != local_start or (early[-1].ends_at != local_end and local_end <= first):
        raise SlotRequestError(Refusal(code, _("That time is not a slot of this unit.")))
    if local_end <= first:
        return early
    return early + resolve_slots(unit, first, ends_at)


# Limits -----------------------------------------------------------------------------------------------------


def month_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return clock.at(first, dt.time(0)), clock.at(following, dt.time(0))


_SCOPE_CONDITION: dict[str, tuple] = {
    BookingLimit.Scope.FACILITY: ("u.facility_id = %s", lambda unit: unit.facility_id),
    BookingLimit.Scope.UNIT: ("r.unit_id = %s", lambda unit: unit.id),
    BookingLimit.Scope.MUNICIPALITY: ("r.municipality_id = %s", lambda unit: unit.municipality_id),
}


def slots_used(*, user, limit: BookingLimit, unit: Unit, use_date: dt.date, replacing: int | None = None) -> int:
    """Slots the user holds that count toward ``limit`` in the limit's scope and the month of ``use_date``,
    leaving out the booking ``replacing`` (the id of a booking being changed: its slots are given back).

    Plain SQL (the same as Reservation.objects.active().for_user(user)… with Sum("slot_count")): it runs on every
    booking request, where building the ORM query cost four times the query itself.
    """
    start, end = month_bounds(use_date)
    origins = sorted(limit.origins()) or [""]
    condition, scope_value = _SCOPE_CONDITION[limit.scope]
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f"SELECT COALESCE(SUM(r.slot_count), 0) FROM {Reservation._meta.db_table} r"
        f" JOIN {Unit._meta.db_table} u ON u.id = r.unit_id"
        f" WHERE r.user_id = %s AND r.state IN ({', '.join(['%s'] * len(ACTIVE_STATES))})"
        f" AND r.origin IN ({', '.join(['%s'] * len(origins))})"
        f" AND r.starts_at >= %s AND r.starts_at < %s AND {condition} AND r.id <> %s"
    )
    params = [
        user.pk,
        *[str(s) for s in ACTIVE_STATES],
        *origins,
        adapt(start),
        adapt(end),
        scope_value(unit),
        replacing or 0,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


# Windows ----------------------------------------------------------------------------------------------------


@dataclass
class _Bounds:
    window: BookingWindow
    opens: dt.datetime | None
    closes: dt.datetime | None

    def contains(self, now: dt.datetime) -> bool:
        return self.opens is not None and self.closes is not None and self.opens <= now < self.closes


def window_bounds(window: BookingWindow, unit: Unit, slot: Slot) -> _Bounds:
    use_date = clock.localtime(slot.starts_at).date()
    args = {"use_date": use_date, "slot_start": slot.starts_at, "facility": unit.facility}
    return _Bounds(
        window,
        daterules.opens_at(daterules.parse(window.opens), **args),
        daterules.closes_at(daterules.parse(window.closes), **args),
    )


def _first_served(window: BookingWindow, opens: dt.datetime) -> dt.datetime:
    """The first instant at or after ``opens`` inside the window's daily service hours (T-APP-3): a window that
    opens at 00:00 for a channel served from 10:00 really opens at 10:00."""
    if window.service_from is None or daterules.within_daily_hours(opens, window.service_from, window.service_until):
        return opens
    local = clock.localtime(opens)
    day = local.date() if local.time() < window.service_from else local.date() + dt.timedelta(days=1)
    return clock.at(day, window.service_from)


def _window_refusal(rules: ProfileRules, unit: Unit, slot: Slot, channel: str, now: dt.datetime) -> Refusal:
    """Why no window of this channel is open now: not yet, no longer (and where to go instead), or never.

    When this channel has closed while another channel still takes the slot, the refusal cites the rule that
    closed this channel (S-FC-2, T-APP-2: "online until D-7 / D-22") and points to the other channel; when the
    other channel's window is a phase of its own (Kodaira's last-minute phase, K-LM-1: "from D-7, counter only,
    the online system refuses"), it cites that phase's rule, which is the one that says so.
    """
    mine = [
        window_bounds(w, unit, slot)
        for w in rules.windows
        if w.channel == channel and w.phase != Phase.LOTTERY and w.applies_to(unit.facility)
    ]
    if not mine:
        code = rules.profile.unavailable_channel_rule_id or "channel_unavailable"
        return Refusal(
            code,
            _("%(municipality)s does not take bookings through this channel (%(channel)s).")
            % {"municipality": unit.facility.municipality.name, "channel": Channel(channel).label},
        )
    upcoming = sorted((b for b in mine if b.opens and now < b.opens), key=lambda b: b.opens)
    if upcoming:
        first = upcoming[0]
        opens = _first_served(first.window, first.opens)
        return Refusal(
            first.window.opens_rule_id,
            _("Booking for this slot opens at %(when)s.") % {"when": when(opens)},
            kind=NOT_YET,
            at=opens,
        )
    closed = sorted((b for b in mine if b.closes and b.closes <= now), key=lambda b: b.closes)
    last = closed[-1] if closed else None
    elsewhere = [
        window_bounds(w, unit, slot)
        for w in rules.windows
        if w.channel != channel and w.phase != Phase.LOTTERY and w.applies_to(unit.facility)
    ]
    open_elsewhere = [b for b in elsewhere if b.contains(now)]
    if open_elsewhere:
        other = open_elsewhere[0].window
        code = other.opens_rule_id
        if last is not None and last.window.phase == other.phase:
            code = last.window.closes_rule_id
        if channel == Channel.ONLINE and last is not None and other.channel == Channel.COUNTER:
            message = _("Online booking for this slot was open until %(when)s; from then on, book it at the counter.")
            return Refusal(code, message % {"when": until(last.closes)}, kind=OTHER_CHANNEL)
        return Refusal(
            code,
            _("Now this slot can only be booked %(channel)s.")
            % {
                "channel": {"counter": _("at the counter"), "phone": _("by telephone"), "online": _("online")}[
                    other.channel
                ]
            },
            kind=OTHER_CHANNEL,
        )
    if last is None:  # no window opens for this slot at all (K-FC-1: a month without an open day)
        return Refusal(mine[0].window.opens_rule_id or "window_closed", _("This slot cannot be booked."), kind=ENDED)
    return Refusal(
        last.window.closes_rule_id,
        _("Booking for this slot was open until %(when)s.") % {"when": until(last.closes)},
        kind=ENDED,
    )


def open_window(rules: ProfileRules, unit: Unit, slot: Slot, channel: str, now: dt.datetime) -> BookingWindow | None:
    for window in rules.windows:
        if window.channel != channel or window.phase == Phase.LOTTERY or not window.applies_to(unit.facility):
            continue
        if window_bounds(window, unit, slot).contains(now):
            return window
    return None


def service_hours_refusal(window: BookingWindow, now: dt.datetime) -> Refusal | None:
    """None inside the window's daily service hours (T-APP-3: online 10:00–24:00); else the refusal saying them."""
    if daterules.within_daily_hours(now, window.service_from, window.service_until):
        return None
    end = "24:00" if window.service_until == dt.time(0) else window.service_until.strftime("%H:%M")
    return Refusal(
        window.service_rule_id or "service_hours",
        _("Bookings through this channel are taken from %(start)s to %(end)s.")
        % {"start": window.service_from.strftime("%H:%M"), "end": end},
        kind=SERVICE_HOURS,
    )


def public_refusals(*, rules: "ProfileRules | None", unit: Unit, slot: Slot, now: dt.datetime) -> list[Refusal]:
    """Why nobody can book ``slot`` online at ``now``, whoever they are (issue #21): no rule profile, no open
    online window (not yet, only at the counter now, closed), outside the online service hours. What depends
    on the person (account, registration, monthly limits) is left to ``evaluate``. [] when a resident could."""
    if rules is None:
        return [no_profile_refusal()]
    if not unit.is_active:
        return [Refusal("unit_unavailable", _("This unit is not taking bookings."))]
    window = open_window(rules, unit, slot, Channel.ONLINE, now)
    if window is None:
        return [_window_refusal(rules, unit, slot, Channel.ONLINE, now)]
    hours = service_hours_refusal(window, now)
    return [hours] if hours is not None else []


# The decision -----------------------------------------------------------------------------------------------


def evaluate(
    *,
    rules: ProfileRules,
    user,
    unit: Unit,
    slots: list[Slot],
    channel: str,
    now: dt.datetime | None = None,
    check_limits: bool = True,
    replacing: int | None = None,
    paying_now: bool | None = False,
) -> Decision:
    """May ``user`` book ``slots`` (consecutive, of ``unit``) through ``channel`` at ``now``? ``replacing``: the id
    of the user's booking that this one would replace (a change), left out of the limit counts. ``user`` None: a
    walk-in, a person without registration (S-FC-3), where the profile takes them: the counter only, always paid
    with the booking, no registration and no monthly limit to check.

    ``paying_now``: whether the fee is paid in the same step. Where the window demands it (``paid_at_booking``:
    S-FC-3 from D-6, T-PAY-3 from D-21 at the counter) a booking without payment is refused; None (a counter
    screen listing slots) asks only whether the slot could be booked, and ``decision.paid_at_booking`` says that
    the payment must come with it."""
    now = now or clock.now()
    profile = rules.profile
    decision = Decision()
    first = slots[0]
    use_date = clock.localtime(first.starts_at).date()

    account = walk_in_refusal(rules, channel) if user is None else account_refusal(user, unit.municipality_id)
    if account is not None:
        decision.refusals.append(account)
        return decision
    if channel not in CHANNELS:
        decision.refusals.append(Refusal("channel_unavailable", _("Unknown booking channel.")))
        return decision
    if not unit.is_active:
        decision.refusals.append(Refusal("unit_unavailable", _("This unit is not taking bookings.")))
        return decision
    if user is not None and not user.is_valid_on(clock.localtime(now).date()):
        decision.refusals.append(
            Refusal(
                profile.registration_rule_id or "registration_expired",
                _("Your registration is not valid today; renew it at a counter."),
            )
        )
    if first.starts_at <= now:
        decision.refusals.append(Refusal("slot_past", _("This slot has already started.")))
        return decision

    window = open_window(rules, unit, first, channel, now)
    if window is None:
        decision.refusals.append(_window_refusal(rules, unit, first, channel, now))
        return decision
    decision.window = window
    decision.paid_at_booking = window.paid_at_booking or user is None
    if window.paid_at_booking and paying_now is False:
        decision.refusals.append(
            Refusal(
                window.pay_by_rule_id or "paid_at_booking",
                _("From now on the fee is paid together with the booking, at the counter: record the payment with it."),
            )
        )
    elif user is None and paying_now is False:  # S-FC-3: a walk-in pays at once, whatever the date
        decision.refusals.append(
            Refusal(
                profile.walk_in_rule_id,
                _("A person without registration pays the fee together with the booking: record the payment with it."),
            )
        )
    if (hours := service_hours_refusal(window, now)) is not None:
        decision.refusals.append(hours)

    if check_limits and user is not None:  # limits count a registered user's slots (K-FC-3, S-FC-4)
        decision.refusals += limit_refusals(
            rules=rules, user=user, unit=unit, slots=slots, window=window, now=now, replacing=replacing
        )

    decision.initial_state = window.initial_state
    booked_on = clock.localtime(now).date()
    if decision.initial_state == BookingState.PROVISIONAL and profile.confirm_after_booking_day:
        decision.confirm_at = clock.at(booked_on + dt.timedelta(days=1), dt.time(0))  # K-FC-4: midnight
    if window.pay_by:
        deadline = daterules.closes_at(
            daterules.parse(window.pay_by),
            use_date=use_date,
            slot_start=first.starts_at,
            facility=unit.facility,
            booked_on=booked_on,
        )
        decision.pay_by = min(deadline, first.starts_at) if deadline else None
        decision.pay_by_rule_id = window.pay_by_rule_id
    return decision


def limit_refusals(
    *,
    rules: ProfileRules,
    user,
    unit: Unit,
    slots: list[Slot],
    window: BookingWindow,
    now: dt.datetime,
    replacing: int | None = None,
) -> list[Refusal]:
    """The limits of ``window``'s phase that booking ``slots`` would exceed (K-FC-3, S-FC-4; lifted from D-6).
    Counts the user's bookings: a booking service calls it holding the user's lock."""
    first = slots[0]
    use_date = clock.localtime(first.starts_at).date()
    refusals = []
    for limit in rules.limits:
        if limit.phase != window.phase:
            continue
        if limit.lifted_from:
            lifted = daterules.opens_at(
                daterules.parse(limit.lifted_from),
                use_date=use_date,
                slot_start=first.starts_at,
                facility=unit.facility,
            )
            if lifted is not None and now >= lifted:
                continue
        used = slots_used(user=user, limit=limit, unit=unit, use_date=use_date, replacing=replacing)
        if used + len(slots) > limit.count:
            refusals.append(
                Refusal(
                    limit.rule_id,
                    _("You may book at most %(count)s slots a month here (%(scope)s); you already hold %(used)s.")
                    % {"count": limit.count, "scope": limit.get_scope_display(), "used": used},
                )
            )
    return refusals


def effective_state(reservation: Reservation, rules: ProfileRules, now: dt.datetime | None = None) -> str:
    """The state a person should see: a provisional booking past its confirmation instant is confirmed even
    if the midnight job has not run yet (K-FC-4)."""
    now = now or clock.now()
    if reservation.state == BookingState.PROVISIONAL and reservation.confirm_at and reservation.confirm_at <= now:
        return BookingState.CONFIRMED
    return reservation.state


def change_refusal(reservation: Reservation, rules: ProfileRules, now: dt.datetime | None = None) -> Refusal | None:
    """None when the resident may change this booking online now; else why not. A change is a cancellation and
    a new booking in one step, so it is allowed exactly when online cancellation is (K-FC-4: on the day it was
    made; S-PAY-3: until paid); the new slot then passes the booking rules like any booking."""
    refusal = cancel_refusal(reservation, rules, now)
    if refusal is not None and refusal.code == (rules.profile.online_cancel_rule_id or "cancel_at_counter"):
        return Refusal(refusal.code, _("This booking can no longer be changed online; please ask at the counter."))
    return refusal


def cancel_refusal(reservation: Reservation, rules: ProfileRules, now: dt.datetime | None = None) -> Refusal | None:
    """None when the resident may cancel this booking online now (K-FC-4, S-PAY-3); else why not."""
    now = now or clock.now()
    if not reservation.is_active:
        return Refusal("not_active", _("This booking is no longer active."))
    if reservation.starts_at <= now:
        return Refusal("slot_past", _("This slot has already started."))
    if reservation.state == BookingState.WON:
        return Refusal(
            "S-LOT-5",
            _("This lottery win awaits your confirmation: confirm it or give it up under “My lottery applications”."),
        )
    if effective_state(reservation, rules, now) not in rules.profile.online_cancellable():
        return Refusal(
            rules.profile.online_cancel_rule_id or "cancel_at_counter",
            _("This booking can no longer be cancelled online; please ask at the counter."),
        )
    return None
