"""Lottery applications (K-LOT-1/2, S-LOT-1/2/3, S-REG-4). Each write is one transaction.

- ``window_for`` — the lottery window of a channel open now for a slot, or the refusal saying why none is.
- ``evaluate`` / ``counted_refusals`` / ``already_applied`` — may this user apply for this slot now?
- ``apply`` / ``withdraw`` — in the profile's lottery-phase window for the channel, within the lottery-phase
  limits, under the user's lock (the same lock as first-come booking, so two tabs cannot both pass a count).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts import audit
from config import clock
from facilities.models import BookingLimit, Channel, Phase, Unit
from facilities.slots import Slot
from lottery.models import Application, LotteryPolicy
from reservations import rules
from reservations.locks import lock_user

from .errors import ApplicationRefused, LotteryError, _refuse
from .months import lottery_windows, month_of, policy_of

# Applications -----------------------------------------------------------------------------------------------


def _bounds(window, unit: Unit, slot):
    return rules.window_bounds(window, unit, slot)  # the rules module's own window arithmetic, not a copy


def window_for(profile_rules, unit: Unit, slot, channel: str, now: dt.datetime):
    """The lottery window of ``channel`` open now for this slot, or the refusal saying why none is."""
    mine = [
        _bounds(w, unit, slot)
        for w in lottery_windows(profile_rules)
        if w.channel == channel and w.applies_to(unit.facility)
    ]
    if not mine:
        code = profile_rules.profile.unavailable_channel_rule_id or "channel_unavailable"
        return None, rules.Refusal(
            code,
            _("%(municipality)s does not take lottery applications through this channel (%(channel)s).")
            % {"municipality": unit.facility.municipality.name, "channel": Channel(channel).label},
        )
    for bounds in mine:
        if bounds.contains(now):
            return bounds, None
    upcoming = sorted((b for b in mine if b.opens and now < b.opens), key=lambda b: b.opens)
    if upcoming:
        return None, rules.Refusal(
            upcoming[0].window.opens_rule_id,
            _("Lottery applications for this month open at %(when)s.") % {"when": rules.when(upcoming[0].opens)},
        )
    last = max((b for b in mine if b.closes), key=lambda b: b.closes)
    return None, rules.Refusal(
        last.window.closes_rule_id,
        _("Lottery applications for this month closed at %(when)s.") % {"when": rules.when(last.closes)},
    )


def _staff_refusal(entered_by, unit: Unit, channel: str) -> rules.Refusal | None:
    if channel == Channel.ONLINE:
        if entered_by is not None:
            return rules.Refusal("channel_unavailable", _("Staff enter applications through the counter channel."))
        return None
    return rules.staff_refusal(entered_by, unit.municipality_id)  # the one staff check (reservations.rules)


@dataclass
class Check:
    refusals: list = field(default_factory=list)
    profile_rules: rules.ProfileRules | None = None
    policy: LotteryPolicy | None = None
    slot: object = None
    window: object = None


def evaluate(
    *,
    user,
    unit: Unit,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    channel: str = Channel.ONLINE,
    entered_by=None,
    now: dt.datetime | None = None,
    check_limits: bool = True,
) -> Check:
    """May ``user`` apply for this slot through ``channel`` now? Every refusal with its rule id."""
    now = now or clock.now()
    check = Check()
    check.profile_rules = rules.ProfileRules.find(unit.municipality_id)
    check.policy = policy_of(unit.municipality_id)
    if check.profile_rules is None or check.policy is None or not lottery_windows(check.profile_rules):
        check.refusals.append(
            rules.Refusal(
                "lottery_unavailable",
                _("%(municipality)s does not hold a lottery.") % {"municipality": unit.facility.municipality.name},
            )
        )
        return check
    account = rules.account_refusal(user, unit.municipality_id)
    if account is not None:
        check.refusals.append(account)
        return check
    if channel not in Channel.values:
        check.refusals.append(rules.Refusal("channel_unavailable", _("Unknown booking channel.")))
        return check
    staff = _staff_refusal(entered_by, unit, channel)
    if staff is not None:
        check.refusals.append(staff)
        return check
    policy = check.policy
    if policy.residents_only and not user.is_resident:
        # S-REG-4: non-residents use first-come booking only.
        check.refusals.append(
            rules.Refusal(
                policy.residents_only_rule_id or "residents_only",
                _("Only residents may apply for the lottery; non-residents can book first come, first served."),
            )
        )
    if not user.is_valid_on(clock.localtime(now).date()):
        check.refusals.append(
            rules.Refusal(
                check.profile_rules.profile.registration_rule_id or "registration_expired",
                _("Your registration is not valid today; renew it at a counter."),
            )
        )
    if not unit.is_active:
        check.refusals.append(rules.Refusal("unit_unavailable", _("This unit is not taking bookings.")))
        return check
    try:
        slots = rules.resolve_slots(unit, starts_at, ends_at)
    except rules.SlotRequestError as error:
        check.refusals.append(error.refusal)
        return check
    if len(slots) != 1:
        check.refusals.append(rules.Refusal(rules.slot_rule_id(unit), _("A lottery application is for one slot.")))
        return check
    check.slot = slots[0]
    check.window, refusal = window_for(check.profile_rules, unit, check.slot, channel, now)
    if refusal is not None:
        check.refusals.append(refusal)
        return check
    if check_limits:
        check.refusals += counted_refusals(user=user, unit=unit, slot=check.slot, check=check)
    return check


def _live_applications(user, month: dt.date):
    return Application.objects.filter(user=user, month=month, withdrawn_at__isnull=True)


def counted_refusals(*, user, unit: Unit, slot, check: Check) -> list:
    """K-LOT-2, S-LOT-2 (limits of phase lottery, in their scope), S-LOT-3 and one application per slot.
    Counts the user's applications: ``apply`` calls it holding the user's lock."""
    month = month_of(clock.localtime(slot.starts_at).date())
    live = _live_applications(user, month).filter(municipality_id=unit.municipality_id)
    refusals = []
    if live.filter(unit=unit, starts_at=slot.starts_at).exists():
        return [already_applied(check.policy)]
    policy = check.policy
    if (
        policy.one_per_site_and_time
        and live.filter(
            unit__facility_id=unit.facility_id, starts_at__lt=slot.ends_at, ends_at__gt=slot.starts_at
        ).exists()
    ):
        refusals.append(
            rules.Refusal(
                policy.one_per_site_rule_id or "one_per_site_and_time",
                _("You have already applied for this site at this time."),
            )
        )
    for limit in check.profile_rules.limits:
        if limit.phase != Phase.LOTTERY:
            continue
        scoped = live
        if limit.scope == BookingLimit.Scope.FACILITY:
            scoped = live.filter(unit__facility_id=unit.facility_id)
        elif limit.scope == BookingLimit.Scope.UNIT:
            scoped = live.filter(unit=unit)
        used = scoped.count()
        if used + 1 > limit.count:
            refusals.append(
                rules.Refusal(
                    limit.rule_id,
                    _(
                        "You may make at most %(count)s lottery applications a month (%(scope)s); you already have "
                        "%(used)s."
                    )
                    % {"count": limit.count, "scope": limit.get_scope_display(), "used": used},
                )
            )
    return refusals


def apply(
    *, user, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, channel: str = Channel.ONLINE, entered_by=None
) -> Application:
    """Apply for one slot of ``unit`` in its month's lottery (K-LOT-1/2, S-LOT-1/2/3, S-REG-4).

    Raises ApplicationRefused with every reason. The user's lock is taken before the counts, so concurrent
    requests of one user cannot both pass a limit."""
    now = clock.now()
    check = evaluate(
        user=user,
        unit=unit,
        starts_at=starts_at,
        ends_at=ends_at,
        channel=channel,
        entered_by=entered_by,
        now=now,
        check_limits=False,
    )
    if check.refusals:
        raise ApplicationRefused(check.refusals)
    slot = check.slot
    try:
        with transaction.atomic():
            lock_user(user)
            refusals = counted_refusals(user=user, unit=unit, slot=slot, check=check)
            if refusals:
                raise ApplicationRefused(refusals)
            application = Application.objects.create(
                municipality_id=unit.municipality_id,
                month=month_of(clock.localtime(slot.starts_at).date()),
                user=user,
                unit=unit,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                channel=channel,
                entered_by=entered_by,
                language=(translation.get_language() or "ja")[:10],
                created_at=now,
            )
            if entered_by is not None:  # K-LOT-1 at the counter: the audit log says which clerk (issue #6 item 5)
                audit.record(entered_by, "lottery.apply", application, after=_audited(application))
    except IntegrityError:
        raise ApplicationRefused([already_applied(check.policy)]) from None
    return application


def already_applied(policy: LotteryPolicy) -> rules.Refusal:
    """A second application for the same slot: S-LOT-3 where one per site and time is the rule, else a code."""
    code = policy.one_per_site_rule_id if policy.one_per_site_and_time else ""
    return rules.Refusal(code or "already_applied", _("You have already applied for this slot."))


def withdraw(*, user, application_id: int, channel: str = Channel.ONLINE, entered_by=None) -> Application:
    """Withdraw an application while the lottery window of ``channel`` is still open (K-LOT-1, S-LOT-1).

    ``entered_by``: the clerk withdrawing it at the counter (channel counter), who must serve the counter of the
    application's facility (``staff_scope``); the withdrawal is audited with the clerk as actor."""
    now = clock.now()
    with transaction.atomic():
        application = (
            Application.objects.select_for_update()
            .select_related("unit__facility__municipality")
            .get(pk=application_id, user=user)
        )
        if application.state != Application.State.APPLIED:
            _refuse("not_active", _("This application can no longer be withdrawn."))
        staff = _staff_refusal(entered_by, application.unit, channel)
        if staff is None and entered_by is not None:
            staff = rules.scope_refusal(entered_by, application.unit.facility)
        if staff is not None:
            raise LotteryError([staff])
        profile_rules = rules.ProfileRules.of(application.municipality_id)
        slot = Slot(starts_at=application.starts_at, ends_at=application.ends_at)
        _window, refusal = window_for(profile_rules, application.unit, slot, channel, now)
        if refusal is not None:
            raise LotteryError([refusal])
        application.state = Application.State.WITHDRAWN
        application.withdrawn_at = now
        application.save(update_fields=["state", "withdrawn_at"])
        if entered_by is not None:
            audit.record(
                entered_by,
                "lottery.withdraw",
                application,
                before={"state": Application.State.APPLIED},
                after={**_audited(application), "withdrawn_at": now},
            )
    return application


def _audited(application: Application) -> dict:
    """What an audit entry of a clerk's lottery action records about the application."""
    return {
        "unit": application.unit_id,
        "starts_at": application.starts_at,
        "ends_at": application.ends_at,
        "month": application.month,
        "channel": application.channel,
        "state": application.state,
    }
