"""The Japanese catalogue is complete, compiled and covers the templates.

Japanese is the default language: an untranslated or fuzzy entry shows English (or nothing) to residents, and a
stale ``django.mo`` (committed on purpose, so no gettext is needed at run time) hides new translations.

To bring the catalogue up to date:

    .venv/bin/python manage.py makemessages -l ja --ignore=.venv --ignore=tests --ignore=staticfiles
    (translate the new or fuzzy entries in locale/ja/LC_MESSAGES/django.po)
    .venv/bin/python manage.py compilemessages -l ja

No database is needed. The .po reader is hand-written on purpose (no polib dependency).
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PO_PATH = BASE_DIR / "locale" / "ja" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
TEMPLATES_DIR = BASE_DIR / "templates"

REGENERATE = "run manage.py makemessages -l ja --ignore=.venv --ignore=tests --ignore=staticfiles, then translate"
RECOMPILE = "run manage.py compilemessages -l ja"


# --- A small .po reader ------------------------------------------------------------------------------------------


@dataclass
class PoEntry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[n] for n in sorted(self.msgstr_plural)] or [""]

    @property
    def is_untranslated(self) -> bool:
        return any(text == "" for text in self.translations)

    def label(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")\s*$')


def _unquote(token: str, line_number: int) -> str:
    token = token.strip()
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"line {line_number}: expected a quoted string, got {token!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), token[1:-1])


def read_po(text: str) -> list[PoEntry]:
    """Entries of a gettext catalogue, header included; obsolete ``#~`` entries are left out.

    Handles ``msgctxt``, ``msgid_plural`` with ``msgstr[N]``, ``#,`` flags and strings continued over several
    ``"..."`` lines.
    """
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int | None] | None = None  # the field that a continuation line extends
    seen_msgstr = False

    def finish():
        nonlocal current, target, seen_msgstr
        if current is not None:
            if not seen_msgstr:
                raise ValueError(f"line {current.line}: entry {current.msgid!r} has no msgstr")
            entries.append(current)
        current, target, seen_msgstr = None, None, False

    def append(value: str):
        name, index = target
        if name == "msgstr" and index is not None:
            current.msgstr_plural[index] += value
        else:
            setattr(current, name, (getattr(current, name) or "") + value)

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            pending_flags = set()
            continue
        if line.startswith("#~"):  # obsolete entry: ignored, with any flags just above it
            finish()
            pending_flags = set()
            continue
        if line.startswith("#"):
            if seen_msgstr:
                finish()
            if line.startswith("#,"):
                pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"line {number}: string continuation outside an entry")
            append(_unquote(line, number))
            continue
        match = _KEYWORD.match(line)
        if not match:
            raise ValueError(f"line {number}: cannot read {raw!r}")
        keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3), number)
        if keyword in ("msgctxt", "msgid") and seen_msgstr:
            finish()
        if current is None:
            if keyword not in ("msgctxt", "msgid"):
                raise ValueError(f"line {number}: {keyword} before msgid")
            current, pending_flags = PoEntry(flags=pending_flags, line=number), set()
        if keyword == "msgctxt" and current.msgctxt is not None:
            raise ValueError(f"line {number}: second msgctxt in one entry")
        if keyword.startswith("msgstr"):
            seen_msgstr = True
            if index is not None:
                current.msgstr_plural[int(index)] = value
                target = ("msgstr", int(index))
                continue
        setattr(current, keyword, value)
        target = (keyword, None)
    finish()
    return entries


def load_po(path: Path = PO_PATH) -> list[PoEntry]:
    return read_po(path.read_text(encoding="utf-8"))


def incomplete_entries(entries: list[PoEntry]) -> list[str]:
    """Labels of entries that are fuzzy or have an empty translation."""
    problems = []
    for entry in entries:
        reasons = []
        if entry.is_fuzzy:
            reasons.append("fuzzy")
        if entry.is_untranslated:
            reasons.append("empty msgstr")
        if reasons:
            problems.append(f"{entry.label()} ({', '.join(reasons)})")
    return problems


def plural_count(entries: list[PoEntry]) -> int:
    header = next(entry for entry in entries if entry.is_header)
    match = re.search(r"^Plural-Forms:.*\bnplurals\s*=\s*(\d+)", header.msgstr, re.MULTILINE)
    assert match, "the .po header has no Plural-Forms line"
    return int(match.group(1))


TRANSLATE_TAG = re.compile(
    r"""\{%-?\s*(?:translate|trans)\s+"""
    r"""(?:"(?P<double>(?:[^"\\]|\\.)*)"|'(?P<single>(?:[^'\\]|\\.)*)')"""
    r"""(?P<rest>(?:(?!%\}).)*)%\}""",
    re.DOTALL,
)
CONTEXT_OPTION = re.compile(r"""\bcontext\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def template_msgids(text: str) -> set[tuple[str | None, str]]:
    """(msgctxt, msgid) of every ``{% translate "literal" %}`` in a template's text."""
    found = set()
    for match in TRANSLATE_TAG.finditer(text):
        msgid = match.group("double") if match.group("double") is not None else match.group("single")
        context = CONTEXT_OPTION.search(match.group("rest"))
        msgctxt = None if context is None else (context.group(1) if context.group(1) is not None else context.group(2))
        found.add((msgctxt, msgid))
    return found


# --- The catalogue ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def entries() -> list[PoEntry]:
    return load_po()


def test_catalogue__every_entry_is_translated_and_not_fuzzy(entries):
    problems = incomplete_entries(entries)
    assert not problems, (
        f"{len(problems)} entries of {PO_PATH.relative_to(BASE_DIR)} need a translation:\n  " + "\n  ".join(problems)
    )


def test_catalogue__plural_entries_have_exactly_the_japanese_forms(entries):
    nplurals = plural_count(entries)
    assert nplurals == 1, "Japanese has one plural form: Plural-Forms: nplurals=1; plural=0;"
    wrong = [
        entry.label()
        for entry in entries
        if entry.msgid_plural is not None and sorted(entry.msgstr_plural) != list(range(nplurals))
    ]
    assert not wrong, "plural entries need exactly msgstr[0]:\n  " + "\n  ".join(wrong)


def test_catalogue__translations_keep_the_placeholders(entries):
    placeholder = re.compile(r"%\(\w+\)[sd]")
    wrong = []
    for entry in entries:
        if entry.is_header:
            continue
        wanted = sorted(placeholder.findall(entry.msgid_plural or entry.msgid))
        for text in entry.translations:
            if text and sorted(placeholder.findall(text)) != wanted:
                wrong.append(f"{entry.label()} → {text!r}")
    assert not wrong, "translations lose or add placeholders:\n  " + "\n  ".join(wrong)


def test_compiled_catalogue__matches_the_po(entries):
    assert MO_PATH.exists(), f"{MO_PATH.relative_to(BASE_DIR)} is missing: {RECOMPILE}"
    with MO_PATH.open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for entry in entries:
        if entry.is_header or entry.is_fuzzy or entry.is_untranslated:
            continue
        if entry.msgid_plural is None:
            if entry.msgctxt is None:
                compiled = catalogue.gettext(entry.msgid)
            else:
                compiled = catalogue.pgettext(entry.msgctxt, entry.msgid)
            wanted = entry.msgstr
        else:
            if entry.msgctxt is None:
                compiled = catalogue.ngettext(entry.msgid, entry.msgid_plural, 1)
            else:
                compiled = catalogue.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, 1)
            wanted = entry.msgstr_plural[0]
        if compiled != wanted:
            stale.append(f"{entry.label()}: .mo has {compiled!r}, .po has {wanted!r}")
    assert not stale, f"django.mo is out of date, {RECOMPILE}:\n  " + "\n  ".join(stale)


def test_catalogue__covers_every_translate_tag_in_the_templates(entries):
    known = {(entry.msgctxt, entry.msgid) for entry in entries}
    missing = []
    for template in sorted(TEMPLATES_DIR.rglob("*.html")):
        for msgctxt, msgid in sorted(template_msgids(template.read_text(encoding="utf-8")), key=str):
            if (msgctxt, msgid) not in known:
                missing.append(
                    f"{template.relative_to(BASE_DIR)}: {msgid!r}" + (f" (context {msgctxt!r})" if msgctxt else "")
                )
    assert not missing, f"not in the .po, {REGENERATE}:\n  " + "\n  ".join(missing)


# --- The checks themselves can fail --------------------------------------------------------------------------------

SAMPLE_PO = r"""# A comment
msgid ""
msgstr ""
"Language: ja\n"
"Plural-Forms: nplurals=1; plural=0;\n"

#: a.py:1
msgid "Done"
msgstr "完了"

#: a.py:2
#, python-format
msgid ""
"A long message, %(n)s "
"continued"
msgstr ""
"長い"
"メッセージ %(n)s"

msgctxt "parking"
msgid "Available"
msgstr "あり"

#, fuzzy, python-format
#| msgid "Old %(x)s"
msgid "Guess %(x)s"
msgstr "推測 %(x)s"

msgid "Empty"
msgstr ""

msgid "%(counter)s slot"
msgid_plural "%(counter)s slots"
msgstr[0] ""

msgid "Quote \"this\""
msgstr "「this」"

#~ msgid "Gone"
#~ msgstr ""
"""


def test_reader__reads_continuations_contexts_plurals_and_skips_obsolete_entries():
    parsed = {(entry.msgctxt, entry.msgid): entry for entry in read_po(SAMPLE_PO)}
    assert parsed[(None, "A long message, %(n)s continued")].msgstr == "長いメッセージ %(n)s"
    assert parsed[("parking", "Available")].msgstr == "あり"
    assert parsed[(None, "%(counter)s slot")].msgid_plural == "%(counter)s slots"
    assert parsed[(None, 'Quote "this"')].msgstr == "「this」"
    assert "Language: ja\n" in parsed[(None, "")].msgstr
    assert (None, "Gone") not in parsed


def test_checks__report_empty_and_fuzzy_entries_by_msgid(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(SAMPLE_PO, encoding="utf-8")
    problems = incomplete_entries(load_po(po))
    assert [problem.split(": ", 1)[1] for problem in problems] == [
        "'Guess %(x)s' (fuzzy)",
        "'Empty' (empty msgstr)",
        "'%(counter)s slot' (empty msgstr)",
    ]


def test_checks__blanking_one_real_translation_is_caught(tmp_path):
    text = PO_PATH.read_text(encoding="utf-8")
    blanked, count = re.subn(r'(msgid "Available"\nmsgstr )"[^"\n]+"', r'\1""', text, count=1)
    assert count == 1
    po = tmp_path / "django.po"
    po.write_text(blanked, encoding="utf-8")
    assert any("'Available' (empty msgstr)" in problem for problem in incomplete_entries(load_po(po)))


def test_checks__find_translate_tags_in_both_quote_styles():
    text = """{% translate "Log in" %} {% translate 'Legend' %} {% trans "Old" noop %}
    {% translate "May" context "month" %} {% blocktranslate %}Not a literal{% endblocktranslate %}
    {% translate some_variable %}"""
    assert template_msgids(text) == {(None, "Log in"), (None, "Legend"), (None, "Old"), ("month", "May")}
