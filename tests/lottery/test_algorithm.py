"""The draw algorithm (lottery/algorithm.py, specification "yoyaku-lottery-1") and its stand-alone copy in
scripts/verify_draw.py: a fixed seed gives a known result, the overlap rule, uniformity, and both copies agree."""

import importlib.util
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from lottery import algorithm

S, E = "2027-06-15T09:00:00+09:00", "2027-06-15T11:00:00+09:00"
S2, E2 = "2027-06-15T11:00:00+09:00", "2027-06-15T13:00:00+09:00"
# (id, applicant, unit, start, end, weight): two courts at 09:00 (ann applied for both), one at 11:00.
APPLICATIONS = [
    (1, "ann", 10, S, E, 1),
    (2, "bob", 10, S, E, 1),
    (3, "cat", 10, S, E, 1),
    (4, "dan", 10, S, E, 1),
    (5, "ann", 11, S, E, 1),
    (6, "eve", 11, S, E, 1),
    (7, "bob", 11, S2, E2, 1),
]


def load_verify_script():
    path = Path(__file__).resolve().parents[2] / "scripts" / "verify_draw.py"
    spec = importlib.util.spec_from_file_location("verify_draw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def summary(results):
    return [
        (order, key, [(entry[0], position, outcome) for entry, position, outcome in outcomes])
        for order, key, outcomes in results
    ]


def test_draw__fixed_seed__known_result_with_the_overlap_rule():
    results = summary(algorithm.run("fixed-seed-3", APPLICATIONS))
    assert results == [
        (1, "11@" + S, [(5, 1, "won"), (6, 2, "lost")]),  # ann wins court 11 at 09:00 first …
        (2, "11@" + S2, [(7, 1, "won")]),
        # … so on court 10 at the same hour she is passed over and the win goes to the next applicant, dan.
        (3, "10@" + S, [(1, 1, "overlap"), (4, 2, "won"), (2, 3, "lost"), (3, 4, "lost")]),
    ]


def test_draw__another_seed__another_order():
    assert summary(algorithm.run("fixed-seed-0", APPLICATIONS)) != summary(algorithm.run("fixed-seed-3", APPLICATIONS))


def test_draw__same_seed__same_result_whatever_the_input_order():
    shuffled = list(APPLICATIONS)
    random.Random(1).shuffle(shuffled)
    assert summary(algorithm.run("fixed-seed-3", shuffled)) == summary(algorithm.run("fixed-seed-3", APPLICATIONS))


def test_draw__statistics__four_applicants_each_win_about_a_quarter():
    entries = [(n, f"user-{n}", 1, S, E, 1) for n in range(1, 5)]
    draws = 8000
    wins = Counter()
    for n in range(draws):
        ((_order, _key, outcomes),) = algorithm.run(f"stat-seed-{n}", entries)
        wins[next(entry[1] for entry, _p, outcome in outcomes if outcome == "won")] += 1
    # Binomial(8000, 1/4): sd ≈ 38.7; ±5 sd = ±194 never fails by chance in practice.
    for user in (f"user-{n}" for n in range(1, 5)):
        assert abs(wins[user] - draws / 4) < 194, wins
    # And every applicant reaches every rank about equally (uniform permutation, not just a uniform winner).
    last = Counter()
    for n in range(draws):
        ((_order, _key, outcomes),) = algorithm.run(f"stat-seed-{n}", entries)
        last[outcomes[-1][0][1]] += 1
    assert all(abs(count - draws / 4) < 194 for count in last.values()), last


def test_draw__weighting__favours_the_heavier_applicant_in_proportion():
    entries = [(1, "light", 1, S, E, 1), (2, "heavy", 1, S, E, 3)]
    draws = 8000
    heavy = sum(
        1
        for n in range(draws)
        if next(e[1] for e, _p, o in next(iter(algorithm.run(f"w-{n}", entries)))[2] if o == "won") == "heavy"
    )
    assert abs(heavy - draws * 3 / 4) < 200  # sd ≈ 38.7


def test_below__no_modulo_bias_and_in_range():
    stream = algorithm.Stream("x", "y")
    values = [stream.below(3) for _ in range(3000)]
    assert set(values) == {0, 1, 2}
    assert all(abs(count - 1000) < 200 for count in Counter(values).values())


def test_unavailable_slot__no_winner_and_no_win_recorded_for_the_overlap_rule():
    results = summary(algorithm.run("fixed-seed-3", APPLICATIONS, unavailable={"11@" + S}))
    assert results[0] == (1, "11@" + S, [(5, 1, "unavailable"), (6, 2, "unavailable")])
    assert results[2][2][0] == (1, 1, "won")  # ann did not win court 11, so she can win court 10


@pytest.mark.parametrize("weighted", [False, True])
def test_verify_script__same_results_as_the_server_algorithm(weighted):
    verify = load_verify_script()
    rng = random.Random(42)
    starts = [f"2027-06-{d:02d}T{h:02d}:00:00+09:00" for d in (1, 2) for h in (7, 9, 11)]
    entries = []
    for app_id in range(1, 400):
        start = rng.choice(starts)
        end = start[:11] + f"{int(start[11:13]) + 2:02d}" + start[13:]
        entries.append(
            (app_id, f"u{rng.randrange(60)}", rng.randrange(1, 6), start, end, rng.randint(1, 4) if weighted else 1)
        )
    mine = summary(algorithm.run("seed-x", entries))
    theirs = summary(verify.run("seed-x", entries))
    assert mine == theirs
    assert verify.FORMAT == algorithm.FORMAT


def test_canonical_list__incremental_hash_equals_json_dumps():
    from lottery.services import entry_text

    header = {
        "format": algorithm.FORMAT,
        "month": "2027-06",
        "municipality": "shiroi",
        "weighting": {"cap": 3, "enabled": True},
    }
    entries = [(7, "ab12cd34ef56ab78", 12, S, E, 2), (9, "0011223344556677", 3, S2, E2, 1)]
    prefix, suffix = algorithm.list_document_parts(header)
    incremental = prefix + ",".join(entry_text(entry) for entry in entries) + suffix
    keys = ("id", "applicant", "unit", "start", "end", "weight")
    document = {"applications": [dict(zip(keys, entry, strict=False)) for entry in entries], **header}
    assert incremental == algorithm.canonical_json(document)
    assert json.loads(incremental) == document
