"""Instruction counts with `valgrind --tool=callgrind`: repeatable where wall time is not (a shared machine).

A child process imports, warms up, then runs each path over the same few distinct orders; between paths it calls
`os.sched_yield()`, and `--dump-before=os_sched_yield` makes callgrind write one profile part per path, so each
part's total counts that path alone (start-up and warm-up land in part 1 and are ignored). Kept small: Python under
callgrind runs ~50x slower.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .common import ROOT, heading, row, subprocess_env

PATHS = ("parse", "validate", "check+json", "bundle-parse", "bundle-validate")
BUNDLE_ORDERS = 20


def child(orders: int) -> None:
    """Run under callgrind: warm up, then one marked part per path."""
    import orjson
    from fhir.resources.R4B.bundle import Bundle

    from validator import validate

    from .inprocess import PATHS as INPROCESS
    from .orders import bundle, varied_bodies

    # disjoint bodies (and instruction texts) per path: no path is answered from a cache another one filled
    warm = varied_bodies(5, start=3_000)
    bodies = {name: varied_bodies(orders, start=i * 100) for i, name in enumerate(PATHS[:3])}
    warm_bundle, counted_bundle = orjson.dumps(bundle(3)), orjson.dumps(bundle(BUNDLE_ORDERS))
    for raw in warm:
        for fn in INPROCESS.values():
            fn(raw)
    Bundle.model_validate_json(warm_bundle)
    validate(warm_bundle)
    for name in PATHS[:3]:
        os.sched_yield()  # marker: callgrind dumps the part before this call
        for raw in bodies[name]:
            INPROCESS[name](raw)
    os.sched_yield()
    Bundle.model_validate_json(counted_bundle)
    os.sched_yield()
    validate(counted_bundle)
    os.sched_yield()


def _part_totals(folder: Path) -> list[int]:
    parts = []
    for path in sorted(folder.glob("callgrind.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[-1]) if p.name[-1].isdigit() else 0):
        match = re.search(r"^(?:summary|totals):\s*(\d+)", path.read_text(errors="replace"), re.M)
        if match:
            parts.append(int(match.group(1)))
    return parts


def run(quick: bool = False) -> dict[str, Any]:
    orders = 4 if quick else 12  # at most 100: each path's bodies start 100 further on
    heading(f"   instructions (callgrind): {orders} distinct orders per path, a Bundle of {BUNDLE_ORDERS} orders")
    if shutil.which("valgrind") is None:
        row("valgrind", "not installed (apt-get install valgrind): instruction counts skipped")
        return {}
    with tempfile.TemporaryDirectory() as folder:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--dump-before=os_sched_yield",
            f"--callgrind-out-file={folder}/callgrind.out",
            sys.executable,
            "-c",
            f"from benchmarks.instructions import child; child({orders})",
        ]
        result = subprocess.run(command, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=900)
        parts = _part_totals(Path(folder))
    if result.returncode != 0 or len(parts) < len(PATHS) + 1:
        row("callgrind", f"failed (exit {result.returncode}, {len(parts)} parts): {result.stderr.strip()[-200:]}")
        return {}
    counted = dict(zip(PATHS, parts[1 : len(PATHS) + 1], strict=True))
    per_order = {name: counted[name] / (BUNDLE_ORDERS if name.startswith("bundle") else orders) for name in PATHS}
    row("fhir.resources parse (baseline)", f"{per_order['parse'] / 1e6:,.2f} M instructions per order")
    ratio = {
        "validate": counted["validate"] / counted["parse"],
        "check+json": counted["check+json"] / counted["parse"],
        "bundle": counted["bundle-validate"] / counted["bundle-parse"],
    }
    row("validate / parse, by instructions", f"{ratio['validate']:.2f} (target <= 1.1)")
    row("check+json / parse, by instructions", f"{ratio['check+json']:.2f}")
    row(f"Bundle of {BUNDLE_ORDERS}: validate / Bundle parse", f"{ratio['bundle']:.2f} (target <= 1.3)")
    return {"per_order": per_order, "ratio": ratio}
