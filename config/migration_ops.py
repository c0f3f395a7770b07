"""Migration operations that keep a big table usable while they run (issue #9 item 3).

Django's own PostgreSQL operations (``django.contrib.postgres.operations``) do the right thing on PostgreSQL but
fail on SQLite, where the tests and the demo run. These subclasses run them on PostgreSQL and fall back to the
plain operation elsewhere, so a migration that uses them works on both. ``tests/ops/test_migration_safety.py``
asks for them on the big tables and tests them on both databases.

Use in a migration (edit what ``makemigrations`` wrote; the models do not change)::

    from config import migration_ops

    class Migration(migrations.Migration):
        atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction
        operations = [migration_ops.AddIndexConcurrently(model_name=..., index=models.Index(...))]

Keep the concurrent index alone in its migration: a non-atomic migration that fails half-way is not recorded, and
a failed CREATE INDEX CONCURRENTLY leaves an INVALID index behind (drop it, then ``migrate`` again).

A CHECK constraint on a big table takes two migrations: ``AddCheckConstraintNotValid`` (new and changed rows are
checked at once, existing rows are not read, so the exclusive lock is short), then ``ValidateConstraint`` in a
migration of its own, which reads the existing rows while the application keeps reading and writing.
"""

from django.contrib.postgres import operations as postgres
from django.db.migrations import AddConstraint, AddIndex


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexConcurrently(postgres.AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY`` on PostgreSQL (writes go on while it builds); a plain index elsewhere.

    Refused inside a transaction on every database (``atomic = False`` on the migration), so a migration that
    forgot it fails on SQLite too, not first in production."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        return AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgresql(schema_editor):
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        self._ensure_not_in_transaction(schema_editor)
        return AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddCheckConstraintNotValid(postgres.AddConstraintNotValid):
    """``ADD CONSTRAINT … CHECK … NOT VALID`` on PostgreSQL: checked for new and changed rows from now on, without
    reading the table under the exclusive lock. Elsewhere a plain CHECK constraint (SQLite rebuilds the table)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgresql(schema_editor):
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return AddConstraint.database_forwards(self, app_label, schema_editor, from_state, to_state)


class ValidateConstraint(postgres.ValidateConstraint):
    """``VALIDATE CONSTRAINT`` on PostgreSQL: reads the existing rows under a lock that lets reads and writes go on
    (SHARE UPDATE EXCLUSIVE). Nothing to do elsewhere: the plain constraint was checked when it was added."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _on_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
