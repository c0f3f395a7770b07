"""Scheduled jobs (django-q2) of registrations: thin wrappers around accounts/services.py, scheduled in
config/schedules.py. These run **daily** (a registration's validity changes by whole days):

- ``apply_rolling_renewals`` at 00:01 Japan time: K-REG-3, a group whose validity ends today or earlier and that
  booked and used a room within its period continues for another year. A group whose only use is later on its
  last day is extended by the next day's run. Each run handles every overdue registration, so a run missed while
  the workers were down is caught up by the next one; a second run changes nothing.
- ``send_expiry_notices`` at 09:00 (not in the night): the e-mail 30 days before the last valid day, once per
  validity end (a missed day is caught up: any registration ending within 30 days that was not told yet is told).

- ``revoke_expired_registrations_access`` at 00:10, after the rolling renewals: the API tokens
  and calendar-feed keys of accounts whose registration ended are revoked and the users told (the look-ups
  already refuse them from 00:00; accounts/credentials.py). Catches up and runs twice harmlessly: it handles every
  expired account that still has a working credential.

And **hourly**, at 5 past:

- ``expire_registration_requests``: S-REG-1, an online request whose identity was not checked at the counter by
  its ``expires_at`` (00:00 Japan time after the last day, ``registering.request_expires_at``) expires and the
  requester is e-mailed. Every overdue request is handled, so a missed run is caught up; a second run changes
  nothing (the status is checked under the row lock, and the outbox refuses a second e-mail of one request). The
  counter refuses to approve an overdue request even before the job has run.
"""

import logging

from config import clock

from . import services

logger = logging.getLogger(__name__)


def apply_rolling_renewals() -> dict[str, int]:
    """K-REG-3 rolling renewal. Returns {"extended": n}."""
    today = clock.today()
    extended = services.apply_rolling_renewals(today=today)
    logger.info("apply_rolling_renewals on %s: %d registration(s) extended (K-REG-3)", today.isoformat(), extended)
    return {"extended": extended}


def send_expiry_notices() -> dict[str, int]:
    """The expiry e-mail 30 days before the last valid day. Returns {"sent": n}."""
    today = clock.today()
    sent = services.send_expiry_notices(today=today)
    logger.info("send_expiry_notices on %s: %d e-mail(s) sent", today.isoformat(), sent)
    return {"sent": sent}


def deliver_notices() -> dict[str, int]:
    """Every few minutes: send the outbox's notices whose first sending failed (accounts/notify.py)."""
    from . import notify

    sent = notify.deliver_pending()
    if sent:
        logger.info("deliver_notices: %d notice(s) sent on retry", sent)
    return {"sent": sent}


def expire_registration_requests() -> dict[str, int]:
    """S-REG-1: pending online requests past their time expire; the requester is told. Returns {"expired": n}."""
    from . import registering

    expired = registering.expire_requests(now=clock.now())
    if expired:
        logger.info("expire_registration_requests: %d request(s) expired (S-REG-1)", expired)
    return {"expired": expired}


def revoke_expired_registrations_access() -> dict[str, int]:
    """K-REG-3, S-REG-3, T-REG-1: expired registrations lose their API tokens and calendar-feed keys; the users
    are told. Returns {"told": n}."""
    from . import credentials

    told = credentials.revoke_expired_registrations(today=clock.today())
    if told:
        logger.info("revoke_expired_registrations_access: %d account(s) told", told)
    return {"told": told}
