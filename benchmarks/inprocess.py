"""1. In process: validator.validate on distinct ~2 KB baclofen orders versus fhir.resources parsing the same bytes.

Every call gets a body no earlier call saw (benchmarks/orders.varied_bodies), so no cache can answer it. Times are
medians of interleaved rounds; instruction counts come from callgrind (repeatable on a shared machine, see
benchmarks/instructions.py). Two validator paths: `validate()` (the contract: an OperationOutcome model) and
`check()` + the JSON writer (what `$validate` and the CLI do: no model, bytes out).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fhir.resources.R4B.medicationrequest import MedicationRequest

from validator import check, validate
from validator.outcome import outcome_dict

from . import instructions
from .common import heading, median, row, us
from .orders import DISTINCT_TEXTS, varied_bodies

TARGET_TIME = 1.2
TARGET_INSTRUCTIONS = 1.1


def _parse(raw: bytes) -> object:
    return MedicationRequest.model_validate_json(raw)


def _check_json(raw: bytes) -> bytes:
    return orjson.dumps(outcome_dict(check(raw).findings))


PATHS = {"parse": _parse, "validate": validate, "check+json": _check_json}


def _round(fn: Any, bodies: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in bodies:
        fn(raw)
    return (time.perf_counter() - start) / len(bodies)


def run(quick: bool = False) -> dict[str, Any]:
    orders, rounds = (100, 3) if quick else (300, 5)
    heading(f"1. In process: validate() vs fhir.resources parse, {orders} distinct orders per round")
    # Every timed call gets a body (and an instruction text) no earlier call in this process saw: the paths and
    # rounds take disjoint slices, so neither the sig reader's nor any other cache can answer from an earlier call.
    checked = orders * rounds * (len(PATHS) - 1)  # bodies the validator paths take, all distinct
    assert checked + 20 <= DISTINCT_TEXTS
    warm = varied_bodies(20, start=checked)
    for raw in warm:  # warm: profiles, model classes, pint, compiled invariants
        for fn in PATHS.values():
            fn(raw)
    slices = iter(range(0, checked, orders))
    times: dict[str, list[float]] = {name: [] for name in PATHS}
    for _ in range(rounds):  # interleaved: background load hits every path alike
        for name, fn in PATHS.items():
            start = next(slices) if name != "parse" else 0  # the parse keeps nothing: it may see the same bodies
            times[name].append(_round(fn, varied_bodies(orders, start=start)))
    out: dict[str, Any] = {"orders": orders, "bytes_median": sorted(map(len, warm))[len(warm) // 2]}
    row("orders", f"{orders} distinct bodies, median {out['bytes_median']:,} bytes (R4, contained Medication)")
    parse = median(times["parse"])
    row("fhir.resources parse (baseline)", f"{us(parse)} per order (median of {rounds} rounds)")
    for name in ("validate", "check+json"):
        ratio = median([v / p for v, p in zip(times[name], times["parse"], strict=True)])
        out[name] = {"us": median(times[name]) * 1e6, "ratio": ratio}
        row(f"{name} / parse, by time", f"{ratio:.2f} ({us(median(times[name]))} per order; target <= {TARGET_TIME})")
    out["met_time"] = out["validate"]["ratio"] <= TARGET_TIME
    counted = instructions.run(quick)
    out["instructions"] = counted
    if counted.get("ratio"):
        out["met_instructions"] = counted["ratio"]["validate"] <= TARGET_INSTRUCTIONS
    row(
        "verdict",
        f"time {'MET' if out['met_time'] else 'NOT MET'}; instructions "
        + ("MET" if out.get("met_instructions") else "NOT MET" if "met_instructions" in out else "not counted"),
    )
    return out


def profile(seconds: float = 3.0) -> None:
    """A pyinstrument profile of validate() on distinct orders (`python -m benchmarks --profile`)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install -e '.[bench]'")
        return
    bodies = varied_bodies(2000)
    for raw in bodies[:100]:
        validate(raw)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    deadline = time.perf_counter() + seconds
    n = 100
    while time.perf_counter() < deadline and n < len(bodies):
        validate(bodies[n])
        n += 1
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))
