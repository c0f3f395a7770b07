"""Hot-path queries use indexes on a city-scale database (issue #9 item 3).

A PostgreSQL database seeded with 200,000 reservations (100 units, about two years, three slots a day; 2,000
residents; one in five cancelled, the others holding their slot, X-3) and ANALYZEd. The exact SQL that the
application runs — the ORM's own SQL for the availability grid (``facilities.selectors.holds_between``), the
counter's day sheet and a resident's bookings, and the plain SQL of the booking path (``services._held``, the
monthly limit count ``rules.slots_used``, K-FC-3 / S-FC-4) — is EXPLAINed, and the plan must not read the
reservations or held-slots table sequentially.
"""

import datetime as dt
import re

import pytest
from django.db import connection

from accounts.models import User
from config import clock
from counter.selectors import day_sheet
from facilities import selectors as facility_selectors
from facilities.models import BookingLimit, SlotScheme
from reservations import rules, services
from reservations.models import Reservation, SlotHold
from tests import factories

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.postgresql("query plans of PostgreSQL"),
    pytest.mark.slow,  # 200,000 bookings are inserted first
]

RESERVATIONS = 200_000
FACILITIES, UNITS_PER_FACILITY, USERS = 10, 10, 2_000
FIRST_DAY = dt.date(2026, 4, 1)
BIG_TABLES = {Reservation._meta.db_table, SlotHold._meta.db_table}


def _insert_select(model, explicit: dict[str, str], source: str) -> tuple[str, list]:
    """INSERT INTO model's table SELECT …: ``explicit`` maps columns to SQL over ``source``; every other column
    gets the field's default (so columns that later migrations add do not break the seeding)."""
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in explicit:
            values.append(explicit[field.column])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM {source}"
    return sql, params


@pytest.fixture
def city(django_db_blocker):
    municipality = factories.make_municipality(slug="bigcity", name_ja="大市", name_en="Big City")
    scheme = factories.make_scheme(municipality, kind=SlotScheme.Kind.FIXED_LENGTH, slot_minutes=180)
    units = []
    for f in range(FACILITIES):
        facility = factories.make_facility(municipality, code=f"center-{f}")
        for u in range(UNITS_PER_FACILITY):
            units.append(factories.make_unit(facility, scheme, code=f"room-{u}"))
    User.objects.bulk_create(
        [
            User(username=f"big-{i:04d}", municipality=municipality, account_kind="individual", password="!")
            for i in range(USERS)
        ]
    )
    users = list(User.objects.filter(municipality=municipality).order_by("id").values_list("id", flat=True))
    unit_ids = [u.id for u in units]

    # One reservation per (unit, day, slot of 9:00/13:00/18:00 Japan time) until RESERVATIONS rows; the user
    # cycles through the residents; every fifth is cancelled.
    grid = f"""
        (SELECT n, unit_ids[1 + mod(n, {len(unit_ids)})] AS unit_id, users[1 + mod(n * 7, {len(users)})] AS user_id,
                (%s::timestamptz + ((n / {len(unit_ids)}) / 3) * interval '1 day'
                 + (ARRAY[0, 4, 9])[1 + mod(n / {len(unit_ids)}, 3)] * interval '1 hour') AS starts_at
           FROM generate_series(0, {RESERVATIONS - 1}) AS n,
                (SELECT %s::bigint[] AS unit_ids, %s::bigint[] AS users) AS ids) AS g
    """
    sql, params = _insert_select(
        Reservation,
        {
            "municipality_id": str(municipality.id),
            "unit_id": "g.unit_id",
            "user_id": "g.user_id",
            "starts_at": "g.starts_at",
            "ends_at": "g.starts_at + interval '3 hours'",
            "slot_count": "1",
            "state": "CASE WHEN mod(g.n, 5) = 0 THEN 'cancelled' ELSE 'confirmed' END",
            "origin": "'first_come'",
            "channel": "'online'",
            "created_at": "g.starts_at - interval '30 days'",
            "confirmed_at": "CASE WHEN mod(g.n, 5) = 0 THEN NULL ELSE g.starts_at - interval '29 days' END",
            "cancelled_at": "CASE WHEN mod(g.n, 5) = 0 THEN g.starts_at - interval '10 days' ELSE NULL END",
            "cancel_reason": "CASE WHEN mod(g.n, 5) = 0 THEN 'user' ELSE '' END",
        },
        grid,
    )
    start_of_grid = clock.at(FIRST_DAY, dt.time(9))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, start_of_grid, unit_ids, users])  # the defaults' values, then the grid's
        hold_sql, hold_params = _insert_select(
            SlotHold,
            {"reservation_id": "r.id", "unit_id": "r.unit_id", "starts_at": "r.starts_at"},
            f"{Reservation._meta.db_table} r WHERE r.municipality_id = {municipality.id} AND r.state <> 'cancelled'",
        )
        cursor.execute(hold_sql, hold_params)
        # Every table, as autovacuum keeps them in production: an unanalysed small table (key lendings) gets a
        # default row estimate that can tip the planner into scanning the bookings table.
        cursor.execute("ANALYZE")
    assert Reservation.objects.filter(municipality=municipality).count() == RESERVATIONS
    return municipality, units, users


def plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def sequential_scans_of_big_tables(text: str) -> list[str]:
    return [
        line.strip()
        for line in text.splitlines()
        if (m := re.search(r"Seq Scan on (\w+)", line)) and m.group(1) in BIG_TABLES
    ]


def captured(run) -> list[tuple[str, list]]:
    """The SQL statements (with their parameters) that ``run()`` sends, captured on the connection."""
    statements = []

    def wrapper(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        run()
    return statements


def assert_indexed(statements, what: str):
    touching = [(sql, params) for sql, params in statements if any(t in sql for t in BIG_TABLES)]
    assert touching, f"{what}: no statement read the bookings tables"
    for sql, params in touching:
        text = plan(sql, params)
        assert not sequential_scans_of_big_tables(text), f"{what} reads a bookings table sequentially:\n{sql}\n{text}"


def test_hot_path_queries_use_indexes_on_a_city_scale_database(city):
    """One seeding (about 15 s), every hot-path query of the bookings tables EXPLAINed."""
    from reservations.selectors import my_bookings

    municipality, units, users = city
    assert SlotHold.objects.count() >= RESERVATIONS * 4 // 5
    # The detector itself: an unindexed filter on the same table is a sequential scan.
    unindexed = Reservation.objects.filter(walk_in_phone="03-0000-0000").values_list("id")
    assert sequential_scans_of_big_tables(plan(*unindexed.query.sql_with_params()))

    class Slot:  # services._held reads only .starts_at of the slots it is given
        def __init__(self, starts_at):
            self.starts_at = starts_at

    day = FIRST_DAY + dt.timedelta(days=200)
    user = User.objects.get(pk=users[123])
    checks = {
        # The week grid's and the API's availability query: the ORM's exact SQL.
        "availability grid (facilities.selectors.holds_between)": lambda: facility_selectors.holds_between(
            unit=units[37], start=clock.at(day, dt.time(0)), end=clock.at(day + dt.timedelta(days=7), dt.time(0))
        ),
        "booking path: slot taken? (services._held)": lambda: services._held(
            units[5], [Slot(clock.at(day, dt.time(9)))]
        ),
        "counter day sheet": lambda: day_sheet(municipality=municipality, facility=units[20].facility, day=day),
        "my bookings": lambda: my_bookings(municipality=municipality, user=User.objects.get(pk=users[7])),
    }
    for scope in (BookingLimit.Scope.MUNICIPALITY, BookingLimit.Scope.FACILITY, BookingLimit.Scope.UNIT):
        limit = BookingLimit(scope=scope, rule_id="K-FC-3", count=4)  # unsaved: slots_used reads scope and origins
        checks[f"monthly limit count, {scope} scope (rules.slots_used)"] = lambda limit=limit: rules.slots_used(
            user=user, limit=limit, unit=units[12], use_date=day
        )
    for what, run in checks.items():
        assert_indexed(captured(run), what)
