"""Shared helpers: the machine the figures come from, timing, printing."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "date": _dt.date.today().isoformat(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "load average (1, 5, 15 min) at start": load,
    }


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call over `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def interleaved(fns: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each function, measured in alternating rounds so background noise hits all alike."""
    for fn in fns.values():  # warm caches
        per_call(fn, max(1, calls // 4))
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            out[name].append(per_call(fn, calls))
    return out


def median(values: list[float]) -> float:
    return statistics.median(values)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} us"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def row(label: str, value: str) -> None:
    print(f"  {label:<50} {value}", flush=True)


def subprocess_env() -> dict[str, str]:
    """Environment for child processes: this checkout's `validator` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env
