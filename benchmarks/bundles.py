"""2. Bundle scaling: per-order time for Bundles of 10 ... 10,000 distinct orders with patient context, against the
fhir.resources parse of the same Bundle; peak memory for the largest against the parse alone.

Runs in a fresh child process so its peak resident memory (VmHWM) belongs to this benchmark alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from .common import ROOT, heading, row, subprocess_env, us

TARGET = 1.2  # per order at 10,000 / at 100
TARGET_VS_PARSE = 1.3  # issue 16: a Bundle costs what its orders cost
SIZES = (10, 100, 1_000, 10_000)
REPEATS = {10: 60, 100: 8, 1_000: 2, 10_000: 1}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(sizes: list[int], parse_only: bool = False) -> None:
    """Entry point of the child process: prints one JSON line of figures. `parse_only`: the baseline's memory."""
    import orjson
    from fhir.resources.R4B.bundle import Bundle

    from validator import validate

    from .orders import bundle

    warm = orjson.dumps(bundle(5))
    Bundle.model_validate_json(warm)
    if not parse_only:
        validate(warm)  # warm: profiles, model classes, pint
    figures: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        raw = orjson.dumps(bundle(size))
        rss_before = _status_kb("VmRSS")
        times, parses = [], []
        issues = 0
        for _ in range(REPEATS.get(size, 1)):
            start = time.perf_counter()
            parsed = Bundle.model_validate_json(raw)
            parses.append(time.perf_counter() - start)
            del parsed
            if parse_only:
                continue
            start = time.perf_counter()
            outcome = validate(raw)
            times.append(time.perf_counter() - start)
            issues = len(outcome.issue)
            del outcome
        times.sort()
        parses.sort()
        figures["sizes"][str(size)] = {
            "bytes": len(raw),
            "seconds": times[len(times) // 2] if times else None,
            "parse_seconds": parses[len(parses) // 2],
            "issues": issues,
            "rss_before_kb": rss_before,
            "hwm_after_kb": _status_kb("VmHWM"),
        }
    print(json.dumps(figures))


def _child(sizes: list[int], parse_only: bool = False) -> dict[str, Any] | str:
    result = subprocess.run(
        [sys.executable, "-c", f"from benchmarks.bundles import child; child({sizes!r}, {parse_only!r})"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode != 0:
        return result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
    return json.loads(result.stdout.strip().splitlines()[-1])["sizes"]


def run(quick: bool = False) -> dict[str, Any]:
    heading("2. Bundle: Patient, 3 Conditions, 2 Observations, a Medication (urn:uuid) and N distinct orders")
    sizes = [s for s in SIZES if not quick or s <= 1_000]
    figures = _child(sizes)
    if isinstance(figures, str):
        row("failed", figures)
        return {"failed": True}
    per_order, ratios = {}, {}
    for size in sizes:
        f = figures[str(size)]
        per_order[size] = f["seconds"] / size
        ratios[size] = f["seconds"] / f["parse_seconds"]
        row(
            f"{size:>6,} orders ({f['bytes'] / 1e6:,.2f} MB)",
            f"{us(per_order[size])} per order; Bundle parse {us(f['parse_seconds'] / size)} per order; validate / parse {ratios[size]:.2f}",
        )
    out: dict[str, Any] = {"per_order_us": {s: t * 1e6 for s, t in per_order.items()}, "vs_parse": ratios}
    largest = max(sizes)
    linear = per_order[largest] / per_order[100]
    out["linear"] = linear
    row(f"per order at {largest:,} / at 100", f"{linear:.2f} (target <= {TARGET}: linear)")
    row(f"validate / Bundle parse at {largest:,}", f"{ratios[largest]:.2f} (target <= {TARGET_VS_PARSE})")
    f = figures[str(largest)]
    peak_mb = f["hwm_after_kb"] / 1024
    parse_alone = _child([largest], parse_only=True)
    parse_peak_mb = parse_alone[str(largest)]["hwm_after_kb"] / 1024 if isinstance(parse_alone, dict) else float("nan")
    row(f"peak memory, {largest:,} orders", f"{peak_mb:,.0f} MB resident; the parse alone {parse_peak_mb:,.0f} MB")
    row("peak memory / parse alone", f"{peak_mb / parse_peak_mb:.2f} (target <= 1.0)")
    out.update(peak_rss_mb=peak_mb, parse_peak_rss_mb=parse_peak_mb, met=linear <= TARGET and ratios[largest] <= TARGET_VS_PARSE)
    if largest == 10_000:
        row("verdict", "MET" if out["met"] else "NOT MET")
    return out
