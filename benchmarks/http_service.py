"""3. HTTP: POST /fhir/MedicationRequest/$validate against GET /health on the same server, 1, 2 and 4 workers.

An asyncio httpx load generator keeps 32 requests in flight for a fixed time per configuration.
Also: time from `medval serve` to the first 200 from /health.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx

from .common import ROOT, heading, ms, row, subprocess_env
from .orders import order_bytes

VALIDATE_PATH = "/fhir/MedicationRequest/$validate"
HEALTH_PATH = "/health"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
IN_FLIGHT = 32
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


async def _load(base: str, method: str, path: str, body: bytes | None, seconds: float, warmup: float) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:
        start = time.perf_counter()
        measure_from = start + warmup
        stop = measure_from + seconds

        async def one_client() -> None:
            nonlocal errors
            while True:
                sent = time.perf_counter()
                if sent >= stop:
                    return
                try:
                    response = await client.request(method, path, content=body, headers=FHIR_JSON if body else None)
                    status = response.status_code
                except httpx.HTTPError:
                    status = -1
                done = time.perf_counter()
                if sent >= measure_from:
                    latencies.append(done - sent)
                    statuses[status] = statuses.get(status, 0) + 1
                    errors += status != 200

        await asyncio.gather(*(one_client() for _ in range(IN_FLIGHT)))
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": n / seconds,
        "p50": latencies[n // 2] if n else float("nan"),
        "p99": latencies[min(n - 1, int(n * 0.99))] if n else float("nan"),
        "errors": errors,
        "statuses": statuses,
    }


def _probe(base: str, body: bytes) -> int:
    with httpx.Client(base_url=base, timeout=30.0) as client:
        return client.post(VALIDATE_PATH, content=body, headers=FHIR_JSON).status_code


def _fmt(result: dict[str, Any]) -> str:
    text = f"{result['rps']:,.0f} req/s, p50 {ms(result['p50'])}, p99 {ms(result['p99'])}"
    if result["errors"]:
        text += f" ({result['errors']:,} non-200: {result['statuses']})"
    return text


def run(quick: bool = False) -> dict[str, Any]:
    heading(f"3. HTTP: POST {VALIDATE_PATH} vs GET {HEALTH_PATH}, {IN_FLIGHT} requests in flight")
    seconds, warmup = (2.0, 0.5) if quick else (5.0, 1.0)
    body = order_bytes()
    row("load generator", f"asyncio + httpx in one process on the same machine ({os.cpu_count()} cores), {seconds:.0f} s per run")
    out: dict[str, Any] = {"startup_s": [], "configs": {}}
    for workers in (1, 2, 4):
        try:
            with Server(workers) as server:
                assert server.ready_after is not None
                out["startup_s"].append(server.ready_after)
                row(f"workers={workers}: serve -> first 200 /health", f"{server.ready_after:.2f} s")
                health = asyncio.run(_load(server.base, "GET", HEALTH_PATH, None, seconds, warmup))
                row(f"workers={workers}: GET {HEALTH_PATH} (baseline)", _fmt(health))
                config: dict[str, Any] = {"health": health}
                status = _probe(server.base, body)
                if status == 404:
                    row(f"workers={workers}: POST {VALIDATE_PATH}", "endpoint not available (404)")
                    config["validate"] = "endpoint not available (404)"
                elif status != 200:
                    row(f"workers={workers}: POST {VALIDATE_PATH}", f"answered {status}, expected 200; not measured")
                    config["validate"] = f"status {status}"
                else:
                    result = asyncio.run(_load(server.base, "POST", VALIDATE_PATH, body, seconds, warmup))
                    config["validate"] = result
                    row(f"workers={workers}: POST {VALIDATE_PATH}", _fmt(result))
                    row(f"workers={workers}: $validate / health throughput", f"{result['rps'] / health['rps']:.2f}")
                out["configs"][workers] = config
        except RuntimeError as exc:
            row(f"workers={workers}", f"failed: {exc}")
    if out["startup_s"]:
        worst = max(out["startup_s"])
        out["met_startup"] = worst <= STARTUP_TARGET_S
        row(
            "serve healthy within",
            f"{worst:.2f} s worst of {len(out['startup_s'])} (target <= {STARTUP_TARGET_S:.0f} s): "
            + ("MET" if out["met_startup"] else "NOT MET"),
        )
    return out
