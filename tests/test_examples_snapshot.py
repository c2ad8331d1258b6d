"""Every example gives the same findings as recorded in tests/snapshots/examples.json.

The snapshot was taken before the reshaping of issue 10 (locations as data, messages keyed by id ...),
which promised to change no verdict: rule code, severity, FHIRPath expression and wording per issue,
and for the CDS Hooks requests the cards' rule, indicator, summary and suggestion labels.
Regenerate deliberately with `python -m tests.test_examples_snapshot` when a verdict is meant to change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from validator import check
from validator.outcome import outcome_dict

from .cds_support import SELECT, SIGN, example, make_client

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "examples.json"


def _issues(data: bytes) -> list[list[str]]:
    report = check(data, context_provider=None)
    return [
        [i["details"]["coding"][0]["code"], i["severity"], (i.get("expression") or [""])[0], i["details"]["text"]]
        for i in outcome_dict(report.findings)["issue"]
    ]


def _order_inputs() -> list[Path]:
    paths = [p for p in EXAMPLES.rglob("*") if p.suffix in (".json", ".ndjson") and p.name != "EXPECTED.json"]
    return sorted(p for p in paths if "cds-hooks" not in p.parts)


def _cds_requests() -> list[Path]:
    return sorted(p for p in (EXAMPLES / "cds-hooks").glob("*.json") if json.loads(p.read_text()).get("hook"))


def _cards(name: str) -> list[dict[str, Any]]:
    body = example(name)
    if body.get("fhirServer"):  # fetching needs a server; the prefetch-only answer is still a verdict
        body.pop("fhirServer")
        body.pop("fhirAuthorization", None)
    path = SIGN if body["hook"] == "order-sign" else SELECT
    cards = make_client().post(path, json=body).json()["cards"]
    return [
        {
            "rule": c["source"]["topic"]["code"],
            "indicator": c["indicator"],
            "summary": c["summary"],
            "detail": c["detail"],
            "suggestions": [s["label"] for s in c.get("suggestions", [])],
        }
        for c in cards
    ]


def current() -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for path in _order_inputs():
        name = str(path.relative_to(EXAMPLES))
        if path.suffix == ".ndjson":
            snapshot[name] = [_issues(line) for line in path.read_bytes().splitlines() if line.strip()]
        else:
            snapshot[name] = _issues(path.read_bytes())
    for path in _cds_requests():
        snapshot[str(path.relative_to(EXAMPLES))] = _cards(path.name)
    return snapshot


RECORDED = json.loads(SNAPSHOT.read_text()) if SNAPSHOT.exists() else {}


def test_snapshot_covers_every_example() -> None:
    names = {str(p.relative_to(EXAMPLES)) for p in [*_order_inputs(), *_cds_requests()]}
    assert names == set(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_example_matches_snapshot(name: str) -> None:
    path = EXAMPLES / name
    if "cds-hooks" in path.parts:
        assert _cards(path.name) == RECORDED[name]
    elif path.suffix == ".ndjson":
        assert [_issues(line) for line in path.read_bytes().splitlines() if line.strip()] == RECORDED[name]
    else:
        assert _issues(path.read_bytes()) == RECORDED[name]


if __name__ == "__main__":
    SNAPSHOT.write_text(json.dumps(current(), indent=1, ensure_ascii=False) + "\n")
