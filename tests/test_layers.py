"""The apps import each other only downward: the import-linter contract in ``.importlinter`` holds.

Runs ``lint-imports`` (import-linter, the dev extra) from the interpreter's own environment, so that the README's
test command checks the layers too; a broken contract fails with import-linter's report, which names each import
that goes the wrong way. The exceptions listed in the layers contract are counted in docs/architecture.md, and the
count must follow the list.

No database, no Django: import-linter reads the source files.
"""

import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CONTRACT = BASE_DIR / ".importlinter"
IGNORED_IMPORT = re.compile(r"^\s+[\w.*]+ -> [\w.*]+\s*$", re.M)


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    assert lint_imports.exists(), f"{lint_imports} is missing: install the dev extra (pip install -e '.[dev]')"
    result = subprocess.run(
        [str(lint_imports), "--config", str(CONTRACT), "--no-cache"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"lint-imports found imports against the layers:\n{result.stdout}\n{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout


def test_the_architecture_page_counts_the_exceptions():
    layers = CONTRACT.read_text().split("[importlinter:contract:layers]")[1].split("\n[")[0]
    listed = len(IGNORED_IMPORT.findall(layers))
    page = (BASE_DIR / "docs" / "architecture.md").read_text()
    stated = re.search(r"(\d+) imports are listed as exceptions", page)
    assert stated, "docs/architecture.md should say how many imports are listed as exceptions in .importlinter"
    assert int(stated[1]) == listed, f"docs/architecture.md says {stated[1]} exceptions; .importlinter lists {listed}"
