"""Cancellation alerts (issue #8 item 2): a resident watches a taken slot, or a pattern of slots, and is e-mailed
when one frees up. The service and the matching live in reservations/alerts.py.

Imported by reservations/models.py, so the model belongs to the reservations app (migration 0009).

One table for both kinds of watch:

- **slot**: ``unit`` + ``starts_at``/``ends_at`` of one slot held by someone else. It fires once (``fired_at``)
  and is then done.
- **pattern**: a ``facility`` (optionally one ``unit``, or one ``unit_kind``), an optional ``weekday``, a
  time-of-day range (minutes after midnight, the slot must lie within it) and a date range. It fires once per
  freed matching slot (one e-mail per freeing; ``fire_count``/``last_fired_at`` record it) and keeps watching
  until its date range is over.

``expires_at`` is computed on save (the slot's start; the instant after the pattern's last day), so a watch of
the past is inactive by itself: no job has to expire it. ``base_url`` is the address the resident used when
asking (scheme and host), for the link in the e-mail, which is often sent by a job without a request.

``FreedSlot`` (issue #9 item 2) is the durable record of one freeing: written in the transaction that deletes the
slot's hold, so that a process that dies after the commit and before telling the watchers leaves the work behind
for the ``reservations.tell_freed_slots`` job instead of losing it (reservations/alerts.py).
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config import clock
from facilities.models import ClosureRule


class SlotWatchQuerySet(models.QuerySet):
    def of(self, municipality):
        return self.filter(municipality=municipality)

    def active(self, now: dt.datetime):
        """Not stopped, not done (a slot watch that fired) and not over (expires_at in the future)."""
        return self.filter(stopped_at__isnull=True, fired_at__isnull=True, expires_at__gt=now)


class SlotWatch(models.Model):
    class Kind(models.TextChoices):
        SLOT = "slot", _("One slot")
        PATTERN = "pattern", _("Slots matching a pattern")

    Weekday = ClosureRule.Weekday  # Monday 0 … Sunday 6, as datetime.weekday() and the closure calendars

    municipality = models.ForeignKey(
        "facilities.Municipality", on_delete=models.CASCADE, related_name="+", verbose_name=_("municipality")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slot_watches", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # A slot watch: the unit and the slot. A pattern watch: optionally one unit of its facility.
    unit = models.ForeignKey(
        "facilities.Unit", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("unit")
    )
    starts_at = models.DateTimeField(_("slot starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("slot ends"), null=True, blank=True)
    # A pattern watch.
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("facility"),
    )
    unit_kind = models.CharField(_("kind of unit"), max_length=20, blank=True, default="")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, null=True, blank=True)
    from_minute = models.PositiveSmallIntegerField(_("from (minutes after midnight)"), null=True, blank=True)
    to_minute = models.PositiveSmallIntegerField(_("until (minutes after midnight)"), null=True, blank=True)
    date_from = models.DateField(_("first day"), null=True, blank=True)
    date_to = models.DateField(_("last day"), null=True, blank=True)
    # Life.
    created_at = models.DateTimeField(_("asked at"))
    expires_at = models.DateTimeField(_("watching until"), editable=False)
    base_url = models.CharField(_("portal address"), max_length=200, blank=True, default="")
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    last_fired_at = models.DateTimeField(_("last e-mail at"), null=True, blank=True)
    fire_count = models.PositiveIntegerField(_("e-mails sent"), default=0)

    objects = SlotWatchQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]  # the order in which watchers asked: the order they are told
        verbose_name = _("slot watch")
        verbose_name_plural = _("slot watches")
        indexes = [
            models.Index(fields=["unit", "starts_at"], name="slotwatch_slot"),
            models.Index(fields=["facility", "date_from"], name="slotwatch_pattern"),
            models.Index(fields=["user", "expires_at"], name="slotwatch_user"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="slot") & Q(unit__isnull=False) & Q(starts_at__isnull=False) & Q(ends_at__isnull=False)
                )
                | (
                    Q(kind="pattern")
                    & Q(facility__isnull=False)
                    & Q(date_from__isnull=False)
                    & Q(date_to__isnull=False)
                    & Q(from_minute__isnull=False)
                    & Q(to_minute__isnull=False)
                ),
                name="slotwatch_complete",
            ),
            # Asking twice for one slot is one watch (the page says so instead of making a second).
            models.UniqueConstraint(
                fields=["user", "unit", "starts_at"],
                condition=Q(kind="slot", stopped_at__isnull=True, fired_at__isnull=True),
                name="slotwatch_one_live_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.user} {self.kind}"

    def save(self, *args, **kwargs):
        self.expires_at = self.compute_expiry()
        super().save(*args, **kwargs)

    def compute_expiry(self) -> dt.datetime:
        if self.kind == self.Kind.SLOT:
            return self.starts_at
        return clock.at(self.date_to + dt.timedelta(days=1), dt.time(0))

    def is_active(self, now: dt.datetime) -> bool:
        return self.stopped_at is None and self.fired_at is None and self.expires_at > now

    def status(self, now: dt.datetime) -> str:
        """watching, stopped, fired (a slot watch told its user) or over (its time has passed)."""
        if self.stopped_at is not None:
            return "stopped"
        if self.fired_at is not None:
            return "fired"
        if self.expires_at <= now:
            return "over"
        return "watching"

    def matches(self, *, unit, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
        """Does the slot [starts_at, ends_at) of ``unit`` fall under this watch (not looking at its life)?"""
        if self.kind == self.Kind.SLOT:
            return self.unit_id == unit.pk and self.starts_at == starts_at
        if self.facility_id != unit.facility_id:
            return False
        if self.unit_id is not None and self.unit_id != unit.pk:
            return False
        if self.unit_kind and self.unit_kind != unit.kind:
            return False
        start = clock.localtime(starts_at)
        day = start.date()
        if not (self.date_from <= day <= self.date_to):
            return False
        if self.weekday is not None and self.weekday != day.weekday():
            return False
        first = start.hour * 60 + start.minute
        last = first + int((ends_at - starts_at).total_seconds() // 60)
        return self.from_minute <= first and last <= self.to_minute

    @staticmethod
    def minute_text(minutes: int) -> str:
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    @property
    def unit_kind_label(self) -> str:
        from facilities.models import Unit

        return str(dict(Unit.Kind.choices).get(self.unit_kind, self.unit_kind))

    @property
    def from_text(self) -> str:
        return self.minute_text(self.from_minute) if self.from_minute is not None else ""

    @property
    def to_text(self) -> str:
        return self.minute_text(self.to_minute) if self.to_minute is not None else ""


class FreedSlot(models.Model):
    """One slot of one unit freed by one booking (its hold deleted), waiting to be told to the watchers until
    ``handled_at`` is set. Not a relation to the booking or its holder on purpose: a record of an event, kept a few
    days after it is handled (alerts.KEEP_HANDLED), whatever happens to the rows it names. The slot's end is not
    stored (a hold has only its start): it is read from the unit's slot scheme when telling, as the e-mail shows it."""

    unit = models.ForeignKey("facilities.Unit", on_delete=models.CASCADE, related_name="+", verbose_name=_("unit"))
    starts_at = models.DateTimeField(_("slot starts"))
    reservation_id = models.BigIntegerField(_("freed booking"))  # part of the notice key: one e-mail per freeing
    holder_id = models.BigIntegerField(_("holder"), null=True, blank=True)  # never told of their own freeing
    freed_at = models.DateTimeField(_("freed at"))
    handled_at = models.DateTimeField(_("told at"), null=True, blank=True)

    class Meta:
        ordering = ["freed_at", "id"]  # oldest freeing first: the order in which the job tells
        verbose_name = _("freed slot")
        verbose_name_plural = _("freed slots")
        # One index for both of the job's queries: the unhandled rows (handled_at IS NULL) oldest first, and the
        # handled rows older than KEEP_HANDLED to delete.
        indexes = [models.Index(fields=["handled_at", "freed_at", "id"], name="freedslot_queue")]

    def __str__(self) -> str:
        return f"#{self.pk} unit {self.unit_id} {self.starts_at:%Y-%m-%d %H:%M} (booking {self.reservation_id})"
