"""One user's bookings, one at a time: the per-user lock that every limit count runs under.

Bookings, changes, lottery applications and cancellation alerts take it before counting and insert after, always in
that order (decision 0001). A module of its own, below the services that take it.
"""

from django.contrib.auth import get_user_model
from django.db import connection

USER_LOCK_NAMESPACE = 7301  # PostgreSQL advisory-lock key space of "one user's bookings" (any fixed number)


def lock_user(user) -> None:
    """Serialize one user's bookings, so that two tabs at 09:00:00 cannot both pass a limit count (DESIGN §2).

    PostgreSQL: a transaction-scoped advisory lock on the user's id, which writes nothing (a row lock with
    SELECT … FOR UPDATE would write the user's row and its WAL on every booking). SQLite: the IMMEDIATE
    transaction mode (settings) already serializes writers. Other databases: the user's row, FOR UPDATE."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [USER_LOCK_NAMESPACE, user.pk])
        elif connection.features.has_select_for_update:
            table = connection.ops.quote_name(get_user_model()._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [user.pk])
