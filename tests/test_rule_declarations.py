"""Rules declare themselves: the codes each may emit (@emits) and, in its docstring, an example that fires it and
one that does not. These tests run every example through the real engine with each rule watched.

- a rule emits only the codes it declares;
- each rule's "fires" examples make it emit, and its "does not fire" examples hold none of its codes at all;
- every catalogue code is fired by some example and absent from another;
- every wording comes from messages.py, and every message names a catalogue code.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

import validator.rules as rules_module
from validator import check
from validator.findings import RULE_CATALOGUE
from validator.messages import MESSAGES
from validator.rules import RULES
from validator.rules.docs import ENGINE_CODES
from validator.rules.registry import codes_of, doc_of

from .conftest import ROOT

EXAMPLES = ROOT / "examples"
ORDER_EXAMPLES = sorted(
    p for p in EXAMPLES.rglob("*") if p.suffix in (".json", ".ndjson") and p.name != "EXPECTED.json" and "cds-hooks" not in p.parts
)


def _inputs(path: Path) -> list[bytes]:
    if path.suffix == ".ndjson":
        return [line for line in path.read_bytes().splitlines() if line.strip()]
    return [path.read_bytes()]


def _watched_run(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, set[str]], set[str]]:
    """(rule name -> codes it emitted, every code in the reports) for one example."""
    emitted: dict[str, set[str]] = defaultdict(set)

    def watch(rule):
        def watched(order, context, profile):
            for finding in rule(order, context, profile):
                emitted[doc_of(rule).name].add(finding.rule)
                yield finding

        watched.__dict__.update(rule.__dict__)  # its declared codes and its every_order mark
        return watched

    monkeypatch.setattr(rules_module, "RULES", [watch(r) for r in RULES])
    reported = {f.rule for data in _inputs(path) for f in check(data, context_provider=None).findings}
    return emitted, reported


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[dict[str, set[str]], set[str]]]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return {str(p.relative_to(ROOT)): _watched_run(p, monkeypatch) for p in ORDER_EXAMPLES}


def test_every_rule_is_documented_and_declares_catalogue_codes() -> None:
    for rule in RULES:
        doc = doc_of(rule)  # raises when a part is missing
        assert doc.codes and set(doc.codes) <= set(RULE_CATALOGUE), doc.name
        for path in (*doc.fires, *doc.quiet):
            assert (ROOT / path).is_file(), f"{doc.name}: {path} does not exist"


def test_rules_emit_only_the_codes_they_declare(runs) -> None:
    declared = {doc_of(r).name: set(codes_of(r)) for r in RULES}
    for example, (emitted, _) in runs.items():
        for name, codes in emitted.items():
            assert codes <= declared[name], f"{example}: {name} emitted {sorted(codes - declared[name])} it does not declare"


@pytest.mark.parametrize("rule", RULES, ids=[doc_of(r).name for r in RULES])
def test_each_rule_fires_on_its_example_and_not_on_its_look_alike(rule, runs) -> None:
    doc = doc_of(rule)
    for path in doc.fires:
        emitted, _ = runs[path]
        assert emitted.get(doc.name), f"{path} was meant to make {doc.name} fire"
    for path in doc.quiet:
        emitted, reported = runs[path]
        assert not emitted.get(doc.name), f"{path} was meant to leave {doc.name} quiet"
        assert not (reported & set(doc.codes)), f"{path} reports {sorted(reported & set(doc.codes))}"


def test_every_catalogue_code_has_an_example_that_fires_it_and_one_that_does_not(runs) -> None:
    for code in RULE_CATALOGUE:
        if code == "check-not-finished":  # needs a CPU budget smaller than any example takes: tests/test_bounded_work.py
            continue
        firing = [e for e, (_, reported) in runs.items() if code in reported]
        quiet = [e for e, (_, reported) in runs.items() if code not in reported]
        assert firing, f"no example fires {code}"
        assert quiet, f"every example fires {code}"


def test_every_catalogue_code_is_declared_by_a_rule_or_made_by_the_engine() -> None:
    declared = {c for r in RULES for c in codes_of(r)}
    assert set(RULE_CATALOGUE) == declared | set(ENGINE_CODES)


def test_every_message_reports_a_catalogue_code_and_its_summary_is_short() -> None:
    assert {m.rule for m in MESSAGES.values()} <= set(RULE_CATALOGUE)
    for message_id, message in MESSAGES.items():
        # the template's own words leave room for its arguments within a card's 140 characters
        assert len(message.summary or message.detail) <= 125 or message.summary, message_id
        assert len(message.summary) <= 115, message_id


def test_the_expected_files_agree_with_the_runs(runs) -> None:
    expected = {
        str((file.parent / name).relative_to(ROOT)): codes
        for file in EXAMPLES.rglob("EXPECTED.json")
        for name, codes in json.loads(file.read_text()).items()
    }
    for example, (_, reported) in runs.items():
        codes = expected[example]
        flat = {c for item in codes for c in (item if isinstance(item, list) else [item])}
        assert flat == reported, example
