"""2. Bundle scaling: per-order time for Bundles of 10 ... 10,000 orders with patient context; peak memory for the largest.

Runs in a fresh child process so its peak resident memory (VmHWM) belongs to this benchmark alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from .common import ROOT, heading, ms, row, subprocess_env, us

TARGET = 1.2
SIZES = (10, 100, 1_000, 10_000)
REPEATS = {10: 60, 100: 8, 1_000: 2, 10_000: 1}


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def child(sizes: list[int]) -> None:
    """Entry point of the child process: prints one JSON line of figures."""
    import orjson

    from validator import validate

    from .orders import bundle

    validate(orjson.dumps(bundle(5)))  # warm: profiles, model classes, pint
    figures: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        raw = orjson.dumps(bundle(size))
        rss_before = _status_kb("VmRSS")
        times = []
        for _ in range(REPEATS.get(size, 1)):
            start = time.perf_counter()
            outcome = validate(raw)
            times.append(time.perf_counter() - start)
        issues = len(outcome.issue)
        times.sort()
        figures["sizes"][str(size)] = {
            "bytes": len(raw),
            "seconds": times[len(times) // 2],
            "issues": issues,
            "rss_before_kb": rss_before,
            "hwm_after_kb": _status_kb("VmHWM"),
        }
    print(json.dumps(figures))


def run(quick: bool = False) -> dict[str, Any]:
    heading("2. Bundle scaling: Patient, 3 Conditions, 2 Observations, a Medication (urn:uuid) and N orders")
    sizes = [s for s in SIZES if not quick or s <= 1_000]
    result = subprocess.run(
        [sys.executable, "-c", f"from benchmarks.bundles import child; child({sizes!r})"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        row("failed", result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}")
        return {"failed": True}
    figures = json.loads(result.stdout.strip().splitlines()[-1])["sizes"]
    per_order = {}
    for size in sizes:
        f = figures[str(size)]
        per_order[size] = f["seconds"] / size
        row(
            f"{size:>6,} orders ({f['bytes'] / 1e6:,.2f} MB)",
            f"{ms(f['seconds'])} total, {us(per_order[size])} per order, {f['issues']:,} issues",
        )
    out: dict[str, Any] = {"per_order_us": {s: t * 1e6 for s, t in per_order.items()}}
    largest = max(sizes)
    ratio = per_order[largest] / per_order[100]
    out["ratio"] = ratio
    row(f"per order at {largest:,} / at 100", f"{ratio:.2f} (target <= {TARGET} at 10,000)")
    f = figures[str(largest)]
    peak_mb = f["hwm_after_kb"] / 1024
    growth_mb = (f["hwm_after_kb"] - f["rss_before_kb"]) / 1024
    row(f"peak memory, {largest:,} orders", f"{peak_mb:,.0f} MB resident (+{growth_mb:,.0f} MB while validating)")
    out.update(peak_rss_mb=peak_mb, growth_mb=growth_mb, met=ratio <= TARGET and largest == 10_000)
    if largest == 10_000:
        row("verdict", "MET" if ratio <= TARGET else "NOT MET")
    return out
