"""3. HTTP: POST /fhir/MedicationRequest/$validate against GET /health on the same server, 1, 2 and 4 workers.

wrk (Debian; installed if missing) on loopback with 32 connections for a bounded time per configuration, cycling
through 2,000 distinct order bodies (benchmarks/wrk_bodies.lua); /health on the same server is the baseline.
Also: time from `medval serve` to the first 200 from /health.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from .common import ROOT, heading, ms, row, subprocess_env
from .orders import varied_bodies

VALIDATE_PATH = "/fhir/MedicationRequest/$validate"
HEALTH_PATH = "/health"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
CONNECTIONS = 32
TARGET_VS_HEALTH = 0.4
TARGET_TWO_WORKERS = 1.8
STARTUP_TARGET_S = 2.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`medval serve` in its own process group, stopped (and its workers with it) on exit."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.ready_after: float | None = None

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "validator.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        start = time.perf_counter()
        # The service logs a JSON line per request: into a file, never a pipe nobody reads (a full pipe blocks the server).
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True
        )
        deadline = start + 60
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() < deadline and self.process.poll() is None:
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(self.base + HEALTH_PATH).status_code == 200:
                        self.ready_after = time.perf_counter() - start
                        break
                time.sleep(0.01)
        if self.ready_after is None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"medval serve --workers {self.workers} did not answer /health")
        return self

    def __exit__(self, *_: object) -> None:
        if getattr(self, "log", None) is not None:
            self.log.close()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # the group this benchmark started
            process.wait(timeout=10)


def _ensure_wrk() -> str | None:
    """wrk from Debian, installed if missing (as `make load` does)."""
    if shutil.which("wrk") is None:
        for step in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
            subprocess.run(step, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=300)
            if shutil.which("wrk"):
                break
    return shutil.which("wrk")


def _group_cpu_s(group: int) -> float:
    """CPU seconds (user + system) used so far by every process of the server's process group (its workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if int(fields[2]) == group:  # pgrp; fields[11:13] are utime, stime in clock ticks
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, seconds: float, script: str | None, bodies: Path | None, group: int | None = None) -> dict[str, Any]:
    """wrk on loopback: 2 threads, CONNECTIONS connections, bounded in time. With `group`, also the server's CPU
    time per request: on a machine shared with other work, wall-clock rates follow the neighbours' load, while
    the CPU the server spends per request does not (much)."""
    cpu_before = _group_cpu_s(group) if group else 0.0
    command = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds:g}s", "--timeout", "10s"]
    if script:
        command += ["-s", script]
    env = dict(os.environ, BENCH_BODIES=str(bodies or ""))
    result = subprocess.run(command + [url], env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    cpu = _group_cpu_s(group) - cpu_before if group else 0.0
    text = result.stdout
    requests = re.search(r"(\d+) requests in", text)
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    errors = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    socket_errors = re.search(r"Socket errors:(.*)", text)
    latency = re.search(r"p50_us=(\d+) p99_us=(\d+)", text)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p50": int(latency.group(1)) / 1e6 if latency else float("nan"),
        "p99": int(latency.group(2)) / 1e6 if latency else float("nan"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1).strip() if socket_errors else "",
        "cpu_ms_per_request": cpu * 1e3 / int(requests.group(1)) if requests and int(requests.group(1)) and group else float("nan"),
    }


def _probe(base: str, body: bytes) -> int:
    with httpx.Client(base_url=base, timeout=30.0) as client:
        return client.post(VALIDATE_PATH, content=body, headers=FHIR_JSON).status_code


def _fmt(result: dict[str, Any]) -> str:
    text = f"{result['rps']:,.0f} req/s, {result['cpu_ms_per_request']:.2f} ms server CPU per request"
    if result["p50"] == result["p50"]:  # not NaN: the script reported latencies
        text += f", p50 {ms(result['p50'])}, p99 {ms(result['p99'])}"
    if result["errors"] or result["socket_errors"]:
        text += f" ({result['errors']:,} non-2xx; socket errors: {result['socket_errors'] or 'none'})"
    return text


def run(quick: bool = False) -> dict[str, Any]:
    heading(f"3. HTTP (wrk, loopback, -c{CONNECTIONS}): POST {VALIDATE_PATH} of distinct orders vs GET {HEALTH_PATH}")
    seconds = 3.0 if quick else 8.0
    if _ensure_wrk() is None:
        row("wrk", "not installed and apt-get could not install it: HTTP figures skipped")
        return {}
    out: dict[str, Any] = {"startup_s": [], "configs": {}}
    with tempfile.TemporaryDirectory() as folder:
        bodies = Path(folder, "bodies.ndjson")
        bodies.write_bytes(b"\n".join(varied_bodies(2000)) + b"\n")
        script = str(Path(__file__).with_name("wrk_bodies.lua"))
        for workers in (1, 2):
            try:
                with Server(workers) as server:
                    assert server.ready_after is not None
                    out["startup_s"].append(server.ready_after)
                    row(f"workers={workers}: serve -> first 200 /health", f"{server.ready_after:.2f} s")
                    if _probe(server.base, varied_bodies(1, start=99_999)[0]) != 200:
                        row(f"workers={workers}", "$validate did not answer 200; not measured")
                        continue
                    _wrk(server.base + VALIDATE_PATH, 2, script, bodies)  # warm: caches, allocator
                    group = server.process.pid if server.process else None
                    health = _wrk(server.base + HEALTH_PATH, seconds, None, None, group)
                    validate = _wrk(server.base + VALIDATE_PATH, seconds, script, bodies, group)
                    row(f"workers={workers}: GET {HEALTH_PATH} (baseline)", _fmt(health))
                    row(f"workers={workers}: POST {VALIDATE_PATH}", _fmt(validate))
                    ratio = validate["rps"] / health["rps"] if health["rps"] else float("nan")
                    row(f"workers={workers}: $validate / health", f"{ratio:.2f} by rate (target >= {TARGET_VS_HEALTH} on 1 worker)")
                    by_cpu = health["cpu_ms_per_request"] / validate["cpu_ms_per_request"]
                    row(f"workers={workers}: $validate / health, by server CPU", f"{by_cpu:.2f} (the rate ratio if CPU-bound)")
                    out["configs"][workers] = {"health": health, "validate": validate, "ratio": ratio, "ratio_cpu": by_cpu}
            except RuntimeError as exc:
                row(f"workers={workers}", f"failed: {exc}")
    configs = out["configs"]
    if 1 in configs and 2 in configs and configs[1]["validate"]["rps"]:
        scale = configs[2]["validate"]["rps"] / configs[1]["validate"]["rps"]
        out["two_vs_one"] = scale
        row("$validate: 2 workers / 1 worker", f"{scale:.2f} (target >= {TARGET_TWO_WORKERS})")
        out["met"] = configs[1]["ratio"] >= TARGET_VS_HEALTH and scale >= TARGET_TWO_WORKERS
        row("verdict", "MET" if out["met"] else "NOT MET")
    if out["startup_s"]:
        worst = max(out["startup_s"])
        out["met_startup"] = worst <= STARTUP_TARGET_S
        verdict = "MET" if out["met_startup"] else "NOT MET"
        row("serve healthy within", f"{worst:.2f} s worst (target <= {STARTUP_TARGET_S:.0f} s): {verdict}")
    return out
