"""Migrations are safe on a live database (issue #9 item 3).

A release runs ``migrate`` while the previous release still serves requests, and restarts afterwards
(docs/operations/migrations.md). So every migration of our apps must pass two checks:

- **The previous release keeps working** (PostgreSQL only). django-migration-linter reads the SQL that ``migrate``
  would run on this PostgreSQL database and knows which statements break code that does not know about the change:
  a NOT NULL column without a database default, a dropped or renamed column or table, a changed column type, a new
  unique constraint, a data migration that imports models. SQLite's SQL cannot be judged this way: SQLite rebuilds
  a table for most changes, and the linter then flags every rebuilt NOT NULL column (11 false alarms on this tree,
  among them ``reservations/0007_walk_in``'s correct ``db_default`` columns), so on SQLite this half is skipped and
  CI, which runs on PostgreSQL, enforces it.
- **No long exclusive lock on a big table** (every database; it reads the operations, not SQL). On the tables that
  grow with every booking (``BIG_TABLES``), an index is built with ``config.migration_ops.AddIndexConcurrently``, a
  CHECK constraint is added ``NOT VALID`` and validated in a later migration, and no column gets a new index or
  unique constraint inside the migration's transaction.

A migration that is unsafe on purpose (the second step of a column removal, a longer ``varchar``) goes into
``ACCEPTED`` with a one-line reason. The tests below also build unsafe migrations in memory and require both checks
to flag them, and exercise ``config/migration_ops.py`` on the database the suite runs on.
"""

import pytest
from django.contrib.postgres import operations as postgres
from django.db import IntegrityError, NotSupportedError, connection, migrations, models
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser import PostgresqlAnalyser, analyse_sql_statements

from config import migration_ops

OUR_APPS = ("accounts", "facilities", "fees", "lottery", "reservations")

# (app label, model name): the tables that grow with every booking, application or message. A migration holding an
# exclusive lock on one of them for a full-table read or index build stops bookings at the counter and online
# (200,000 reservations ≈ 1 s, docs/open-items.md). Add a table here when it grows the same way.
BIG_TABLES = {
    ("reservations", "reservation"),  # one row per booking
    ("reservations", "slothold"),  # one row per held slot of an active booking
    ("fees", "payment"),  # one row per paid booking
    ("lottery", "application"),  # every resident's applications, every month
    ("accounts", "notice"),  # every message sent, kept as the residents' inbox
    ("accounts", "auditentry"),  # every staff action, never deleted
}

# (app label, migration name) → why this migration may run although a check flags it. Keep it short and honest:
# every entry must still be flagged (test_every_exception_is_still_needed), and new migrations should pass.
BEFORE_FIRST_RELEASE = "before the first production release: no live database to keep running"
ACCEPTED = {
    ("facilities", "0004_registration_validity"): f"{BEFORE_FIRST_RELEASE} (NOT NULL rule-profile columns)",
    ("facilities", "0005_registration_profile"): f"{BEFORE_FIRST_RELEASE} (NOT NULL rule-profile columns)",
    ("facilities", "0006_window_paid_at_booking"): f"{BEFORE_FIRST_RELEASE} (NOT NULL booking-window column)",
    ("facilities", "0007_permit_title"): f"{BEFORE_FIRST_RELEASE} (NOT NULL rule-profile column)",
    ("fees", "0003_refunds_and_weather"): f"{BEFORE_FIRST_RELEASE} (NOT NULL and unique payment columns, CHECKs)",
    ("reservations", "0003_booking_changes"): f"{BEFORE_FIRST_RELEASE} (unique index of changed_from)",
    ("reservations", "0007_walk_in"): f"{BEFORE_FIRST_RELEASE} (CHECK validated over all reservations)",
    ("reservations", "0010_unit_start_index"): f"{BEFORE_FIRST_RELEASE} (index built while writes wait)",
    ("fees", "0008_combined_payment"): f"{BEFORE_FIRST_RELEASE} (payment index, conditional uniques)",
}

# What to do instead, by django-migration-linter's issue code.
HOW_TO_FIX = {
    "NOT_NULL": "a new NOT NULL column needs db_default= (the previous release inserts rows without it); make an "
    "existing column NOT NULL only once a release that always writes it is running",
    "DROP_COLUMN": "the previous release still reads it: release code that no longer uses it first "
    "(SeparateDatabaseAndState removes it from the models only), drop it in a later release and accept that step",
    "DROP_TABLE": "the previous release still reads it: stop using the model in one release, delete it in a later one",
    "RENAME_COLUMN": "the previous release uses the old name: keep it with db_column=, or add a new column and drop "
    "the old one a release later",
    "RENAME_TABLE": "the previous release uses the old name: keep it with Meta.db_table",
    "ALTER_COLUMN": "a type change may refuse the previous release's values and rewrites the table; a longer "
    "varchar is safe: accept it with that reason",
    "ADD_UNIQUE": "the previous release may write duplicates, and the unique index is built while writes wait",
    "RUNPYTHON_MODEL_IMPORT": "use apps.get_model() in data migrations",
}


def _plan():
    """(migration, project state before it) for every migration, in the order ``migrate`` applies them. The state
    is advanced without rendering models, so walking the whole graph takes a fraction of a second."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    seen = set()
    for leaf in sorted(loader.graph.leaf_nodes()):
        for key in loader.graph.forwards_plan(leaf):
            if key not in seen:
                seen.add(key)
                migration = loader.graph.nodes[key]
                yield migration, state.clone()
                state = migration.mutate_state(state, preserve=False)


def _our_migrations():
    return [(migration, state) for migration, state in _plan() if migration.app_label in OUR_APPS]


def _latest_state():
    """The project state after every migration: the base of the in-memory migrations below."""
    *_, (migration, before) = _plan()
    return migration.mutate_state(before, preserve=False)


def _database_operations(operations):
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _database_operations(operation.database_operations)
        else:
            yield operation


def _indexed(field) -> bool:
    return not field.primary_key and (field.db_index or field.unique)


def long_locks(migration, state) -> list[str]:
    """Operations of ``migration`` that would hold an exclusive lock on a big table while PostgreSQL reads the
    whole table or builds an index. ``state`` is the project state before the migration."""
    app_label, problems = migration.app_label, []
    operations = list(_database_operations(migration.operations))
    created = set()  # tables made by this migration are empty: nothing waits on them
    for operation in operations:
        if isinstance(operation, migrations.CreateModel):
            created.add(operation.name_lower)
        model = (getattr(operation, "model_name", None) or "").lower()
        where = f"{app_label}.{model}"
        if isinstance(operation, postgres.AddIndexConcurrently) and migration.atomic:
            problems.append(f"{where}: {operation.describe()} needs atomic = False on the migration")
        if isinstance(operation, postgres.ValidateConstraint) and migration.atomic and len(operations) > 1:
            problems.append(
                f"{where}: VALIDATE CONSTRAINT shares a transaction with other operations, so their exclusive locks "
                "stay taken while it reads the table: give it a migration of its own"
            )
        if (app_label, model) not in BIG_TABLES or model in created:
            continue
        if isinstance(operation, migrations.AddIndex) and not isinstance(operation, postgres.AddIndexConcurrently):
            problems.append(
                f"{where}: index {operation.index.name} is built while writes wait: use "
                "config.migration_ops.AddIndexConcurrently in a migration with atomic = False"
            )
        elif isinstance(operation, migrations.AddConstraint) and not isinstance(
            operation, postgres.AddConstraintNotValid
        ):
            if isinstance(operation.constraint, models.CheckConstraint):
                problems.append(
                    f"{where}: CHECK {operation.constraint.name} reads every row under an exclusive lock: use "
                    "config.migration_ops.AddCheckConstraintNotValid, then ValidateConstraint in a later migration"
                )
            else:
                problems.append(
                    f"{where}: constraint {operation.constraint.name} builds its index while writes wait: build a "
                    "unique index CONCURRENTLY first (RunSQL in SeparateDatabaseAndState), or accept it with a reason"
                )
        elif isinstance(operation, migrations.AddField) and _indexed(operation.field):
            problems.append(
                f"{where}.{operation.name}: the new column's index (or unique constraint) is built while writes "
                "wait: add the column without db_index/unique/foreign key index, then AddIndexConcurrently"
            )
        elif isinstance(operation, migrations.AlterField) and _indexed(operation.field):
            before = state.models[app_label, model].fields.get(operation.name)  # None: added just above
            if before is not None and not _indexed(before):
                problems.append(
                    f"{where}.{operation.name}: the column's new index (or unique constraint) is built while "
                    "writes wait: use AddIndexConcurrently instead"
                )
    return problems


def previous_release_breaks(migration, state, linter) -> list[str]:
    """What the previous release, still running during ``migrate``, would trip over: django-migration-linter's
    errors on the SQL that ``sqlmigrate`` would print for ``migration`` on this PostgreSQL database (the same
    statements, with BEGIN/COMMIT around an atomic migration as sqlmigrate prints them), and on its data
    migrations. ``state`` is the project state before the migration; it is not changed."""
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        migration.apply(state.clone(), editor, collect_sql=True)
    statements = editor.collected_sql
    if migration.atomic:
        statements = ["BEGIN;", *statements, "COMMIT;"]
    lines = "\n".join(statements).splitlines()
    errors, _ignored, _warnings = analyse_sql_statements(PostgresqlAnalyser, lines)
    errors += linter.analyse_data_migration(migration)[0]
    problems = []
    for issue in errors:
        where = ".".join(part for part in (issue.table, issue.column) if part)
        problem = f"{issue.code} {where + ': ' if where else ''}{issue.message}"
        problems.append(f"{problem}: {HOW_TO_FIX[issue.code]}" if issue.code in HOW_TO_FIX else problem)
    return list(dict.fromkeys(problems))  # RunSQL's statements are read twice (SQL and data migration)


def _report(found: dict) -> str:
    lines = []
    for (app_label, name), problems in found.items():
        lines.append(f"{app_label}/migrations/{name}.py:")
        lines.extend(f"  - {problem}" for problem in problems)
    lines.append(
        "Fix the migration (README: Migrations on a live database), or, if it is unsafe on purpose, add it to "
        "ACCEPTED in tests/ops/test_migration_safety.py with a one-line reason."
    )
    return "\n".join(lines)


needs_postgresql = pytest.mark.postgresql(
    "the linter judges PostgreSQL's SQL; SQLite rebuilds tables and gives false alarms"
)


@pytest.fixture
def outside_transaction(django_db_setup, django_db_blocker):
    """The test database without a test transaction around the test, as ``migrate`` uses it: AddIndexConcurrently
    refuses to run inside a transaction, and SQLite's schema editor too. The tests here write nothing that they
    do not remove."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def linter(outside_transaction):
    """django-migration-linter, for its checks of data migrations (RunPython, RunSQL); its SQL checks are called
    directly on the SQL collected here."""
    return MigrationLinter(no_cache=True, no_output=True)


def test_every_migration_keeps_big_tables_writable():
    found = {}
    for migration, state in _our_migrations():
        if (migration.app_label, migration.name) not in ACCEPTED and (problems := long_locks(migration, state)):
            found[migration.app_label, migration.name] = problems
    assert not found, "Migrations that lock a big table for long:\n" + _report(found)


@needs_postgresql
def test_every_migration_keeps_the_previous_release_working(linter):
    found, checked = {}, 0
    for migration, state in _our_migrations():
        if (migration.app_label, migration.name) not in ACCEPTED:
            checked += 1
            if problems := previous_release_breaks(migration, state, linter):
                found[migration.app_label, migration.name] = problems
    assert checked > 30  # the walk found our migrations
    assert not found, "Migrations that break the release still running during migrate:\n" + _report(found)


def test_exceptions_name_existing_migrations():
    keys = {(m.app_label, m.name) for m, _state in _our_migrations()}
    assert set(ACCEPTED) <= keys, f"ACCEPTED names migrations that do not exist: {set(ACCEPTED) - keys}"


@needs_postgresql
def test_every_exception_is_still_needed(linter):
    """An exception that no check flags any more hides nothing: it must go, so the list stays honest."""
    stale = [
        key
        for migration, state in _our_migrations()
        if (key := (migration.app_label, migration.name)) in ACCEPTED
        and not long_locks(migration, state)
        and not previous_release_breaks(migration, state, linter)
    ]
    assert not stale, f"These exceptions are no longer needed, remove them from ACCEPTED: {stale}"


# --- The checks flag unsafe migrations (built in memory on top of today's models) ---------------------------------


def _migration(app_label, *operations, atomic=True):
    migration = migrations.Migration("9999_probe", app_label)
    migration.operations = list(operations)
    migration.atomic = atomic
    return migration


@pytest.fixture(scope="module")
def latest_state():
    return _latest_state()


RESERVATION_INDEX = models.Index(fields=["pay_by"], name="reservation_probe_idx")
PAID_CHECK = models.CheckConstraint(condition=models.Q(fee_total__gte=0), name="reservation_probe_check")

UNSAFE_FOR_LOCKS = {
    "index on reservations": _migration("reservations", migrations.AddIndex("reservation", RESERVATION_INDEX)),
    "CHECK on reservations": _migration("reservations", migrations.AddConstraint("reservation", PAID_CHECK)),
    "unique constraint on slot holds": _migration(
        "reservations",
        migrations.AddConstraint(
            "slothold", models.UniqueConstraint(fields=["reservation", "starts_at"], name="slothold_probe_unique")
        ),
    ),
    "indexed new column on notices": _migration(
        "accounts", migrations.AddField("notice", "probe", models.CharField(max_length=10, null=True, db_index=True))
    ),
    "foreign key added to audit entries": _migration(
        "accounts",
        migrations.AddField(
            "auditentry", "probe", models.ForeignKey("facilities.unit", models.PROTECT, null=True, related_name="+")
        ),
    ),
    "existing column made unique on payments": _migration(
        "fees",
        migrations.AlterField("payment", "carried_amount", models.PositiveIntegerField(default=0, unique=True)),
    ),
    "index hidden in SeparateDatabaseAndState": _migration(
        "reservations",
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AddIndex("reservation", RESERVATION_INDEX)]
        ),
    ),
    "concurrent index in a transaction": _migration(
        "reservations", migration_ops.AddIndexConcurrently("reservation", RESERVATION_INDEX)
    ),
    "validation sharing a transaction": _migration(
        "reservations",
        migration_ops.AddCheckConstraintNotValid("reservation", PAID_CHECK),
        migration_ops.ValidateConstraint("reservation", PAID_CHECK.name),
    ),
}

SAFE_FOR_LOCKS = {
    "concurrent index": _migration(
        "reservations", migration_ops.AddIndexConcurrently("reservation", RESERVATION_INDEX), atomic=False
    ),
    "CHECK added NOT VALID": _migration(
        "reservations", migration_ops.AddCheckConstraintNotValid("reservation", PAID_CHECK)
    ),
    "validation on its own": _migration(
        "reservations", migration_ops.ValidateConstraint("reservation", PAID_CHECK.name)
    ),
    "index on a small table": _migration(
        "facilities", migrations.AddIndex("unit", models.Index(fields=["code"], name="unit_probe_idx"))
    ),
    "plain nullable column on reservations": _migration(
        "reservations", migrations.AddField("reservation", "probe", models.CharField(max_length=10, null=True))
    ),
    "verbose name of an indexed column": _migration(
        "reservations",
        migrations.AlterField(
            "slothold",
            "reservation",
            models.ForeignKey("reservations.reservation", models.CASCADE, related_name="holds", verbose_name="probe"),
        ),
    ),
}


@pytest.mark.parametrize("case", UNSAFE_FOR_LOCKS)
def test_lock_check__flags_unsafe_migration(case, latest_state):
    problems = long_locks(UNSAFE_FOR_LOCKS[case], latest_state)
    assert len(problems) == 1, problems


@pytest.mark.parametrize("case", SAFE_FOR_LOCKS)
def test_lock_check__passes_safe_migration(case, latest_state):
    assert long_locks(SAFE_FOR_LOCKS[case], latest_state) == []


BREAKS_PREVIOUS_RELEASE = {
    "NOT NULL column without a database default": (
        _migration(
            "reservations",
            migrations.AddField("reservation", "probe", models.CharField(max_length=10, default="")),
        ),
        "NOT_NULL",
    ),
    "nullable column made NOT NULL": (
        _migration("reservations", migrations.AlterField("reservation", "pay_by", models.DateTimeField())),
        "NOT_NULL",
    ),
    "column dropped": (
        _migration("reservations", migrations.RemoveField("reservation", "walk_in_phone")),
        "DROP_COLUMN",
    ),
    "column renamed": (
        _migration("reservations", migrations.RenameField("reservation", "walk_in_phone", "walk_in_telephone")),
        "RENAME_COLUMN",
    ),
    "table dropped": (_migration("reservations", migrations.DeleteModel("usereport")), "DROP_TABLE"),
    "table renamed": (_migration("reservations", migrations.RenameModel("UseReport", "UsageReport")), "RENAME_TABLE"),
    "column type changed": (
        _migration(
            "reservations",
            migrations.AlterField("reservation", "fee_total", models.CharField(max_length=10, null=True)),
        ),
        "ALTER_COLUMN",
    ),
    "column dropped by RunSQL": (
        _migration(
            "reservations",
            migrations.RunSQL("ALTER TABLE reservations_reservation DROP COLUMN pay_by_rule_id;"),
        ),
        "DROP_COLUMN",
    ),
}


@needs_postgresql
@pytest.mark.parametrize("case", BREAKS_PREVIOUS_RELEASE)
def test_previous_release_check__flags_unsafe_migration(case, latest_state, linter):
    migration, code = BREAKS_PREVIOUS_RELEASE[case]
    problems = previous_release_breaks(migration, latest_state, linter)
    assert any(problem.startswith(code) for problem in problems), problems


@needs_postgresql
def test_previous_release_check__passes_column_with_database_default(latest_state, linter):
    """The shape of reservations/0007_walk_in: the previous release's INSERTs leave the column out and get ''."""
    migration = _migration(
        "reservations",
        migrations.AddField("reservation", "probe", models.CharField(max_length=10, default="", db_default="")),
        migrations.AddField("reservation", "probe_at", models.DateTimeField(null=True)),
    )
    assert previous_release_breaks(migration, latest_state, linter) == []


def test_failure_message_names_the_migration_and_the_way_out(latest_state):
    migration = UNSAFE_FOR_LOCKS["index on reservations"]
    report = _report({(migration.app_label, migration.name): long_locks(migration, latest_state)})
    assert "reservations/migrations/9999_probe.py" in report
    assert "reservation_probe_idx" in report and "AddIndexConcurrently" in report
    assert "ACCEPTED" in report


# --- config/migration_ops.py works on the database the suite runs on ----------------------------------------------


PROBE_APP = "migration_probe"


@pytest.fixture
def probe_table(outside_transaction):
    """A scratch table ``migration_probe_probe`` (id, n) with one row n = -1, dropped afterwards."""
    state = ProjectState()
    state.add_model(
        ModelState(PROBE_APP, "Probe", [("id", models.AutoField(primary_key=True)), ("n", models.IntegerField())])
    )
    model = state.apps.get_model(PROBE_APP, "Probe")
    with connection.schema_editor() as editor:
        editor.create_model(model)
    try:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO migration_probe_probe (n) VALUES (-1)")
        yield state
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(model)


def _apply(operation, state, *, atomic):
    """Run one operation as ``migrate`` would in a migration with that ``atomic``; return the state after it."""
    new_state = state.clone()
    operation.state_forwards(PROBE_APP, new_state)
    with connection.schema_editor(atomic=atomic) as editor:
        operation.database_forwards(PROBE_APP, editor, state, new_state)
    return new_state


def _index_names():
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, "migration_probe_probe"))


def _insert(n):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO migration_probe_probe (n) VALUES (%s)", [n])


def test_add_index_concurrently__builds_the_index_outside_a_transaction(probe_table):
    operation = migration_ops.AddIndexConcurrently("probe", models.Index(fields=["n"], name="probe_n_idx"))
    with pytest.raises(NotSupportedError, match="atomic = False"):
        _apply(operation, probe_table, atomic=True)
    assert "probe_n_idx" not in _index_names()

    state = _apply(operation, probe_table, atomic=False)
    assert "probe_n_idx" in _index_names()
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards(PROBE_APP, editor, state, probe_table)
    assert "probe_n_idx" not in _index_names()


@needs_postgresql
def test_add_index_concurrently__postgresql_sql_says_concurrently(probe_table):
    operation = migration_ops.AddIndexConcurrently("probe", models.Index(fields=["n"], name="probe_n_idx"))
    state = probe_table.clone()
    operation.state_forwards(PROBE_APP, state)
    with connection.schema_editor(collect_sql=True, atomic=False) as editor:
        operation.database_forwards(PROBE_APP, editor, probe_table, state)
    assert any("CREATE INDEX CONCURRENTLY" in sql for sql in editor.collected_sql), editor.collected_sql


NON_NEGATIVE = models.CheckConstraint(condition=models.Q(n__gte=0), name="probe_n_non_negative")


@needs_postgresql
def test_check_not_valid__postgresql_checks_new_rows_at_once_and_old_rows_on_validation(probe_table):
    """NOT VALID reads no existing row (the bad row -1 stays), yet refuses a new bad row; VALIDATE then reads the
    table and refuses the old bad row until it is fixed."""
    state = _apply(migration_ops.AddCheckConstraintNotValid("probe", NON_NEGATIVE), probe_table, atomic=True)
    with pytest.raises(IntegrityError):
        _insert(-2)
    _insert(2)

    validate = migration_ops.ValidateConstraint("probe", NON_NEGATIVE.name)
    with pytest.raises(IntegrityError):
        _apply(validate, state, atomic=True)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE migration_probe_probe SET n = 1 WHERE n < 0")
    _apply(validate, state, atomic=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", [NON_NEGATIVE.name])
        assert cursor.fetchone() == (True,)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite fallback")
def test_check_not_valid__elsewhere_a_plain_check_constraint(probe_table):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE migration_probe_probe SET n = 1")
    state = _apply(migration_ops.AddCheckConstraintNotValid("probe", NON_NEGATIVE), probe_table, atomic=True)
    _apply(migration_ops.ValidateConstraint("probe", NON_NEGATIVE.name), state, atomic=True)
    with pytest.raises(IntegrityError):
        _insert(-2)
    _insert(2)
