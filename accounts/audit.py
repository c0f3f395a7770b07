"""The audit log (issue #6, item 5): every staff action on a resident's data leaves one ``AuditEntry`` — who,
what, when, the record's state before and after (JSON) and the reason given.

Call ``record`` from the service that makes the change, **inside its transaction** (DESIGN.md §1, as Zulip's
``do_*`` actions do): the entry is written if and only if the change is. Entries are never changed or deleted
(``AuditEntry.save``/``delete`` and its queryset refuse; on PostgreSQL a trigger refuses any client). Municipal
administrators read them in the admin (“Audit log”), limited to their municipality.

    from accounts import audit

    with transaction.atomic():
        before = audit.snapshot(user, ["valid_until"])
        user.valid_until = ...
        user.save(update_fields=["valid_until"])
        audit.record(staff, "registration.renew", user, before=before, after=audit.snapshot(user, ["valid_until"]))

Action names are dotted, ``<what>.<verb>`` (``registration.create``, ``password.reset``, ``payment.record``…),
so the admin can filter them; ``reason`` is free text (a clerk's note, a rule id).
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from config import clock

from .models import AuditEntry, AuditEntryImmutable, User

__all__ = ["AuditEntry", "AuditEntryImmutable", "record", "snapshot"]


def record(
    actor,
    action: str,
    target=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    *,
    municipality=None,
    subject=None,
) -> AuditEntry:
    """Write one audit entry and return it.

    - ``actor``: the staff user who acted (None: the system, e.g. a scheduled job).
    - ``action``: a dotted name, ``"registration.renew"``.
    - ``target``: the model instance acted on (a User, a Reservation, a Payment …), or None.
    - ``before``/``after``: JSON-able dicts (dates, datetimes, Decimals and UUIDs are fine), e.g. from ``snapshot``.
    - ``reason``: free text.
    - ``municipality``: whose log it goes in; by default the target's ``municipality``, else the subject's, else the
      actor's.
    - ``subject``: the resident whose data it is; by default the target when it is a User, else ``target.user``.
    """
    if subject is None:
        subject = target if isinstance(target, User) else getattr(target, "user", None)
        if subject is not None and not isinstance(subject, User):
            subject = None
    if municipality is None:
        for source in (target, subject, actor):
            municipality_id = getattr(source, "municipality_id", None)
            if municipality_id is not None:
                municipality = municipality_id
                break
    target_type = (
        ContentType.objects.get_for_model(target, for_concrete_model=True) if isinstance(target, models.Model) else None
    )
    return AuditEntry.objects.create(
        at=clock.now(),
        actor=actor,
        actor_label=(_label(actor) if actor is not None else "system")[:200],
        action=action,
        municipality_id=municipality.pk if isinstance(municipality, models.Model) else municipality,
        subject=subject,
        target_type=target_type,
        target_id=str(target.pk) if isinstance(target, models.Model) and target.pk is not None else "",
        target_label=(_label(target) if target is not None else "")[:200],
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason or "",
    )


def snapshot(instance, fields: Iterable[str]) -> dict:
    """``{field: value}`` of ``instance`` for the audit's before/after (foreign keys as their ids)."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        values[name] = (
            getattr(instance, field.attname) if field.is_relation and field.many_to_one else getattr(instance, name)
        )
    return _jsonable(values)


def _label(obj) -> str:
    if isinstance(obj, User):
        return f"{obj.get_username()} ({obj})" if str(obj) != obj.get_username() else obj.get_username()
    return str(obj)


def _jsonable(value):
    """Plain JSON values, so that what is stored is exactly what is read back (no encoder surprises)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return str(value)
