#!/usr/bin/env python3
"""Verify a Yoyaku lottery draw from its published record. Standard library only: copy this one file anywhere.

Usage:
    python3 verify_draw.py draw.json            # a file written by
                                                # `manage.py export_lottery <muni> <YYYY-MM> -o draw.json`
    python3 verify_draw.py https://…/draw.json  # or fetched from an address
    python3 verify_draw.py draw.json --all      # print every slot, not only the first 50

It checks, and says which check failed (exit status 1):
  1. the revealed seed hashes (SHA-256 of its UTF-8 text) to the seed commit published before the draw;
  2. the application list, serialized canonically (sorted keys, no spaces, ASCII), hashes to the list commit
     published when the application window closed;
  3. re-running the draw (specification "yoyaku-lottery-1", below; loss weights are part of the list) gives, for
     every slot, the same ranking and outcomes as the published results;
and prints each slot's winner (the applicant's pseudonym and application id).

Specification "yoyaku-lottery-1" (also in lottery/algorithm.py, which this file copies):
  - u64(label, i) = first 8 bytes, big-endian, of SHA-256("<seed>|<label>|<i>"), i = 0, 1, …;
    below(n) = the first u64 value < 2^64 - (2^64 mod n), modulo n.
  - A slot is "<unit>@<start>". Slots are drawn in the order of SHA-256("<seed>|order|<slot>") in hex (then the slot).
  - In a slot (label "slot:<slot>"), applicants (ascending id) are ranked by repeatedly picking
    r = below(total weight of those left) and taking the first whose cumulative weight exceeds r.
  - In slot order, the winner is the first-ranked applicant who has not already won an overlapping slot
    (those passed over: "overlap"; the rest "lost"). Slots unavailable at the draw (already booked): no winner.
"""

import argparse
import datetime as dt
import hashlib
import json
import sys
import urllib.request
from collections import defaultdict

FORMAT = "yoyaku-lottery-1"
_TWO_64 = 1 << 64


def canonical_json(doc) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def slot_key(unit, start: str) -> str:
    return f"{unit}@{start}"


class Stream:
    def __init__(self, seed: str, label: str):
        self.prefix = f"{seed}|{label}|"
        self.counter = 0

    def u64(self) -> int:
        digest = hashlib.sha256(f"{self.prefix}{self.counter}".encode()).digest()
        self.counter += 1
        return int.from_bytes(digest[:8], "big")

    def below(self, n: int) -> int:
        limit = _TWO_64 - (_TWO_64 % n)
        while True:
            value = self.u64()
            if value < limit:
                return value % n


def rank(seed: str, key: str, entries: list) -> list:
    """entries: (id, applicant, unit, start, end, weight), ascending id."""
    stream = Stream(seed, f"slot:{key}")
    remaining = list(entries)
    ordered = []
    while remaining:
        r = stream.below(sum(entry[5] for entry in remaining))
        for index, entry in enumerate(remaining):
            r -= entry[5]
            if r < 0:
                ordered.append(remaining.pop(index))
                break
    return ordered


def run(seed: str, applications, unavailable=frozenset()):
    by_slot = defaultdict(list)
    for entry in applications:
        by_slot[slot_key(entry[2], entry[3])].append(entry)
    order = sorted(by_slot, key=lambda key: (sha256_hex(f"{seed}|order|{key}"), key))
    won = defaultdict(list)
    for slot_order, key in enumerate(order, start=1):
        entries = sorted(by_slot[key], key=lambda entry: entry[0])
        start, end = dt.datetime.fromisoformat(entries[0][3]), dt.datetime.fromisoformat(entries[0][4])
        outcomes = []
        winner = key in unavailable
        for position, entry in enumerate(rank(seed, key, entries), start=1):
            if key in unavailable:
                outcomes.append((entry, position, "unavailable"))
            elif winner:
                outcomes.append((entry, position, "lost"))
            elif any(start < e and s < end for s, e in won[entry[1]]):
                outcomes.append((entry, position, "overlap"))
            else:
                winner = True
                won[entry[1]].append((start, end))
                outcomes.append((entry, position, "won"))
        yield slot_order, key, outcomes


def load(source: str) -> dict:
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=60) as response:
            return json.load(response)
    with open(source, encoding="utf-8") as handle:
        return json.load(handle)


def verify(record: dict, out=sys.stdout, show: int | None = 50) -> bool:
    ok = True

    def say(text):
        print(text, file=out)

    say(f"Draw {record.get('municipality')} {record.get('month')} (format {record.get('format')})")
    commit, seed, listing = record.get("commit") or {}, record.get("seed"), record.get("list")
    if not seed:
        say("The seed is not revealed yet (it is published from the results day): nothing to verify.")
        return False
    if sha256_hex(seed) == commit.get("seed_sha256"):
        say(f"OK   seed matches its commit {commit['seed_sha256']}")
    else:
        say(f"FAIL seed hashes to {sha256_hex(seed)}, the commit was {commit.get('seed_sha256')}")
        ok = False
    if listing is None or listing.get("format") != FORMAT:
        say(f"FAIL no application list in format {FORMAT}")
        return False
    list_hash = sha256_hex(canonical_json(listing))
    if list_hash == commit.get("list_sha256"):
        say(f"OK   application list ({len(listing['applications'])} applications) matches its commit {list_hash}")
    else:
        say(f"FAIL application list hashes to {list_hash}, the commit was {commit.get('list_sha256')}")
        ok = False
    weighting = listing.get("weighting") or {}
    if weighting.get("enabled"):
        say(f"     loss weighting on (cap {weighting.get('cap')}): weights are in the list")
    entries = [(a["id"], a["applicant"], a["unit"], a["start"], a["end"], a["weight"]) for a in listing["applications"]]
    published = {slot["slot"]: slot for slot in ((record.get("results") or {}).get("slots") or [])}
    unavailable = set((record.get("results") or {}).get("unavailable") or [])
    mismatches = 0
    shown = 0
    for slot_order, key, outcomes in run(seed, entries, unavailable):
        mine = [{"id": entry[0], "outcome": outcome} for entry, _position, outcome in outcomes]
        theirs = published.get(key)
        if theirs is not None and (theirs["ranking"] != mine or theirs["order"] != slot_order):
            mismatches += 1
            say(
                f"FAIL slot {key}: published {theirs['ranking']} (order {theirs['order']}), recomputed {mine} (order "
                f"{slot_order})"
            )
        if show is None or shown < show:
            winner = next((entry for entry, _p, outcome in outcomes if outcome == "won"), None)
            text = f"application {winner[0]} (applicant {winner[1]})" if winner else "no winner"
            say(f"     {slot_order:>6}  {key}  winner: {text}")
            shown += 1
    if published:
        if mismatches or len(published) != len({slot_key(e[2], e[3]) for e in entries}):
            say(f"FAIL {mismatches} slot(s) differ from the published results")
            ok = False
        else:
            say(f"OK   all {len(published)} slots give the published results")
    say("VERIFIED" if ok else "NOT VERIFIED")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Yoyaku lottery draw (commit, list, seed, results).")
    parser.add_argument("source", help="the exported draw record: a file, or an http(s) address")
    parser.add_argument("--all", action="store_true", help="print every slot's winner")
    args = parser.parse_args(argv)
    return 0 if verify(load(args.source), show=None if args.all else 50) else 1


if __name__ == "__main__":
    sys.exit(main())
