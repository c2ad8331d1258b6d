"""4. CLI bulk: orders per second of `medval validate` over an NDJSON file, one process and every core."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, heading, row, subprocess_env
from .orders import write_ndjson

TARGET = 1.7
ORDERS = 20_000  # bounded: make bench stays within minutes on 2 shared cores


def _run(path: Path, jobs: int, out: Path) -> tuple[float, int]:
    command = [sys.executable, "-m", "validator.cli", "validate", "--format", "json", "--jobs", str(jobs), str(path)]
    start = time.perf_counter()
    with out.open("wb") as sink:
        result = subprocess.run(command, cwd=ROOT, env=subprocess_env(), stdout=sink, stderr=subprocess.PIPE, timeout=1800)
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise RuntimeError(f"medval validate --jobs {jobs} exited {result.returncode}: {result.stderr.decode()[-300:]}")
    return elapsed, result.returncode


def run(quick: bool = False, orders: int | None = None) -> dict[str, Any]:
    count = orders or (10_000 if quick else ORDERS)
    cores = os.cpu_count() or 1
    heading(f"4. CLI bulk: medval validate --format json over NDJSON of {count:,} orders")
    out: dict[str, Any] = {"orders": count, "cores": cores}
    with tempfile.TemporaryDirectory(prefix="medval-bench-") as tmp:
        path = Path(tmp) / "orders.ndjson"
        size = write_ndjson(path, count)
        row("input", f"{size / 1e6:,.0f} MB, one ~2.4 KB order per line; answers written to a file")
        for jobs in (1, cores):
            elapsed, status = _run(path, jobs, Path(tmp) / f"out-{jobs}.ndjson")
            answers = (Path(tmp) / f"out-{jobs}.ndjson").read_bytes().count(b'"OperationOutcome"')
            if answers != count:
                raise RuntimeError(f"--jobs {jobs}: {answers} answers for {count} orders")
            out[f"jobs{jobs}"] = {"seconds": elapsed, "orders_per_s": count / elapsed, "exit": status}
            row(f"--jobs {jobs}", f"{count / elapsed:,.0f} orders/s ({elapsed:,.1f} s, exit {status})")
    if cores > 1:
        speedup = out[f"jobs{cores}"]["orders_per_s"] / out["jobs1"]["orders_per_s"]
        out["speedup"] = speedup
        out["met"] = speedup >= TARGET
        row(f"speed-up on {cores} cores", f"{speedup:.2f}x (target >= {TARGET}x on 2 cores): " + ("MET" if out["met"] else "NOT MET"))
    return out
