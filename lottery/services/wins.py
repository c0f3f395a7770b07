"""Confirmation, forfeit and purge of lottery wins (S-LOT-5). Each use case is one transaction.

- ``confirmation_refusal`` — why a win cannot be confirmed or forfeited now, or None.
- ``confirm_win`` — the winner confirms: the win becomes a booking in the policy's state, with its fee.
- ``forfeit_win`` — the winner gives the win up: its slots are freed.
- ``purge_unconfirmed`` — after the confirmation deadline, unconfirmed wins expire and their slots are freed.
"""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from config import clock
from facilities import daterules
from facilities.models import ACTIVE_STATES, BookingState
from lottery.models import Application, Draw
from reservations import alerts, rules
from reservations.models import Reservation, SlotHold

from .draws import _set_fee, _win_reservation
from .errors import LotteryError, _refuse
from .months import policy_of, timeline

UNCONFIRMED = Reservation.CancelReason.UNCONFIRMED  # the cancel reason of a purged win (S-LOT-5)


# Confirmation, forfeit and purge (S-LOT-5) ------------------------------------------------------------------


def _win_for_update(user, application_id):
    application = (
        Application.objects.select_for_update().select_related("unit__facility").get(pk=application_id, user=user)
    )
    policy = policy_of(application.municipality_id)
    record = Draw.objects.filter(municipality_id=application.municipality_id, month=application.month).first()
    return application, policy, record


def confirmation_refusal(application, policy, record, now) -> rules.Refusal | None:
    """Why the win of ``application`` cannot be confirmed or given up now, or None. The confirmation window is
    checked before the state, so that before the results moment a winner and a loser get the same answer (no
    outcome is told early, K-LOT-3, S-LOT-5)."""
    if policy is None or not policy.confirmation_required:
        return rules.Refusal(
            getattr(policy, "win_rule_id", "") or "no_confirmation",
            _("Wins here are bookings at once; there is nothing to confirm."),
        )
    results_from = record.results_from if record is not None else None
    purge_at = record.purge_at if record is not None else None
    if results_from is None or purge_at is None:  # not committed yet: the month's timeline says when
        line = timeline(rules.ProfileRules.of(application.municipality_id), policy, application.month)
        results_from, purge_at = (line.results_from, line.purge_at) if line else (None, None)
    if results_from is None or now < results_from or purge_at is None or now >= purge_at:
        last = purge_at - daterules.ONE_MINUTE if purge_at else None
        return rules.Refusal(
            policy.confirmation_rule_id or "confirmation_closed",
            _("Wins can be confirmed or given up from %(start)s until %(end)s.")
            % {"start": rules.when(results_from) if results_from else "—", "end": rules.when(last) if last else "—"},
        )
    if application.state != Application.State.WON:
        return rules.Refusal("not_won", _("There is no win awaiting confirmation."))
    return None


def confirm_win(*, user, application_id: int) -> Application:
    """S-LOT-5: the winner confirms; the win (state "won") becomes a provisional booking with its fee, due for
    payment as a first-come one (S-PAY-1/2; the policy's win state and payment deadline)."""
    now = clock.now()
    with transaction.atomic():
        application, policy, record = _win_for_update(user, application_id)
        refusal = confirmation_refusal(application, policy, record, now)
        if refusal is not None:
            raise LotteryError([refusal])
        reservation = Reservation.objects.select_for_update().get(pk=application.reservation_id)
        if reservation.state != BookingState.WON:
            _refuse("not_active", _("This booking is no longer active."))
        profile = rules.ProfileRules.of(application.municipality_id).profile
        booked_on = clock.localtime(now).date()
        confirmed = _win_reservation(
            policy=policy,
            profile=profile,
            unit=application.unit,
            user_id=user.pk,
            starts_at=reservation.starts_at,
            ends_at=reservation.ends_at,
            state=policy.win_state,
            pay_rule=daterules.parse(policy.pay_by) if policy.pay_by else None,
            now=now,
            booked_on=booked_on,
        )
        for name in ("state", "pay_by", "pay_by_rule_id", "confirmed_at", "confirm_at"):
            setattr(reservation, name, getattr(confirmed, name))
        _set_fee(reservation, user, application.unit, booked_on)  # the fee table of the confirmation day
        reservation.save(
            update_fields=["state", "pay_by", "pay_by_rule_id", "confirmed_at", "confirm_at", "fee", "fee_total"]
        )
        application.state = Application.State.CONFIRMED
        application.save(update_fields=["state"])
    return application


def _free(reservation_ids, *, reason: str, now: dt.datetime) -> None:
    """Cancel these bookings and delete their holds in one go: the slots are free at once."""
    Reservation.objects.filter(pk__in=reservation_ids, state__in=ACTIVE_STATES).update(
        state=BookingState.CANCELLED, cancelled_at=now, cancel_reason=reason
    )
    alerts.releasing(reservation_ids)  # watchers are told after commit (issue #8 item 2, reservations/alerts.py)
    SlotHold.objects.filter(reservation_id__in=reservation_ids).delete()


def forfeit_win(*, user, application_id: int) -> Application:
    """S-LOT-5 (当選の権利を放棄する): the winner gives up the win; the slot is free at once."""
    now = clock.now()
    with transaction.atomic():
        application, policy, record = _win_for_update(user, application_id)
        refusal = confirmation_refusal(application, policy, record, now)
        if refusal is not None:
            raise LotteryError([refusal])
        _free([application.reservation_id], reason=Reservation.CancelReason.USER, now=now)
        application.state = Application.State.FORFEITED
        application.save(update_fields=["state"])
    return application


def purge_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """S-LOT-5: wins not confirmed by the end of the confirmation window are cancelled (M-2/26) and their slots
    freed for first-come. Idempotent: each draw is purged once, under its row lock; returns wins purged."""
    now = now or clock.now()
    purged = 0
    due = Draw.objects.filter(status=Draw.Status.DRAWN, purge_at__lte=now, purged_at__isnull=True).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            record = Draw.objects.select_for_update().get(pk=pk)
            if record.purged_at is not None:
                continue
            wins = list(
                Application.objects.select_for_update()
                .filter(municipality_id=record.municipality_id, month=record.month, state=Application.State.WON)
                .values_list("pk", "reservation_id")
            )
            _free([r for _a, r in wins if r], reason=UNCONFIRMED, now=now)
            Application.objects.filter(pk__in=[a for a, _r in wins]).update(state=Application.State.EXPIRED)
            record.purged_at = now
            record.save(update_fields=["purged_at"])
            purged += len(wins)
    return purged
