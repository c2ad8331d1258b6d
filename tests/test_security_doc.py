"""docs/security.md names a test for every defence, and every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "security.md").read_text()


def test_every_named_test_exists() -> None:
    named: list[tuple[str, str]] = []
    for line in DOC.splitlines():
        current = None
        for match in re.finditer(r"`(tests/[\w/]+\.py)?::(test_\w+)`", line):
            current = match[1] or current
            assert current, f"a ::test without a file before it: {line}"
            named.append((current, match[2]))
    assert len(named) >= 40
    for path, name in named:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name} is named in docs/security.md but does not exist"


def test_every_defence_row_names_a_test() -> None:
    rows = [line for line in DOC.splitlines() if line.startswith("| ") and not line.startswith(("| defence", "|---"))]
    assert rows
    for row in rows:
        assert "::test_" in row or "make load" in row, f"a defence without its test: {row}"
