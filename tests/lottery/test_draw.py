"""The draw as a service (K-LOT-3, K-LOT-4, S-LOT-4, S-LOT-5, X-3): wins become bookings holding their slots,
results per slot, the overlap rule, idempotence and atomicity, and lottery wins counting toward K-FC-3/S-FC-4."""

import datetime as dt

import pytest
import time_machine

from config import clock
from facilities.models import BookingState, Municipality
from lottery import algorithm, services
from lottery.models import Application, Draw, DrawResult
from reservations.models import Reservation, SlotHold
from tests.reservations.booking_helpers import attempt, jst, make_lottery_win, make_user, unit

from .helpers import (
    KODAIRA_DAY,
    KODAIRA_DRAW,
    KODAIRA_MONTH,
    SHIROI_DAY,
    SHIROI_DRAW,
    SHIROI_IN_WINDOW,
    SHIROI_MONTH,
    SHIROI_RESULTS,
    apply,
    draw_of,
    fix_seed,
    run_draw,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def snapshot(month):
    apps = Application.objects.filter(month=month)
    return (
        sorted(apps.values_list("pk", "state", "reservation_id", "decided_at")),
        sorted(
            DrawResult.objects.filter(application__month=month).values_list(
                "application_id", "slot_order", "position", "outcome", "reservation_id"
            )
        ),
        sorted(
            Reservation.objects.filter(origin="lottery").values_list("pk", "unit_id", "starts_at", "user_id", "state")
        ),
        sorted(SlotHold.objects.values_list("reservation_id", "unit_id", "starts_at")),
    )


def test_draw__shiroi__every_slot_gets_one_winner_awaiting_confirmation(shiroi_applications):
    report = run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    assert (report.applications, len(report.slots), report.winners) == (7, 3, 3)
    record = draw_of("shiroi", SHIROI_MONTH)
    assert record.status == Draw.Status.DRAWN and record.winners == 3
    won = Application.objects.filter(month=SHIROI_MONTH, state="won")
    assert won.count() == 3
    assert Application.objects.filter(month=SHIROI_MONTH, state="lost").count() == 4
    for application in won:
        reservation = application.reservation
        # S-LOT-5: a Shiroi win waits for confirmation; it holds its slot and has no payment deadline yet.
        # S-LOT-5: not a provisional booking until confirmed: state "won", no fee, no payment deadline; published
        # from the results moment.
        assert (reservation.origin, reservation.state, reservation.pay_by, reservation.fee_total) == (
            "lottery",
            BookingState.WON,
            None,
            None,
        )
        assert reservation.published_from == record.results_from == SHIROI_RESULTS
        assert (reservation.unit_id, reservation.starts_at, reservation.user_id) == (
            application.unit_id,
            application.starts_at,
            application.user_id,
        )
        assert SlotHold.objects.get(reservation=reservation).starts_at == application.starts_at
    # Every application has its place: staff can show "why did I lose?".
    assert DrawResult.objects.filter(draw=record).count() == 7


def test_draw__results_are_the_published_algorithm_on_the_committed_list(shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    record = draw_of("shiroi", SHIROI_MONTH)
    document = services.list_document(record)
    assert algorithm.sha256_hex(algorithm.canonical_json(document)) == record.list_sha256
    assert algorithm.sha256_hex(record.seed) == record.seed_sha256
    entries = [
        (a["id"], a["applicant"], a["unit"], a["start"], a["end"], a["weight"]) for a in document["applications"]
    ]
    expected = {
        entry[0]: (order, position, outcome)
        for order, _key, outcomes in algorithm.run(record.seed, entries)
        for entry, position, outcome in outcomes
    }
    saved = {r.application_id: (r.slot_order, r.position, r.outcome) for r in DrawResult.objects.filter(draw=record)}
    assert saved == expected


def test_draw__fixed_seed__a_user_never_wins_two_overlapping_slots(shiroi_players, shiroi_applications):
    """ann applied for 09:00 at two sites. Whatever the seed, she wins at most one; when she came first at both, the
    later-drawn slot passes to its next applicant."""
    fix_seed("shiroi", SHIROI_MONTH, "fixed-seed-overlap", SHIROI_IN_WINDOW)
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    ann = shiroi_players["ann"]
    wins = list(Reservation.objects.filter(user=ann, origin="lottery"))
    assert len(wins) <= 1
    for result in DrawResult.objects.filter(outcome="overlap"):
        slot_rows = list(DrawResult.objects.filter(draw=result.draw, slot_order=result.slot_order).order_by("position"))
        winner = next(row for row in slot_rows if row.outcome == "won")
        assert winner.position == result.position + 1  # the next applicant got it


def test_draw__overlap_rule_over_many_seeds(shiroi_players, shiroi_applications):
    """On the committed list, for many seeds: every slot has one winner, ann never wins both 09:00 courts, and
    some seed exercises the overlap rule."""
    with time_machine.travel(SHIROI_DRAW, tick=False):
        record = services.commit(municipality=Municipality.objects.get(slug="shiroi"), month=SHIROI_MONTH)
    document = services.list_document(record)
    entries = [
        (a["id"], a["applicant"], a["unit"], a["start"], a["end"], a["weight"]) for a in document["applications"]
    ]
    ann = next(
        a["applicant"] for a in document["applications"] if a["id"] == shiroi_applications[("ann", "toyoichi-09")].pk
    )
    seen_overlap = False
    for n in range(40):
        results = list(algorithm.run(f"seed-{n}", entries))
        winners = [entry[1] for _o, _k, outcomes in results for entry, _p, outcome in outcomes if outcome == "won"]
        assert len(winners) == 3
        assert winners.count(ann) <= 1
        seen_overlap |= any(outcome == "overlap" for _o, _k, outcomes in results for _e, _p, outcome in outcomes)
    assert seen_overlap


def test_draw__rerun_changes_nothing(shiroi_applications):
    first = run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    before = snapshot(SHIROI_MONTH)
    again = run_draw(SHIROI_DRAW + dt.timedelta(days=1), "shiroi", SHIROI_MONTH)
    assert again.already_drawn and not first.already_drawn
    assert snapshot(SHIROI_MONTH) == before


def test_draw__crash_in_the_middle_leaves_nothing_and_the_rerun_gives_the_same_results(
    shiroi_applications, monkeypatch
):
    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(services.draws, "_insert_results", crash)
    with pytest.raises(RuntimeError):
        run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    record = draw_of("shiroi", SHIROI_MONTH)
    assert record.status == Draw.Status.COMMITTED  # the commit stood (it was its own transaction); the draw did not
    assert not Reservation.objects.filter(origin="lottery").exists() and not DrawResult.objects.exists()
    assert set(Application.objects.filter(month=SHIROI_MONTH).values_list("state", flat=True)) == {"applied"}
    monkeypatch.undo()
    report = run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    assert report.winners == 3 and DrawResult.objects.count() == 7


def test_draw__dry_run_saves_nothing(shiroi_applications):
    report = run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH, dry_run=True)
    assert report.dry_run and report.throwaway_seed and report.winners == 3
    assert not Reservation.objects.filter(origin="lottery").exists() and not DrawResult.objects.exists()
    assert not Draw.objects.filter(month=SHIROI_MONTH).exclude(status="open").exists()


def test_draw__refused_while_applications_are_open(shiroi_applications):
    with pytest.raises(services.LotteryError) as refused:
        run_draw(jst(2027, 4, 15, 23, 59), "shiroi", SHIROI_MONTH)
    assert refused.value.refusals[0].code == "window_open"


def test_draw__a_changed_list_after_the_commit_is_refused(shiroi_applications):
    with time_machine.travel(SHIROI_DRAW, tick=False):
        services.commit(municipality=Municipality.objects.get(slug="shiroi"), month=SHIROI_MONTH)
    Application.objects.filter(month=SHIROI_MONTH).order_by("pk").first().delete()  # tampering
    with pytest.raises(services.LotteryError) as refused:
        run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    assert refused.value.refusals[0].code == "list_changed"


def test_draw__slot_already_held_has_no_winner(shiroi_applications):
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    holder = make_user("shiroi", "holder")
    make_lottery_win(user=holder, unit=court, day=SHIROI_DAY, start="11:00", end="13:00")  # held before the draw
    report = run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    assert report.winners == 2
    bob_11 = shiroi_applications[("bob", "minamiyama-11")]
    assert bob_11.result.outcome == "unavailable"
    assert Application.objects.get(pk=bob_11.pk).state == "lost"


def test_draw__kodaira__wins_are_confirmed_bookings(kodaira_applications):
    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)
    for application in kodaira_applications:
        application.refresh_from_db()
        assert application.state == "won"
        reservation = application.reservation
        assert (reservation.origin, reservation.state, reservation.confirmed_at) == (
            "lottery",
            BookingState.CONFIRMED,
            KODAIRA_DRAW,
        )


def test_draw__kodaira__lottery_wins_count_toward_k_fc_3(kodaira_group, kodaira_applications):
    run_draw(KODAIRA_DRAW, "kodaira", KODAIRA_MONTH)
    # K-FC-3: 4 slots per center per month, lottery wins included: 2 wins leave 2 first-come bookings at 中島.
    opening = jst(2027, 7, 2, 9, 0)
    rooms = [unit("kodaira", "nakajima", code) for code in ("japanese-room", "meeting-room")]
    day = KODAIRA_DAY + dt.timedelta(days=1)
    assert isinstance(
        attempt(opening, user=kodaira_group, unit=rooms[0], day=day, start="09:00", end="12:00"), Reservation
    )
    assert isinstance(
        attempt(opening, user=kodaira_group, unit=rooms[1], day=day, start="09:00", end="12:00"), Reservation
    )
    assert attempt(opening, user=kodaira_group, unit=rooms[0], day=day, start="13:00", end="17:00") == ["K-FC-3"]
    # Another center still has its own 4.
    kihei = unit("kodaira", "kihei", "assembly-room")
    assert isinstance(
        attempt(opening, user=kodaira_group, unit=kihei, day=day, start="09:00", end="12:00"), Reservation
    )


def test_draw__shiroi__confirmed_wins_count_toward_s_fc_4(shiroi_players, shiroi_applications):
    """S-FC-4: 10 per site per month, lottery wins included."""
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    bob = shiroi_players["bob"]
    held = Reservation.objects.filter(user=bob, origin="lottery", unit__facility__code="minamiyama-tennis").count()
    assert held >= 1  # bob alone applied for 11:00
    courts = [unit("shiroi", "minamiyama-tennis", f"court-{n}") for n in (2, 3)]
    day = SHIROI_DAY + dt.timedelta(days=1)
    opening = jst(2027, 5, 3, 8, 30)
    times = [
        ("07:00", "09:00"),
        ("09:00", "11:00"),
        ("11:00", "13:00"),
        ("13:00", "15:00"),
        ("15:00", "17:00"),
        ("17:00", "19:00"),
    ]
    slots = [(c, a, b) for c in courts for a, b in times]
    outcomes = [attempt(opening, user=bob, unit=c, day=day, start=a, end=b) for c, a, b in slots[: 10 - held + 1]]
    assert all(isinstance(o, Reservation) for o in outcomes[:-1])
    assert outcomes[-1] == ["S-FC-4"]


def test_draw__applications_after_results_belong_to_their_month_only(shiroi_applications):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    july = clock.at(dt.date(2027, 7, 15), dt.time(9))
    assert not Application.objects.filter(starts_at__gte=july).exists()
    assert apply(
        jst(2027, 5, 10, 12),
        user=make_user("shiroi", "july-player"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=dt.date(2027, 7, 15),
        start="09:00",
        end="11:00",
    ).month == dt.date(2027, 7, 1)


def test_loss_weights__consecutive_losses_skipping_months_not_entered_capped(shiroi_players):
    """Weighting (off by default): 1 + consecutive most recent draws the user entered and lost, at most the cap."""
    shiroi = Municipality.objects.get(slug="shiroi")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    history = {  # month -> {user: outcome}; March: nobody of these entered
        dt.date(2027, 2, 1): {"ann": "lost", "bob": "won"},
        dt.date(2027, 4, 1): {"ann": "lost", "cat": "won"},
        dt.date(2027, 5, 1): {"ann": "lost", "bob": "lost", "cat": "lost", "dan": "won"},
    }
    for month, outcomes in history.items():
        record = Draw.objects.create(
            municipality=shiroi,
            month=month,
            status="drawn",
            seed="s",
            seed_sha256="h",
            applicant_salt="x",
            created_at=jst(2027, 1, 1),
        )
        for position, (name, outcome) in enumerate(outcomes.items(), start=1):
            starts = clock.at(month.replace(day=10), dt.time(7 + 2 * position))
            application = Application.objects.create(
                municipality=shiroi,
                month=month,
                user=shiroi_players[name],
                unit=court,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=2),
                channel="online",
                state=outcome,
                created_at=jst(2027, 1, 1),
            )
            DrawResult.objects.create(
                draw=record, application=application, slot_order=position, position=1, outcome=outcome
            )
    june = Draw.objects.create(
        municipality=shiroi,
        month=SHIROI_MONTH,
        seed="s",
        seed_sha256="h",
        applicant_salt="x",
        created_at=jst(2027, 4, 1),
    )
    ids = {name: player.pk for name, player in shiroi_players.items()}
    weights = services._loss_weights(june, ids.values(), cap=2)
    # ann lost May, April and February (March skipped): 3 losses, capped at 2 → 3. bob lost May after winning
    # February → 2. cat lost May after winning April → 2. dan won May → 1 (not listed). eve never entered → 1.
    assert weights == {ids["ann"]: 3, ids["bob"]: 2, ids["cat"]: 2}
    assert services._loss_weights(june, ids.values(), cap=5)[ids["ann"]] == 4
