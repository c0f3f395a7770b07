"""Cancellation alerts (issue #8 item 2): watching taken slots and telling the watchers when one frees up.

Watches (reservations/models/alerts.py ``SlotWatch``):

- ``watch_slot``: a slot of a unit that someone else holds. Fires once, then it is done.
- ``watch_pattern``: a facility (optionally one unit or one kind of unit), an optional weekday, a time-of-day
  range (a slot matches when it lies within it) and a date range. It fires once per freeing of a matching slot
  (one e-mail for each slot that frees up) and keeps watching until its last day is over. Chosen so that "any
  court at 南山 on Saturday mornings in May" keeps telling the resident about every court that frees up, while
  never repeating an e-mail about one freeing.
- ``stop_watch``: the user stops one of their watches. A watch of a slot that has started, or a pattern whose
  last day is over, is inactive by itself (``expires_at``; nothing to run).
- At most ``MAX_ACTIVE_WATCHES`` active watches per user (refused with the code ``alerts_limit``), counted under
  the user's booking lock (locks.lock_user), so two tabs cannot both pass the count.

Freeing (X-3: a slot is free when its ``SlotHold`` row is deleted). Every path that deletes holds calls
``releasing(reservation_ids)`` just before the delete: reservations.services._cancel (online cancellation,
changes, the unpaid-deadline job S-PAY-2/T-PAY-2, and fees' counter cancellations and facility closures T-CAN-2
through services.release) and lottery.services.wins._free (forfeits and the purge of unconfirmed wins, S-LOT-5).
In the same transaction it writes one ``FreedSlot`` row per freed slot (unit, start, freed booking, its holder,
freed_at; ``handled_at`` empty), so the record of the freeing commits or rolls back with it: a rolled-back
cancellation tells nobody. With ``transaction.on_commit`` it then calls ``slots_freed`` on those rows, so the
watchers are told at once, and each row is marked handled in the transaction that writes its notices.

Durable (issue #9 item 2): a process killed between the commit and the end of the hook (a worker SIGKILLed, a
web process restarted) leaves its rows unhandled. The ``reservations.tell_freed_slots`` job (every minute,
migration 0013) runs ``slots_freed`` over every unhandled row, oldest freeing first, so the watchers are told at
the job's next run (a minute later while a worker is up), in order. Rows are claimed with ``SELECT … FOR UPDATE
SKIP LOCKED``, one row per transaction, so the hook and two workers running the job never tell one row at once;
the job also deletes rows handled more than ``KEEP_HANDLED`` (7 days) ago.

``slots_freed`` tells the watchers, in the order they asked (``created_at``, ``id``), through the e-mail outbox
(accounts.notify), one notice per (watch, slot, freeing): the event key is
``slot_free:<watch>:<unit>:<slot start epoch>:<freed booking>``, so handling one freeing twice (the hook, then
the job) sends nothing more. A slot already held again when its row is handled (a change that kept it, a booking
in the same instant, someone quicker while the job had not yet run), a slot that has started, or a day the
facility is now closed tells nobody, and a slot watch then keeps watching. The holder of the freed booking is
never told. Nothing is booked or held for the watchers: the slot stays first-come, and the e-mail links to the
slot's booking page, which says "taken" if someone was quicker.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Notice
from config import clock
from facilities import calendars
from facilities.models import Facility, Unit
from facilities.slots import unit_slots

from . import rules
from .locks import lock_user  # the same per-user lock as bookings: count, then insert, in that order
from .models import FreedSlot, SlotHold, SlotWatch

logger = logging.getLogger(__name__)

MAX_ACTIVE_WATCHES = 20  # active watches (slot and pattern) per user; the 21st is refused (alerts_limit)
MAX_PATTERN_DAYS = 366  # a pattern's date range: at most a year, first and last day included
NOTICE_KIND = Notice.Kind.SLOT_FREE  # the alert e-mail
TEMPLATE = "slot_free"  # templates/emails/slot_free.txt
KEEP_HANDLED = dt.timedelta(days=7)  # a handled freeing is kept a week (what was freed, when told), then deleted


class AlertRefused(Exception):
    """A watch that was refused; ``refusal`` says why with a code (alerts_limit, slot_free, slot_mine, …)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.refusal = rules.Refusal(code, message)


# Writes ------------------------------------------------------------------------------------------------------


def _lock_and_check_limit(user, now: dt.datetime) -> None:
    lock_user(user)
    if SlotWatch.objects.filter(user=user).active(now).count() >= MAX_ACTIVE_WATCHES:
        raise AlertRefused(
            "alerts_limit",
            _(
                "You already have %(limit)s active alerts, the most one person may have. Stop one you no longer need "
                "and ask again."
            )
            % {"limit": MAX_ACTIVE_WATCHES},
        )


def watch_slot(
    *, user, unit: Unit, starts_at: dt.datetime, ends_at: dt.datetime, base_url: str = ""
) -> tuple[SlotWatch, bool]:
    """Watch the slot [starts_at, ends_at) of ``unit``, which someone else holds. Returns (watch, created):
    asking again for a slot already watched returns the existing watch. Raises AlertRefused."""
    now = clock.now()
    try:
        slots = rules.resolve_slots(unit, starts_at, ends_at)
    except rules.SlotRequestError as error:
        raise AlertRefused(error.refusal.code, error.refusal.message) from None
    if len(slots) != 1:
        raise AlertRefused("slot_invalid", _("An alert watches one slot at a time."))
    if starts_at <= now:
        raise AlertRefused("slot_past", _("This slot has already started."))
    with transaction.atomic():
        existing = SlotWatch.objects.filter(
            user=user,
            kind=SlotWatch.Kind.SLOT,
            unit=unit,
            starts_at=starts_at,
            stopped_at__isnull=True,
            fired_at__isnull=True,
        ).first()
        if existing is not None:
            return existing, False
        # A lottery win's hold is not known before its results moment (K-LOT-3, S-LOT-5): the slot reads as free.
        holders = list(
            SlotHold.objects.filter(unit=unit, starts_at=starts_at)
            .visible_to_resident(now)
            .values_list("reservation__user_id", flat=True)
        )
        if not holders:
            raise AlertRefused("slot_free", _("This slot is free now: you can book it."))
        if holders[0] == user.pk:
            raise AlertRefused("slot_mine", _("This is your own booking."))
        _lock_and_check_limit(user, now)
        try:
            with transaction.atomic():
                watch = SlotWatch.objects.create(
                    municipality_id=unit.municipality_id,
                    user=user,
                    kind=SlotWatch.Kind.SLOT,
                    unit=unit,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    created_at=now,
                    base_url=base_url[:200],
                )
        except IntegrityError:  # the same slot from two tabs at once
            return SlotWatch.objects.get(
                user=user,
                kind=SlotWatch.Kind.SLOT,
                unit=unit,
                starts_at=starts_at,
                stopped_at__isnull=True,
                fired_at__isnull=True,
            ), False
    return watch, True


def minute_of_day(value: dt.time, *, end: bool) -> int:
    """A time of day as a pattern stores it: minutes after midnight. As an end, 00:00 is the midnight at the end
    of the day (1440), so "18:00–00:00" watches the evening (the pattern form and the API say so)."""
    minutes = value.hour * 60 + value.minute
    return 24 * 60 if end and minutes == 0 else minutes


@dataclass(frozen=True)
class Pattern:
    facility: Facility
    unit: Unit | None
    unit_kind: str
    weekday: int | None
    from_minute: int
    to_minute: int  # 1440 = midnight at the end of the day
    date_from: dt.date
    date_to: dt.date


def pattern_refusal(pattern: Pattern, today: dt.date) -> rules.Refusal | None:
    """Why this pattern cannot be watched, or None."""
    if pattern.unit is not None and pattern.unit.facility_id != pattern.facility.pk:
        return rules.Refusal("alerts_unit", _("That unit is not in that facility."))
    if (
        pattern.unit is None
        and pattern.unit_kind
        and not any(u.kind == pattern.unit_kind for u in pattern.facility.units.all())
    ):
        # The page offers only the facility's kinds; the API takes any kind's name: one no unit has would never fire.
        return rules.Refusal("alerts_unit", _("That facility has no unit of that kind."))
    if not (0 <= pattern.from_minute < pattern.to_minute <= 24 * 60):
        return rules.Refusal("alerts_times", _("The end of the time range must be after its start."))
    if pattern.date_to < pattern.date_from:
        return rules.Refusal("alerts_dates", _("The last day is before the first."))
    if pattern.date_to < today:
        return rules.Refusal("alerts_over", _("That date range is already over."))
    if (pattern.date_to - pattern.date_from).days + 1 > MAX_PATTERN_DAYS:
        return rules.Refusal("alerts_dates", _("An alert covers at most %(days)s days.") % {"days": MAX_PATTERN_DAYS})
    return None


def watch_pattern(*, user, pattern: Pattern, base_url: str = "") -> SlotWatch:
    """Watch every slot matching ``pattern`` until its last day is over. Raises AlertRefused."""
    now = clock.now()
    refusal = pattern_refusal(pattern, clock.localtime(now).date())
    if refusal is not None:
        raise AlertRefused(refusal.code, refusal.message)
    with transaction.atomic():
        _lock_and_check_limit(user, now)
        return SlotWatch.objects.create(
            municipality_id=pattern.facility.municipality_id,
            user=user,
            kind=SlotWatch.Kind.PATTERN,
            facility=pattern.facility,
            unit=pattern.unit,
            unit_kind=pattern.unit_kind if pattern.unit is None else "",
            weekday=pattern.weekday,
            from_minute=pattern.from_minute,
            to_minute=pattern.to_minute,
            date_from=pattern.date_from,
            date_to=pattern.date_to,
            created_at=now,
            base_url=base_url[:200],
        )


def stop_watch(*, user, municipality_id: int, watch_id: int) -> SlotWatch:
    """The user stops one of their watches (idempotent). SlotWatch.DoesNotExist for another user's watch."""
    with transaction.atomic():
        watch = SlotWatch.objects.select_for_update().get(pk=watch_id, user=user, municipality_id=municipality_id)
        if watch.stopped_at is None and watch.fired_at is None:
            watch.stopped_at = clock.now()
            watch.save(update_fields=["stopped_at"])
    return watch


# Reads -------------------------------------------------------------------------------------------------------


def my_watch(*, user, municipality_id: int, watch_id: int) -> SlotWatch:
    """One of the user's watches of a municipality, with its ``current_status``. SlotWatch.DoesNotExist for
    another user's or another municipality's."""
    watch = SlotWatch.objects.select_related("unit__facility", "facility").get(
        pk=watch_id, user=user, municipality_id=municipality_id
    )
    watch.current_status = watch.status(clock.now())
    return watch


def my_watches(*, user, municipality_id: int) -> dict:
    """The user's watches of a municipality: active first (in the order asked), then the ended ones (latest 20)."""
    now = clock.now()
    rows = list(
        SlotWatch.objects.filter(user=user, municipality_id=municipality_id)
        .select_related("unit__facility", "facility")
        .order_by("created_at", "id")
    )
    active = [w for w in rows if w.is_active(now)]
    ended = sorted((w for w in rows if not w.is_active(now)), key=lambda w: (w.created_at, w.pk), reverse=True)[:20]
    for watch in rows:
        watch.current_status = watch.status(now)
    return {
        "active": active,
        "ended": ended,
        "limit": MAX_ACTIVE_WATCHES,
        "left": max(0, MAX_ACTIVE_WATCHES - len(active)),
    }


# Freeing -----------------------------------------------------------------------------------------------------


def releasing(reservation_ids) -> None:
    """Called by every path that deletes slot holds, inside its transaction and just before the delete: record the
    slots these bookings hold (``FreedSlot``, committed or rolled back with the freeing) and tell their watchers
    once the transaction commits. A process that dies before the hook has told them leaves the rows unhandled, and
    the ``reservations.tell_freed_slots`` job tells them (issue #9 item 2)."""
    now = clock.now()
    freed = FreedSlot.objects.bulk_create(
        [
            FreedSlot(
                unit_id=unit_id, starts_at=starts_at, reservation_id=reservation_id, holder_id=holder_id, freed_at=now
            )
            for unit_id, starts_at, reservation_id, holder_id in SlotHold.objects.filter(
                reservation_id__in=list(reservation_ids)
            )
            .order_by("starts_at", "unit_id")
            .values_list("unit_id", "starts_at", "reservation_id", "reservation__user_id")
        ]
    )
    if freed:
        ids = [row.pk for row in freed]
        # robust: the freeing has committed; whatever goes wrong here is logged and left to the job, never raised
        # into the request or job that cancelled.
        transaction.on_commit(lambda: slots_freed(ids), robust=True)


def slots_freed(ids=None) -> dict[str, int]:
    """Tell the watchers of unhandled freed slots (``FreedSlot``): these ids (the after-commit hook of a freeing),
    or all of them (the job), oldest freeing first. Returns {"handled": rows, "told": notices written}.

    Each row is claimed and handled in its own transaction: locked with ``SKIP LOCKED`` (a row that the hook or
    another worker is telling right now is theirs), told, and marked handled in the same commit, so a process that
    dies mid-way leaves the row unhandled for the next run, and the notices it wrote are rolled back with it. Safe
    to run twice for one freeing anyway: the notice key is per (watch, slot, freeing). A row that fails (logged)
    stays unhandled and is tried again by the next run; once its slot has started it is handled with nobody to tell.
    """
    handled = told = 0
    tried: list[int] = []
    while True:
        with transaction.atomic():
            pending = FreedSlot.objects.filter(handled_at__isnull=True).exclude(pk__in=tried)
            if ids is not None:
                pending = pending.filter(pk__in=ids)
            # On SQLite select_for_update is ignored: writes are serialized there anyway.
            row = pending.order_by("freed_at", "id").select_for_update(skip_locked=True).first()
            if row is None:
                break
            now = clock.now()
            try:
                with transaction.atomic():  # a savepoint: a failing alert must not spoil the claim
                    told += _slot_freed(row.unit_id, row.starts_at, row.reservation_id, row.holder_id, now)
            except Exception:
                logger.exception(
                    "alerts for unit %s at %s (freed slot #%s) not sent; the job tries again",
                    row.unit_id,
                    row.starts_at,
                    row.pk,
                )
                tried.append(row.pk)  # not again in this run
                continue
            row.handled_at = now
            row.save(update_fields=["handled_at"])
            handled += 1
    return {"handled": handled, "told": told}


def forget_handled(now: dt.datetime | None = None) -> int:
    """Delete freed slots handled more than ``KEEP_HANDLED`` ago, so the table stays small. Returns how many."""
    now = now or clock.now()
    deleted, _by_model = FreedSlot.objects.filter(handled_at__lt=now - KEEP_HANDLED).delete()
    return deleted


def _offered_slot(unit: Unit, starts_at: dt.datetime):
    """The slot of ``unit`` that starts at ``starts_at`` as offered today (the facility open that day), or None."""
    day = clock.localtime(starts_at).date()
    if not calendars.is_open(unit.facility, day):
        return None
    offered = unit_slots(unit, day)
    return next((slot for slot in offered if slot.starts_at == starts_at), None)


def _candidates(unit: Unit, starts_at: dt.datetime, now: dt.datetime):
    day = clock.localtime(starts_at).date()
    return (
        SlotWatch.objects.active(now)
        .filter(
            Q(kind=SlotWatch.Kind.SLOT, unit_id=unit.pk, starts_at=starts_at)
            | Q(kind=SlotWatch.Kind.PATTERN, facility_id=unit.facility_id, date_from__lte=day, date_to__gte=day)
        )
        .order_by("created_at", "id")
    )


def _slot_freed(
    unit_id: int, starts_at: dt.datetime, reservation_id: int, holder_id: int | None, now: dt.datetime
) -> int:
    if starts_at <= now or SlotHold.objects.filter(unit_id=unit_id, starts_at=starts_at).exists():
        return 0  # started already, or held again (a change that kept it, someone quicker): nothing to tell
    unit = (
        Unit.objects.select_related("facility__closure_calendar", "slot_scheme", "municipality")
        .prefetch_related("facility__closure_calendar__rules", "facility__opening_hours", "slot_scheme__periods")
        .get(pk=unit_id)
    )
    slot = _offered_slot(unit, starts_at)
    if slot is None:
        return 0  # the facility is closed that day now (T-CAN-2 closures), or the slot is no longer offered
    told = 0
    with transaction.atomic():
        watches = [
            w
            for w in _candidates(unit, starts_at, now).select_for_update(of=("self",)).select_related("user")
            if w.user_id != holder_id
            and w.user.is_active
            and w.matches(unit=unit, starts_at=slot.starts_at, ends_at=slot.ends_at)
        ]
        for watch in watches:  # in the order they asked
            if _tell(watch, unit, slot, reservation_id, now) is None:
                continue  # told already about this freeing (the hook ran twice)
            told += 1
            if watch.kind == SlotWatch.Kind.SLOT:
                watch.fired_at = now
            watch.last_fired_at = now
            watch.fire_count += 1
            watch.save(update_fields=["fired_at", "last_fired_at", "fire_count"])
    return told


def booking_url(watch: SlotWatch, unit: Unit, slot) -> str:
    from facilities.selectors import span_param

    path = reverse(
        "reservations:confirm",
        args=[
            unit.municipality.slug,
            unit.pk,
            clock.localtime(slot.starts_at).date().isoformat(),
            span_param(slot.starts_at, slot.ends_at),
        ],
    )
    return watch.base_url.rstrip("/") + path if watch.base_url else path


def _tell(watch: SlotWatch, unit: Unit, slot, reservation_id: int, now: dt.datetime):
    from accounts.notify import notify  # the outbox; imported here so the booking hot path stays lean

    key = f"slot_free:{watch.pk}:{unit.pk}:{int(slot.starts_at.timestamp())}:{reservation_id}"
    return notify(
        watch.user,
        kind=NOTICE_KIND,
        key=key,
        template=TEMPLATE,
        municipality=unit.municipality,
        context={
            "watch": watch,
            "unit": unit,
            "facility": unit.facility,
            "starts_at": clock.localtime(slot.starts_at),
            "ends_at": clock.localtime(slot.ends_at),
            "link": booking_url(watch, unit, slot),
            "alerts_url": (watch.base_url.rstrip("/") if watch.base_url else "")
            + reverse("reservations:alerts", args=[unit.municipality.slug]),
            "pattern": watch.kind == SlotWatch.Kind.PATTERN,
        },
    )
