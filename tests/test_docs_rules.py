"""docs/rules.md resolves every rule id the code cites (issue #20 item 1).

Rule ids (K-FC-3, S-PAY-2, T-USE-1, X-3, …) are cited in docstrings, comments, refusals, demo data, migrations,
templates and test names. Each one must have its own section in docs/rules.md — a heading that starts with the id —
saying the rule in one line, the profile data that holds it, where it is enforced and which tests cover it.
The page's code paths (``reservations/rules.py``, ``tests/fees/test_refunds.py``, …) must exist, and the names it
cites in backticks must occur in the code, so the page stays true when code moves.

No database, no Django: plain files.
"""

import re
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
RULES_PAGE = BASE_DIR / "docs" / "rules.md"

# A municipality's letter, a category of two to four capitals and a number (K-FC-3, S-WX-1, T-APP-5), or
# X and one digit (the rules across all profiles, X-3).
RULE_ID = re.compile(r"(?<![A-Za-z0-9-])([KST]-[A-Z]{2,4}-[0-9]+|X-[0-9])(?![A-Za-z0-9-])")

# Strings of that shape that are not rule ids: test data.
NOT_RULE_IDS = {
    "S-CARD-2": "a card number in tests/accounts/test_reissue_carry_over.py",
}

SKIPPED_DIRS = {
    ".git",
    ".venv",
    "node_modules",
    "staticfiles",
    "test-artifacts",
    ".hypothesis",
    ".pytest_cache",
    "__pycache__",
}


def _files():
    """The Python code (apps, config, scripts, benchmarks, migrations, tests) and the templates."""
    for path in sorted(BASE_DIR.rglob("*")):
        if not path.is_file() or SKIPPED_DIRS.intersection(path.relative_to(BASE_DIR).parts):
            continue
        relative = path.relative_to(BASE_DIR)
        if path.suffix == ".py" or relative.parts[0] == "templates":
            yield relative, path.read_text(encoding="utf-8")


def cited_ids() -> dict[str, list[str]]:
    """Every rule id in the code and templates, with the files that cite it."""
    cited: dict[str, list[str]] = {}
    for relative, text in _files():
        for rule_id in set(RULE_ID.findall(text)) - set(NOT_RULE_IDS):
            cited.setdefault(rule_id, []).append(str(relative))
    return cited


def documented_ids() -> dict[str, str]:
    """Each rule id with a section of docs/rules.md (a heading that starts with it) → that section's text."""
    text = RULES_PAGE.read_text(encoding="utf-8")
    sections = {}
    for match in re.finditer(r"^#{2,4} (\S+)[^\n]*\n(.*?)(?=^#{1,4} |\Z)", text, re.M | re.S):
        if RULE_ID.fullmatch(match[1]):
            sections[match[1]] = match[2]
    return sections


def test_rules_page__every_rule_id_cited_in_the_code_has_a_section():
    cited, documented = cited_ids(), documented_ids()
    assert cited, "no rule id found in the code: the pattern or the file walk is broken"
    missing = {rule_id: files for rule_id, files in cited.items() if rule_id not in documented}
    assert not missing, "\n".join(
        [
            "Rule ids cited in the code but without a section in docs/rules.md (add '### <id> · …' with Rule, Data, "
            "Enforced and Tests):"
        ]
        + [
            f"  {rule_id}: cited in {', '.join(sorted(files)[:5])}{' …' if len(files) > 5 else ''}"
            for rule_id, files in sorted(missing.items())
        ]
    )


def test_rules_page__each_section_says_the_rule_its_data_where_it_is_enforced_and_its_tests():
    incomplete = {
        rule_id: [part for part in ("**Rule**", "**Data**", "**Enforced**", "**Tests**") if part not in body]
        for rule_id, body in documented_ids().items()
    }
    incomplete = {rule_id: parts for rule_id, parts in incomplete.items() if parts}
    assert not incomplete, f"sections of docs/rules.md missing parts: {incomplete}"


def test_rules_page__each_rule_id_has_one_section():
    headings = re.findall(r"^#{2,4} (\S+)", RULES_PAGE.read_text(encoding="utf-8"), re.M)
    ids = [heading for heading in headings if RULE_ID.fullmatch(heading)]
    assert len(ids) == len(set(ids)), f"rule ids with two sections: {sorted({i for i in ids if ids.count(i) > 1})}"


def test_rules_page__the_paths_and_names_it_cites_exist():
    """`reservations/rules.py`, `tests/fees/test_refunds.py` … exist; `limit_refusals`, `RuleProfile.slot_rule_id` …
    occur in the code (as words), so a renamed function or field shows up here."""
    text = RULES_PAGE.read_text(encoding="utf-8")
    code = "\n".join(body for _relative, body in _files())
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code))
    missing_paths, unknown_names = [], []
    for token in re.findall(r"`([^`\n]+)`", text):
        if re.fullmatch(r"[\w./-]+/[\w.-]+\.(py|html|txt|md)", token):
            if not (BASE_DIR / token).exists() and not (RULES_PAGE.parent / token).exists():
                missing_paths.append(token)
        elif re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", token) and any(
            part not in words for part in token.split(".")
        ):
            unknown_names.append(token)
    assert not missing_paths, f"docs/rules.md names files that do not exist: {sorted(set(missing_paths))}"
    assert not unknown_names, f"docs/rules.md names what the code does not have: {sorted(set(unknown_names))}"
