"""Every example under examples/ yields exactly the rule codes recorded beside it in an EXPECTED.json.

The expectations were written by hand from the monograph when each example was made (see the
example's own text); this test keeps code and examples from drifting apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validator import check

from .conftest import ROOT, rules_of

EXAMPLES = ROOT / "examples"
CASES = [
    (expected_file.parent / name, expected)
    for expected_file in sorted(EXAMPLES.rglob("EXPECTED.json"))
    for name, expected in json.loads(expected_file.read_text()).items()
]


def test_examples_are_many_and_all_recorded() -> None:
    recorded = {path.resolve() for path, _ in CASES}
    on_disk = {p.resolve() for p in EXAMPLES.rglob("*") if p.suffix in (".json", ".ndjson") and p.name != "EXPECTED.json"}
    on_disk = {p for p in on_disk if "cds-hooks" not in p.parts}  # CDS Hooks requests are tested by their own suite
    assert len(recorded) >= 15
    assert on_disk <= recorded, f"examples with no expectation: {sorted(map(str, on_disk - recorded))}"


@pytest.mark.parametrize(("path", "expected"), CASES, ids=[str(p.relative_to(EXAMPLES)) for p, _ in CASES])
def test_example_yields_its_recorded_rules(path: Path, expected: list) -> None:
    if path.suffix == ".ndjson":
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        assert [sorted(rules_of(check(line))) for line in lines] == expected
    else:
        assert sorted(rules_of(check(path.read_bytes()))) == expected


def test_therapy_scenarios_are_all_recorded() -> None:
    # examples/therapy (issue 11): each dangerous case beside its safe look-alike, every scenario with its codes
    therapy = EXAMPLES / "therapy"
    expected = json.loads((therapy / "EXPECTED.json").read_text())
    scenarios = sorted(p.name for p in therapy.glob("*.json") if p.name != "EXPECTED.json")
    assert len(scenarios) >= 40
    assert scenarios == sorted(expected)
