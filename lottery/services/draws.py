"""The draw of the monthly lottery (K-LOT-3, S-LOT-4). Each use case is one transaction.

- ``ensure_draw`` / ``commit`` / ``draw`` — the draw record gets its secret seed (and the hash of it) as soon as it
  is made; when the application window has closed, the canonical application list is hashed and frozen (the
  commit); on the draw day the draw runs in one transaction under the draw's row lock: a rerun, or a run after a
  crash (the transaction rolled back), never changes or duplicates results.
  Wins become bookings (origin "lottery") holding their slots (X-3) at once, known to residents only from the
  draw's results moment (``Reservation.published_from``; K-LOT-3, S-LOT-5). A win the winner must confirm is in
  state "won" until confirmed (S-LOT-5); elsewhere it is a booking in the policy's state at once (K-LOT-4).
- ``list_document`` / ``export_document`` — the published application list and what is published about a draw.
"""

import contextlib
import datetime as dt
import gc
import hashlib
import hmac
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from config import clock
from config.tenancy import pk_of
from facilities import daterules
from facilities.models import BookingState, Channel, Municipality, Phase, Unit
from facilities.slots import Slot
from fees.rules import quote_or_none
from lottery import algorithm
from lottery.models import Application, Draw, DrawResult
from reservations import rules
from reservations.models import Reservation, SlotHold

from .errors import _refuse
from .months import policy_of, timeline

# The draw ---------------------------------------------------------------------------------------------------


def _new_seed() -> tuple[str, str]:
    seed = secrets.token_hex(32)
    return seed, algorithm.sha256_hex(seed)


def ensure_draw(*, municipality, month: dt.date, now: dt.datetime | None = None) -> Draw:
    """The month's draw record, made (with its secret seed) if missing. The job makes it as soon as the
    application window opens, so the seed is fixed before the applications are known."""
    municipality_id = pk_of(municipality)
    existing = Draw.objects.filter(municipality_id=municipality_id, month=month).first()
    if existing is not None:
        return existing
    seed, seed_hash = _new_seed()
    try:
        with transaction.atomic():
            return Draw.objects.create(
                municipality_id=municipality_id,
                month=month,
                seed=seed,
                seed_sha256=seed_hash,
                applicant_salt=secrets.token_hex(32),
                created_at=now or clock.now(),
            )
    except IntegrityError:  # made by a concurrent run
        return Draw.objects.get(municipality_id=municipality_id, month=month)


LOSS_HISTORY_DRAWS = 12  # draws looked back at for loss weighting (a year of monthly lotteries)


def _loss_weights(draw: Draw, user_ids, cap: int) -> dict[int, int]:
    """1 + consecutive earlier draws (of this municipality, most recent first, skipping draws the user did not
    enter, at most ``LOSS_HISTORY_DRAWS`` back) in which all the user's applications lost, at most ``cap``.
    Only users with a weight above 1 are returned."""
    earlier = list(
        Draw.objects.filter(municipality_id=draw.municipality_id, month__lt=draw.month, status=Draw.Status.DRAWN)
        .order_by("-month")
        .values_list("pk", flat=True)[:LOSS_HISTORY_DRAWS]
    )
    if not earlier or cap <= 0:
        return {}
    user_ids = set(user_ids)
    entered = defaultdict(dict)  # user -> {draw: won anything}
    sql = (
        f"SELECT r.draw_id, a.user_id, MAX(CASE WHEN r.outcome = %s THEN 1 ELSE 0 END)"
        f" FROM {DrawResult._meta.db_table} r JOIN {Application._meta.db_table} a ON a.id = r.application_id"
        f" WHERE r.draw_id IN ({', '.join(['%s'] * len(earlier))}) GROUP BY r.draw_id, a.user_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [DrawResult.Outcome.WON, *earlier])
        for draw_id, user_id, won in cursor.fetchall():
            if user_id in user_ids:
                entered[user_id][draw_id] = bool(won)
    weights = {}
    for user_id, per_draw in entered.items():
        streak = 0
        for draw_id in earlier:
            if draw_id not in per_draw:
                continue
            if per_draw[draw_id]:
                break
            streak += 1
        if streak:
            weights[user_id] = 1 + min(streak, cap)
    return weights


def _pseudonym(salt: str, user_id: int) -> str:
    return hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()[:16]


_ENTRY = '{"applicant":"%s","end":"%s","id":%d,"start":"%s","unit":%d,"weight":%d}'


def entry_text(entry) -> str:
    """canonical_json of one application (id, applicant, unit, start, end, weight), without json.dumps (a million
    of these are hashed per draw); a test checks it equals json.dumps."""
    app_id, applicant, unit, start, end, weight = entry
    return _ENTRY % (applicant, end, app_id, start, unit, weight)


def _epoch(column: str) -> str:
    """SQL for a timestamp column as whole seconds since 1970 (a million datetimes parse slowly in Python)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    if connection.vendor == "sqlite":
        return f"CAST(strftime('%%s', {column}) AS INTEGER)"
    return column


def _load_entries(draw: Draw, municipality_slug: str):
    """The draw's applications as algorithm tuples (id, applicant, unit, start, end, weight) in canonical order,
    with the user of each application, the header of the list document and its SHA-256."""
    iso = {}
    pseudonyms = {}
    entries, users = [], []
    sql = (
        f"SELECT id, user_id, unit_id, {_epoch('starts_at')}, {_epoch('ends_at')}, weight FROM "
        f"{Application._meta.db_table}"
        " WHERE municipality_id = %s AND month = %s AND withdrawn_at IS NULL ORDER BY starts_at, unit_id, id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [draw.municipality_id, connection.ops.adapt_datefield_value(draw.month)])
        while True:
            rows = cursor.fetchmany(20000)
            if not rows:
                break
            for app_id, user_id, unit_id, starts_at, ends_at, weight in rows:
                start = iso.get(starts_at)
                if start is None:
                    start = iso[starts_at] = _iso(starts_at)
                end = iso.get(ends_at)
                if end is None:
                    end = iso[ends_at] = _iso(ends_at)
                applicant = pseudonyms.get(user_id)
                if applicant is None:
                    applicant = pseudonyms[user_id] = _pseudonym(draw.applicant_salt, user_id)
                entries.append((app_id, applicant, unit_id, start, end, weight))
                users.append(user_id)
    header = {
        "format": algorithm.FORMAT,
        "month": f"{draw.month:%Y-%m}",
        "municipality": municipality_slug,
        "weighting": {"cap": draw.weight_cap, "enabled": draw.weighting},
    }
    prefix, suffix = algorithm.list_document_parts(header)
    digest = hashlib.sha256(prefix.encode())
    for start in range(0, len(entries), 10000):
        text = ",".join([entry_text(entry) for entry in entries[start : start + 10000]])
        digest.update((("," if start else "") + text).encode())
    digest.update(suffix.encode())
    return entries, users, header, digest.hexdigest()


def _iso(moment) -> str:
    """ISO 8601 in Japan time, from an aware datetime or seconds since 1970."""
    if isinstance(moment, int):
        moment = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
    elif isinstance(moment, str):  # SQLite without converters
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return clock.localtime(moment).isoformat()


def list_document(draw: Draw) -> dict:
    """The canonical application list (algorithm rule 1) as committed, for publication."""
    entries, _users, header, _digest = _load_entries(draw, draw.municipality.slug)
    keys = ("id", "applicant", "unit", "start", "end", "weight")
    return {"applications": [dict(zip(keys, entry, strict=False)) for entry in entries], **header}


def commit(*, municipality, month: dt.date, now: dt.datetime | None = None) -> Draw:
    """When the application window has closed: freeze and hash the canonical application list (the commit).
    Idempotent: a committed or drawn draw is returned unchanged."""
    now = now or clock.now()
    municipality = municipality if isinstance(municipality, Municipality) else Municipality.objects.get(pk=municipality)
    ensure_draw(municipality=municipality, month=month, now=now)
    with _no_cyclic_gc(), transaction.atomic():
        draw = Draw.objects.select_for_update().get(municipality=municipality, month=month)
        if draw.status != Draw.Status.OPEN:
            return draw
        _commit_locked(draw, municipality, now)
    return draw


def _commit_locked(draw: Draw, municipality: Municipality, now: dt.datetime) -> None:
    profile_rules = rules.ProfileRules.of(municipality.pk)
    policy = policy_of(municipality)
    line = timeline(profile_rules, policy, draw.month)
    if line is None or now < line.applications_close:
        _refuse("window_open", _("Applications for this month are still open; the list is committed when they close."))
    draw.weighting = policy.loss_weighting
    draw.weight_cap = policy.loss_weight_cap if policy.loss_weighting else 0
    if draw.weighting:
        user_ids = set(_live_draw_applications(draw).values_list("user_id", flat=True))
        weights = _loss_weights(draw, user_ids, draw.weight_cap)
        for weight in set(weights.values()):
            heavier = [u for u, w in weights.items() if w == weight]
            for start in range(
                0, len(heavier), 5000
            ):  # bounded statements (PostgreSQL takes at most 65,535 parameters)
                _live_draw_applications(draw).filter(user_id__in=heavier[start : start + 5000]).update(weight=weight)
    _entries, _users, _header, digest = _load_entries(draw, municipality.slug)
    draw.list_sha256 = digest
    draw.application_count = len(_entries)
    draw.status = Draw.Status.COMMITTED
    draw.committed_at = now
    draw.results_from = line.results_from
    draw.purge_at = line.purge_at
    draw.save()


def _live_draw_applications(draw: Draw):
    return Application.objects.filter(municipality_id=draw.municipality_id, month=draw.month, withdrawn_at__isnull=True)


@dataclass
class DrawReport:
    draw: Draw | None
    already_drawn: bool = False
    dry_run: bool = False
    throwaway_seed: bool = False
    slots: list = field(default_factory=list)  # (slot_order, slot key, [(entry, position, outcome)])
    winners: int = 0
    applications: int = 0
    user_of: dict = field(default_factory=dict)  # application id -> user id


def _unavailable_slots(municipality_id: int, month: dt.date) -> set[str]:
    """Slots already held by a booking at the draw (X-3) and slots of units not taking bookings: no winner."""
    start, end = rules.month_bounds(month)
    held = SlotHold.objects.filter(unit__municipality_id=municipality_id, starts_at__gte=start, starts_at__lt=end)
    keys = {
        algorithm.slot_key(unit_id, _iso(starts_at)) for unit_id, starts_at in held.values_list("unit_id", "starts_at")
    }
    inactive = set(Unit.objects.filter(municipality_id=municipality_id, is_active=False).values_list("pk", flat=True))
    if inactive:
        rows = Application.objects.filter(
            municipality_id=municipality_id, month=month, withdrawn_at__isnull=True, unit_id__in=inactive
        ).values_list("unit_id", "starts_at")
        keys |= {algorithm.slot_key(unit_id, _iso(starts_at)) for unit_id, starts_at in rows}
    return keys


def draw(*, municipality, month: dt.date, now: dt.datetime | None = None, dry_run: bool = False) -> DrawReport:
    """Run the month's draw (K-LOT-3, S-LOT-4). Commits the list first if the window has closed and it is not
    committed yet. Idempotent and atomic: a drawn draw is returned unchanged; a crash rolls everything back.

    ``dry_run``: compute and return the results without writing anything (before the commit, with a throwaway
    seed, which the report says)."""
    now = now or clock.now()
    municipality = municipality if isinstance(municipality, Municipality) else Municipality.objects.get(pk=municipality)
    if dry_run:
        return _dry_run(municipality, month, now)
    commit(
        municipality=municipality, month=month, now=now
    )  # its own transaction: the commit stands even if the draw fails
    with _no_cyclic_gc(), transaction.atomic():
        record = Draw.objects.select_for_update().get(municipality=municipality, month=month)
        if record.status == Draw.Status.DRAWN:
            return DrawReport(
                draw=record, already_drawn=True, winners=record.winners, applications=record.application_count
            )
        entries, users, _header, digest = _load_entries(record, municipality.slug)
        if digest != record.list_sha256:
            _refuse("list_changed", _("The applications differ from the committed list; the draw was not run."))
        report = _compute(record, entries, users, _unavailable_slots(municipality.pk, month))
        _save_results(record, report, municipality, now)
    report.draw = record
    return report


@contextlib.contextmanager
def _no_cyclic_gc():
    """A draw builds millions of small tuples that hold no cycles; Python's cyclic collector would walk them all
    again and again as they pile up (the draw then grows faster than linearly). Reference counting still frees
    everything; the collector runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _dry_run(municipality, month, now) -> DrawReport:
    """The results the draw would give, written nowhere. Before the commit the real seed must stay unused (a
    preview with it would let an administrator try lists), so a throwaway seed is used and the report says so."""
    record = Draw.objects.filter(municipality=municipality, month=month).first()
    throwaway = record is None or record.status == Draw.Status.OPEN
    if throwaway:
        record = Draw(
            municipality=municipality,
            month=month,
            seed=secrets.token_hex(32),
            created_at=now,
            applicant_salt=record.applicant_salt if record else secrets.token_hex(32),
        )
    entries, users, _header, _digest = _load_entries(record, municipality.slug)
    report = _compute(record, entries, users, _unavailable_slots(municipality.pk, month))
    report.dry_run, report.throwaway_seed, report.draw = True, throwaway, record
    return report


def _compute(record: Draw, entries, users, unavailable) -> DrawReport:
    report = DrawReport(draw=record, applications=len(entries))
    report.user_of = {entry[0]: user_id for entry, user_id in zip(entries, users, strict=False)}
    for slot_order, key, outcomes in algorithm.run(record.seed, entries, unavailable):
        report.slots.append((slot_order, key, outcomes))
        report.winners += sum(1 for _entry, _position, outcome in outcomes if outcome == "won")
    return report


def _save_results(record: Draw, report: DrawReport, municipality: Municipality, now: dt.datetime) -> None:
    """Bookings for the wins (with their slot holds, X-3), one result row per application, the applications'
    states, and the draw marked drawn: all in the caller's transaction."""
    policy = policy_of(municipality)
    profile = rules.ProfileRules.of(municipality.pk).profile
    units = {u.pk: u for u in Unit.objects.filter(municipality=municipality).select_related("facility")}
    won = [
        (entry, slot_order)
        for slot_order, _key, outcomes in report.slots
        for entry, _pos, outcome in outcomes
        if outcome == "won"
    ]
    needs_confirmation = policy.confirmation_required
    if needs_confirmation:
        state, pay_rule = BookingState.WON, None  # not a booking until the winner confirms it (S-LOT-5)
    else:
        state, pay_rule = policy.win_state, (daterules.parse(policy.pay_by) if policy.pay_by else None)
    booked_on = clock.localtime(now).date()
    # A win that is a booking at once (K-LOT-4) stores its fee as any booking does (fees.rules, the draw day's
    # table); a win awaiting confirmation gets it when confirmed (S-LOT-5).
    winners = {} if needs_confirmation else _fee_payers({report.user_of[entry[0]] for entry, _order in won})
    starts = {}
    reservations = []
    for entry, _slot_order in won:
        unit = units[entry[2]]
        starts_at = starts.get(entry[3]) or starts.setdefault(entry[3], dt.datetime.fromisoformat(entry[3]))
        ends_at = starts.get(entry[4]) or starts.setdefault(entry[4], dt.datetime.fromisoformat(entry[4]))
        reservation = _win_reservation(
            policy=policy,
            profile=profile,
            unit=unit,
            user_id=report.user_of[entry[0]],
            starts_at=starts_at,
            ends_at=ends_at,
            state=state,
            pay_rule=pay_rule,
            now=now,
            booked_on=booked_on,
        )
        # Held from now on, known to residents only from the results moment (K-LOT-3, S-LOT-5).
        reservation.published_from = record.results_from
        if reservation.user_id in winners:
            _set_fee(reservation, winners[reservation.user_id], unit, booked_on)
        reservations.append(reservation)
    # The booking keeps the application's channel and clerk: few applications are not plain online ones.
    special = {
        pk: (channel, clerk)
        for pk, channel, clerk in _live_draw_applications(record)
        .filter(Q(entered_by__isnull=False) | ~Q(channel=Channel.ONLINE))
        .values_list("pk", "channel", "entered_by_id")
    }
    for reservation, (entry, _order) in zip(reservations, won, strict=False):
        reservation.channel, reservation.booked_by_id = special.get(entry[0], (Channel.ONLINE, None))
    _insert_bookings(reservations)
    reservation_of = {entry[0]: r.pk for (entry, _order), r in zip(won, reservations, strict=False)}
    _insert_results(
        record.pk,
        (
            (record.pk, entry[0], slot_order, position, outcome, reservation_of.get(entry[0]))
            for slot_order, _key, outcomes in report.slots
            for entry, position, outcome in outcomes
        ),
    )
    # The applications' states, set-based: the winners through a join with their results (their booking too), then
    # every other application of the month in one sequential pass. On PostgreSQL the losers' rows are HOT updates
    # (no indexed column changes; the table keeps free space, migration 0001); a join over all million results
    # would cost three times as much in random index reads.
    table, results = Application._meta.db_table, DrawResult._meta.db_table
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {results}")  # a million new rows: let the planner know before joining them
        cursor.execute(
            f"UPDATE {table} SET state = %s, decided_at = %s, reservation_id = r.reservation_id FROM {results} r"
            f" WHERE r.application_id = {table}.id AND r.draw_id = %s AND r.outcome = %s",
            [Application.State.WON, adapt(now), record.pk, DrawResult.Outcome.WON],
        )
        cursor.execute(
            f"UPDATE {table} SET state = %s, decided_at = %s"
            " WHERE municipality_id = %s AND month = %s AND state = %s AND withdrawn_at IS NULL",
            [
                Application.State.LOST,
                adapt(now),
                record.municipality_id,
                connection.ops.adapt_datefield_value(record.month),
                Application.State.APPLIED,
            ],
        )
    record.status = Draw.Status.DRAWN
    record.drawn_at = now
    record.winners = len(won)
    record.save(update_fields=["status", "drawn_at", "winners"])


def _fee_payers(user_ids) -> dict:
    """The winners' accounts with what their fee depends on (category, residency), in one query."""
    from accounts.models import User

    return User.objects.only("id", "municipality_id", "fee_category", "residency").in_bulk(user_ids)


def _set_fee(reservation: Reservation, user, unit: Unit, booked_on: dt.date) -> None:
    fee = quote_or_none(
        user=user,
        unit=unit,
        slots=[Slot(starts_at=reservation.starts_at, ends_at=reservation.ends_at)],
        booked_on=booked_on,
    )
    reservation.fee, reservation.fee_total = (fee.as_dict(), fee.total) if fee else (None, None)


def _win_reservation(
    *, policy, profile, unit, user_id, starts_at, ends_at, state, pay_rule, now, booked_on
) -> Reservation:
    pay_by = None
    if pay_rule is not None:
        deadline = daterules.closes_at(
            pay_rule,
            use_date=clock.localtime(starts_at).date(),
            slot_start=starts_at,
            facility=unit.facility,
            booked_on=booked_on,
        )
        pay_by = min(deadline, starts_at) if deadline else None
    return Reservation(
        municipality_id=unit.municipality_id,
        unit_id=unit.pk,
        user_id=user_id,
        starts_at=starts_at,
        ends_at=ends_at,
        slot_count=1,
        state=state,
        origin=Phase.LOTTERY,
        channel=Channel.ONLINE,
        created_at=now,
        confirm_at=clock.at(booked_on + dt.timedelta(days=1), dt.time(0))
        if state == BookingState.PROVISIONAL and profile.confirm_after_booking_day and pay_rule is not None
        else None,
        confirmed_at=now if state == BookingState.CONFIRMED else None,
        pay_by=pay_by,
        pay_by_rule_id=policy.pay_by_rule_id if pay_by else "",
    )


def _insert_bookings(reservations: list) -> None:
    """Insert the wins' bookings and their slot holds (X-3: the unique (unit, start) constraint still decides).

    PostgreSQL: ids are taken from the sequence in one query, then both tables are loaded with COPY, every column
    from the model's metadata (fields this code does not set get their model default), so a field added to
    Reservation later is filled in like bulk_create would. Elsewhere: bulk_create."""
    if not reservations:
        return
    if connection.vendor != "postgresql":
        Reservation.objects.bulk_create(reservations, batch_size=2000)
        SlotHold.objects.bulk_create(
            [SlotHold(reservation_id=r.pk, unit_id=r.unit_id, starts_at=r.starts_at) for r in reservations],
            batch_size=5000,
        )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Reservation._meta.db_table, len(reservations)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for reservation, pk in zip(reservations, ids, strict=False):
        reservation.pk = pk
        reservation._state.adding = False
    _copy_objects(Reservation, reservations)
    holds = [SlotHold(reservation_id=r.pk, unit_id=r.unit_id, starts_at=r.starts_at) for r in reservations]
    _copy_objects(SlotHold, holds, with_pk=False)


def _copy_objects(model, objs, with_pk: bool = True) -> None:
    """COPY instances' concrete fields (the attribute values as set, or the field's default) into the table."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    attnames = [f.attname for f in fields]
    as_json = {f.attname for f in fields if f.get_internal_type() == "JSONField"}  # a booking's fee breakdown
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            row = [obj.__dict__.get(name) for name in attnames]
            if as_json:
                row = [
                    json.dumps(v, ensure_ascii=False) if n in as_json and v is not None else v
                    for n, v in zip(attnames, row, strict=False)
                ]
            copy.write_row(row)


def _insert_results(draw_id: int, rows) -> None:
    """One row per application: COPY on PostgreSQL, multi-row INSERTs elsewhere."""
    table = DrawResult._meta.db_table
    columns = "draw_id, application_id, slot_order, position, outcome, reservation_id"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            buffer = []
            for row in rows:
                reservation = "\\N" if row[5] is None else row[5]
                buffer.append(f"{row[0]:d}\t{row[1]:d}\t{row[2]:d}\t{row[3]:d}\t{row[4]}\t{reservation}\n")
                if len(buffer) >= 20000:
                    copy.write("".join(buffer))
                    buffer = []
            if buffer:
                copy.write("".join(buffer))
        return
    batch = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(row)
            if len(batch) >= 150:
                _insert_batch(cursor, table, columns, batch)
                batch = []
        if batch:
            _insert_batch(cursor, table, columns, batch)


def _insert_batch(cursor, table, columns, batch):
    cursor.execute(
        f"INSERT INTO {table} ({columns}) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch)),
        [value for row in batch for value in row],
    )


# Publication ------------------------------------------------------------------------------------------------


def export_document(record: Draw, now: dt.datetime | None = None) -> dict:
    """What is published about a draw, for ``scripts/verify_draw.py``: the commit (always), the canonical
    application list (once committed), the seed and the per-slot results (from the results day)."""
    now = now or clock.now()
    document = {
        "format": algorithm.FORMAT,
        "municipality": record.municipality.slug,
        "month": f"{record.month:%Y-%m}",
        "status": record.status,
        "commit": {
            "seed_sha256": record.seed_sha256,
            "list_sha256": record.list_sha256 or None,
            "committed_at": record.committed_at.isoformat() if record.committed_at else None,
        },
        "seed": None,
        "list": None,
        "results": None,
    }
    if record.status == Draw.Status.OPEN:
        return document
    document["list"] = list_document(record)
    if not record.seed_revealed(now):
        return document
    document["seed"] = record.seed
    slots = defaultdict(list)
    order = {}
    rows = (
        DrawResult.objects.filter(draw=record)
        .order_by("slot_order", "position")
        .values_list(
            "slot_order", "position", "outcome", "application_id", "application__unit_id", "application__starts_at"
        )
    )
    for slot_order, _position, outcome, application_id, unit_id, starts_at in rows.iterator(chunk_size=10000):
        key = algorithm.slot_key(unit_id, _iso(starts_at))
        order[key] = slot_order
        slots[key].append({"id": application_id, "outcome": outcome})
    document["results"] = {
        "unavailable": sorted(
            k for k, ranking in slots.items() if ranking and ranking[0]["outcome"] == DrawResult.Outcome.UNAVAILABLE
        ),
        "slots": [{"slot": key, "order": order[key], "ranking": slots[key]} for key in sorted(slots, key=order.get)],
    }
    return document
