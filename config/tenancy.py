"""Tenant arguments: one convention for "a municipality (or user), as an object or as its id".

Hot paths (the fee tables, the booking rules, the lottery months, the password rules) are called both with a
model instance (from a view or a service that already loaded it) and with a bare id (from a cached table, a job or
a raw SQL row). Accepting both saves a query where only the id is needed; ``pk_of`` is the one place that reads it.
"""

from typing import Any


def pk_of(obj_or_id: Any) -> Any:
    """The primary key of ``obj_or_id``: its ``pk`` if it is a model instance, else the id it already is."""
    return getattr(obj_or_id, "pk", obj_or_id)
