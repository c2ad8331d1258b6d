"""A real `medval serve` process on a free loopback port, for the tests that need sockets, timeouts and workers."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
# Serve another tree's validator/ (e.g. an older commit unpacked with `git archive`) to reproduce a finding on it.
SERVE_ROOT = Path(os.environ.get("MEDVAL_SERVE_ROOT", ROOT))


@dataclass
class Served:
    base: str
    port: int
    log: Path
    pid: int

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(tmp: Path, workers: int = 1, max_files: int | None = None, **env: str) -> Iterator[Served]:
    """`max_files`: the server's file descriptor limit (soft and hard), as in a container's default 1024."""
    port = free_port()
    log_path = tmp / f"serve-{port}.log"
    log = log_path.open("wb")
    command = [sys.executable, "-m", "validator.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    environment = {**os.environ, "PYTHONPATH": str(SERVE_ROOT), **env}

    def limit_files() -> None:
        if max_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))

    process = subprocess.Popen(
        command, cwd=SERVE_ROOT, env=environment, stderr=log, start_new_session=True, preexec_fn=limit_files if max_files else None
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            assert process.poll() is None, f"medval serve exited early: {log_path.read_text()[-2000:]}"
        else:
            raise AssertionError("medval serve did not become ready in 40 s")
        yield Served(base, port, log_path, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its own workers, nothing else
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
