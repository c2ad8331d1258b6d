"""Helpers for the therapy-over-time tests: the examples/therapy Bundles, changed one element at a time, and the
findings of one order in them."""

from __future__ import annotations

import copy
import json
from typing import Any

from validator import check
from validator.findings import Finding, effective_severity

from .conftest import ROOT

THERAPY = ROOT / "examples" / "therapy"


def scenario(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((THERAPY / f"{name}.json").read_text()))


def resource(bundle: dict[str, Any], resource_id: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == resource_id)


def findings_of(bundle: dict[str, Any], resource_id: str) -> list[Finding]:
    """The findings on one order of the Bundle (by its id)."""
    index = next(i for i, e in enumerate(bundle["entry"]) if e["resource"].get("id") == resource_id)
    place = ("Bundle", "entry", index, "resource")
    return [f for f in check(bundle).findings if f.location[:4] == place]


def codes_of(bundle: dict[str, Any], resource_id: str) -> list[str]:
    return sorted(f.rule for f in findings_of(bundle, resource_id))


def only(bundle: dict[str, Any], resource_id: str, code: str) -> Finding:
    found = [f for f in findings_of(bundle, resource_id) if f.rule == code]
    assert len(found) == 1, [f.rule for f in findings_of(bundle, resource_id)]
    return found[0]


def severity(finding: Finding) -> str:
    return effective_severity(finding)
