"""The draw itself, in plain Python (standard library only), so that anyone can re-run it.

``scripts/verify_draw.py`` carries an exact copy of this algorithm for auditors (a test checks that both give the
same results). Specification "yoyaku-lottery-1":

1. **Canonical application list.** A JSON document
   ``{"applications": [...], "format": "yoyaku-lottery-1", "month": "YYYY-MM", "municipality": slug,
   "weighting": {"cap": n, "enabled": bool}}`` whose applications are objects
   ``{"applicant", "end", "id", "start", "unit", "weight"}`` sorted by (start, unit, id); ``start`` and ``end`` are
   ISO 8601 in Japan time, ``applicant`` an opaque pseudonym (the same for all of one user's applications),
   ``weight`` 1 unless loss weighting is on. Serialized with sorted keys, no spaces, ASCII only
   (``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``); its SHA-256 is the list
   commit. The seed commit is the SHA-256 of the seed's UTF-8 text (64 hex digits).
2. **Random numbers.** ``u64(label, i)`` = the first 8 bytes (big-endian) of SHA-256(``"<seed>|<label>|<i>"``),
   i = 0, 1, 2, … per label. ``below(n)`` takes successive u64 values and returns the first one below
   2^64 − (2^64 mod n), modulo n (no modulo bias).
3. **Slot order.** A slot is ``"<unit>@<start>"``. Slots are drawn in the order of SHA-256(``"<seed>|order|<slot>"``)
   as hex text (then the slot text).
4. **Rank within a slot.** With label ``"slot:<slot>"``, repeatedly pick among the applicants not yet ranked
   (kept in ascending id order): r = below(total weight); the pick is the first applicant whose cumulative weight
   exceeds r. With all weights 1 this is a uniform random permutation.
5. **Winners.** In slot order, a slot's winner is its first-ranked applicant who has not already won a slot that
   overlaps it in time (a user never wins two overlapping slots); applicants passed over for that reason are
   ``overlap``, the rest ``lost``. A slot listed as unavailable at the draw (already held) has no winner; all its
   applicants are ``unavailable``.
"""

import hashlib
import json
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
    """The deterministic random numbers of one label (rule 2)."""

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
    """Rule 4: ``entries`` are (id, applicant, unit, start, end, weight) tuples in ascending id order."""
    stream = Stream(seed, f"slot:{key}")
    remaining = list(entries)
    ordered = []
    if all(entry[5] == 1 for entry in remaining):
        while remaining:
            ordered.append(remaining.pop(stream.below(len(remaining))))
        return ordered
    while remaining:
        r = stream.below(sum(entry[5] for entry in remaining))
        for index, entry in enumerate(remaining):
            r -= entry[5]
            if r < 0:
                ordered.append(remaining.pop(index))
                break
    return ordered


def run(seed: str, applications, unavailable=frozenset(), parse=None):
    """Rules 3–5. ``applications``: (id, applicant, unit, start, end, weight) tuples (start/end ISO text).
    Yields (slot_order, slot, [(entry, position, outcome), …]) in slot order; ``unavailable``: slot keys.
    ``parse`` turns start/end text into comparable instants (default: datetime.fromisoformat, cached)."""
    import datetime as dt

    cache: dict[str, object] = {}

    def instant(text):
        value = cache.get(text)
        if value is None:
            value = cache[text] = (parse or dt.datetime.fromisoformat)(text)
        return value

    by_slot = defaultdict(list)
    for entry in applications:
        by_slot[slot_key(entry[2], entry[3])].append(entry)
    order = sorted(by_slot, key=lambda key: (sha256_hex(f"{seed}|order|{key}"), key))
    won: defaultdict[object, list] = defaultdict(list)  # applicant -> [(start, end)] of the slots won so far
    for slot_order, key in enumerate(order, start=1):
        entries = sorted(by_slot.pop(key), key=lambda entry: entry[0])
        ranked = rank(seed, key, entries)
        start, end = instant(entries[0][3]), instant(entries[0][4])
        outcomes = []
        winner = key in unavailable
        for position, entry in enumerate(ranked, start=1):
            if key in unavailable:
                outcomes.append((entry, position, "unavailable"))
            elif winner:
                outcomes.append((entry, position, "lost"))
            elif any(start < other_end and other_start < end for other_start, other_end in won[entry[1]]):
                outcomes.append((entry, position, "overlap"))
            else:
                winner = True
                won[entry[1]].append((start, end))
                outcomes.append((entry, position, "won"))
        yield slot_order, key, outcomes


def list_document_parts(header: dict) -> tuple[str, str]:
    """The canonical list text is ``prefix + ",".join(canonical_json(e) for e in entries) + suffix``: lets the
    server hash a million applications without building the whole document (``header`` = the other keys)."""
    rest = canonical_json(header)
    assert "applications" not in header and rest.startswith("{") and len(header) > 0
    return '{"applications":[', "]," + rest[1:]
