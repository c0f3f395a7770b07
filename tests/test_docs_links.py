"""Links between the documentation pages resolve (issue #20 item 1).

Every relative markdown link in README.md, CONTRIBUTING.md, CHANGELOG.md and docs/**/*.md — ``[text](path)``,
``[text](path#anchor)`` or a reference definition ``[label]: path`` — must point to a file or folder that
exists, and an anchor must name a heading of the page it points to (GitHub's anchor rules: lower case, spaces
to hyphens, punctuation dropped). Links to web sites (``https://…``, ``mailto:``) are not followed.

No database, no Django: plain files.
"""

import re
from pathlib import Path
from urllib.parse import unquote

BASE_DIR = Path(__file__).resolve().parent.parent

INLINE_LINK = re.compile(r"(?<!!)\[(?:[^\]\n]|\\\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_LINK = re.compile(r"!\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def pages() -> list[Path]:
    found = [BASE_DIR / name for name in ("README.md", "CONTRIBUTING.md", "CHANGELOG.md") if (BASE_DIR / name).exists()]
    return found + sorted((BASE_DIR / "docs").rglob("*.md"))


def _prose(text: str) -> str:
    """The page without code blocks and inline code, where brackets are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(page: Path) -> list[str]:
    prose = _prose(page.read_text(encoding="utf-8"))
    return INLINE_LINK.findall(prose) + IMAGE_LINK.findall(prose) + REFERENCE_DEFINITION.findall(prose)


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: markup dropped, lower case, punctuation removed, spaces become hyphens."""
    text = re.sub(r"`([^`]*)`", r"\1", heading.strip())
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("*", "").lower()
    text = re.sub(r"[^\w\- ]", "", text)  # \w keeps letters of every script (Japanese headings), digits, _
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*#*\s*$", FENCE.sub("", page.read_text(encoding="utf-8")), re.M):
        base = anchor(heading)
        count = seen.get(base, 0)
        result.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return result


def broken_links() -> list[str]:
    broken = []
    for page in pages():
        for target in links(page):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:, …
                continue
            path_part, _, fragment = target.partition("#")
            destination = (page.parent / unquote(path_part)).resolve() if path_part else page
            where = f"{page.relative_to(BASE_DIR)} → {target}"
            if not destination.exists():
                broken.append(f"{where}: no such file")
            elif fragment and destination.suffix == ".md" and unquote(fragment) not in anchors(destination):
                broken.append(f"{where}: no heading with that anchor in {destination.relative_to(BASE_DIR)}")
    return broken


def test_docs__every_relative_link_points_to_a_file_that_exists():
    assert len(pages()) > 3, "README.md and docs/ not found"
    broken = broken_links()
    assert not broken, "Broken links:\n" + "\n".join(broken)


def test_docs__the_checker_sees_links_and_anchors(tmp_path):
    """The checker itself: a link, a reference definition and an anchor are read; code is not a link."""
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n## Fees and payments (S-PAY-4)\n[a](other.md#x) and `[b](not-a-link.md)`\n"
        "```\n[c](in-code.md)\n```\n[d]: ref.md\n",
        encoding="utf-8",
    )
    assert links(page) == ["other.md#x", "ref.md"]
    assert anchors(page) == {"title", "fees-and-payments-s-pay-4"}
