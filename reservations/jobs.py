"""Scheduled jobs (django-q2): thin wrappers around the services, scheduled in config/schedules.py.

- ``confirm_due_bookings``: K-FC-4. A Kodaira first-come booking is provisional on the day it is made and
  confirmed from the next day: every provisional booking whose ``confirm_at`` (midnight after the booking day)
  has passed becomes confirmed.
- ``cancel_unpaid_bookings``: S-PAY-2 (Shiroi: unpaid provisional bookings are deleted on D-6) and T-PAY-2
  (Tamba: unpaid by the deadline, the booking is cancelled). Every unpaid booking whose ``pay_by`` (the first
  late instant) has passed is cancelled and its slots are freed. Payment recording arrives with the fees issue.

Schedule: **every 5 minutes**, not once a day at 00:00. The deadlines fall at midnight (D-6 00:00, B+16 00:00,
the midnight after a Kodaira booking day), but a daily run is fragile:

- a worker that is down, restarting or busy at 00:00, or a scheduler that polls a second early, would leave
  a Shiroi slot that is free by S-PAY-2 held for a whole day, in the days when the counter is selling it;
- a run every 5 minutes is two indexed queries ("state, confirm_at" and "state, pay_by") when nothing is due,
  so it costs nothing, and it catches up by itself at most 5 minutes after any outage: each run handles
  *everything* overdue, not "today's" bookings, so a run days late does all the missed work at once;
- the next-run instants are anchored on local midnight, so one of the runs falls at 00:00 itself.

What people see does not wait for the job either: ``rules.effective_state`` shows a Kodaira booking as confirmed
from its ``confirm_at`` instant, and online cancellation is judged on that state (K-FC-4).

Both jobs are idempotent: the services re-check every row under a row lock, so a second run, or two workers
running at once, change nothing more. E-mails (telling a group its booking was cancelled) come with the outbox.
"""

import logging

from config import clock

from . import alerts, services

logger = logging.getLogger(__name__)


def confirm_due_bookings() -> dict[str, int]:
    """K-FC-4: confirm provisional bookings past their confirmation instant. Returns {"confirmed": n}."""
    now = clock.now()
    confirmed = services.confirm_due_bookings(now=now)
    logger.info(
        "confirm_due_bookings at %s: %d booking(s) confirmed (K-FC-4)", clock.localtime(now).isoformat(), confirmed
    )
    return {"confirmed": confirmed}


def cancel_unpaid_bookings() -> dict[str, int]:
    """S-PAY-2, T-PAY-2: cancel unpaid bookings past their payment deadline. Returns {"cancelled": n}."""
    now = clock.now()
    cancelled = services.cancel_unpaid_bookings(now=now)
    logger.info(
        "cancel_unpaid_bookings at %s: %d unpaid booking(s) cancelled (S-PAY-2, T-PAY-2)",
        clock.localtime(now).isoformat(),
        cancelled,
    )
    return {"cancelled": cancelled}


# "Booked" and "confirmed" notices (issue #8 item 4), every minute: off the booking request (reservations/
# booking_notices.py says why).
def tell_booking_events() -> dict[str, int]:
    from .booking_notices import tell_booking_events as tell

    told = tell(now=clock.now())
    logger.info("tell_booking_events: %(booked)d booked, %(confirmed)d confirmed notice(s)", told)
    return told


# Cancellation alerts whose after-commit hook never ran (issue #9 item 2), every minute: the process that freed the
# slot died between the commit and the alert. reservations/alerts.py says how. Every minute because an alert is only
# worth something while the slot is still free.
def tell_freed_slots() -> dict[str, int]:
    """Tell the watchers of every freed slot not yet handled, oldest first; delete rows handled a week ago.
    Returns {"handled": rows, "told": notices written, "deleted": old rows}."""
    result = alerts.slots_freed()
    result["deleted"] = alerts.forget_handled()
    if result["handled"]:  # the hook normally tells at once: rows handled here mostly mean a process died first
        logger.warning(
            "tell_freed_slots: %(handled)d freed slot(s) left by their hook, %(told)d alert(s) written", result
        )
    return result
