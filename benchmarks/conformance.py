"""5. The structural layer (validator/conformance) next to the parse alone, on varied orders.

"parse" is what $validate does anyway before any check: JSON bytes -> fhir.resources model (R4B or R5).
"check" is conformance.check on the same JSON, definitions and invariants compiled (once per process); an
invariant's verdict is kept per shape of the element it reads, so an order like earlier ones is cheap.
"cold" clears those verdicts before every call: the cost of an order whose every shape is new. The ratios
check / parse are the layer's cost in units of the parse.
"""

from __future__ import annotations

import json
import time
from typing import Any

import orjson

from validator import conformance, engine, validate
from validator.conformance import invariants
from validator.parse import model_class

from .common import ROOT, heading, interleaved, median, row, us
from .orders import bundle, realistic_order

HL7 = ROOT / "tests" / "fixtures" / "hl7"


def _cases() -> list[tuple[str, bytes, str]]:
    minimal = realistic_order(0, contained=False, medication_ref="Medication/m1")
    cases = [
        ("baclofen order, contained Medication (~2 KB)", orjson.dumps(realistic_order(0)), "4.0"),
        ("baclofen order, referenced Medication", orjson.dumps(minimal), "4.0"),
        ("HL7 R4 medrx0310 (dose range)", (HL7 / "r4" / "MedicationRequest-medrx0310.json").read_bytes(), "4.0"),
        ("HL7 R4 medrx0319 (rate, contained)", (HL7 / "r4" / "MedicationRequest-medrx0319.json").read_bytes(), "4.0"),
        ("HL7 R5 medrx0339 (two dosages)", (HL7 / "r5" / "MedicationRequest-medrx0339.json").read_bytes(), "5.0"),
        ("Bundle: 10 orders + patient context", orjson.dumps(bundle(10)), "4.0"),
    ]
    return cases


def _parse(raw: bytes, version: str) -> Any:
    document = orjson.loads(raw)
    return model_class(document["resourceType"], version).model_validate(document)


def _share_of_validate(raw: bytes, calls: int) -> tuple[float, float]:
    """Seconds per validate() and, of those, in the conformance adapter (timed inside the same calls)."""
    real = engine.structural_findings
    spent = [0.0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    engine.structural_findings = timed
    try:
        for _ in range(max(1, calls // 5)):
            validate(raw)
        spent[0] = 0.0
        start = time.perf_counter()
        for _ in range(calls):
            validate(raw)
        total = time.perf_counter() - start
    finally:
        engine.structural_findings = real
    return total / calls, spent[0] / calls


def run(quick: bool = False) -> dict[str, Any]:
    heading("5. Conformance layer: conformance.check vs the parse alone (bytes -> model)")
    compiled = invariants.compile_all("4.0") + invariants.compile_all("5.0")
    row("invariants compiled at start (R4 + R5)", str(compiled))
    calls, rounds = (20, 5) if quick else (100, 9)
    results: dict[str, Any] = {}
    ratios: list[float] = []
    colds: list[float] = []
    for label, raw, version in _cases():
        document = orjson.loads(raw)
        issues = conformance.check(document, version).issues
        times = interleaved(
            {
                "parse": lambda raw=raw, version=version: _parse(raw, version),
                "check": lambda d=document, v=version: conformance.check(d, v),
                "cold": lambda d=document, v=version: (invariants.clear_memo(), conformance.check(d, v)),
            },
            calls,
            rounds,
        )
        ratio = median([c / p for c, p in zip(times["check"], times["parse"], strict=True)])
        cold = median([c / p for c, p in zip(times["cold"], times["parse"], strict=True)])
        ratios.append(ratio)
        colds.append(cold)
        errors = sum(i.severity == "error" for i in issues)
        row(label, f"parse {us(median(times['parse']))}, check {us(median(times['check']))}, cold {us(median(times['cold']))}")
        row("", f"check/parse {ratio:.2f}, cold check/parse {cold:.2f} ({errors} structural errors)")
        results[label] = {"parse_us": median(times["parse"]) * 1e6, "check_us": median(times["check"]) * 1e6, "ratio": ratio, "cold": cold}
    row("median check/parse over the cases", f"{median(ratios):.2f} (cold {median(colds):.2f})")
    share = _share_of_validate(orjson.dumps(realistic_order(0)), 50 if quick else 300)
    row("validate() on the ~2 KB order, of which structural", f"{us(share[0])}, {us(share[1])} ({share[1] / share[0]:.0%})")
    results["validate_us"], results["structural_in_validate_us"] = share[0] * 1e6, share[1] * 1e6
    results["median_ratio"], results["median_cold_ratio"] = median(ratios), median(colds)
    return json.loads(json.dumps(results))
