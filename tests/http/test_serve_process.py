"""One run against a real `medval serve` process with two workers on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from ..conftest import ROOT, oral_order
from .conftest import FHIR_JSON, MR_VALIDATE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("serve") / "stderr.log").open("wb")  # a file, not a pipe nobody drains
    # `python -m validator.cli` from the checkout, so this tree's validator/ is the one served.
    command = [sys.executable, "-m", "validator.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
            assert process.poll() is None, f"medval serve exited early; see {log.name}"
        else:
            pytest.fail("medval serve did not become ready in 30 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its own workers, nothing else
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_a_real_server_validates_and_survives_hostile_input(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as http:
        ok = http.post(MR_VALIDATE, content=orjson.dumps(oral_order()), headers={"content-type": FHIR_JSON, "x-request-id": "real-1"})
        assert ok.status_code == 200 and ok.json()["resourceType"] == "OperationOutcome"
        assert ok.headers["x-request-id"] == "real-1" and ok.headers["content-type"].startswith(FHIR_JSON)
        assert http.post(MR_VALIDATE, content=b"{broken", headers={"content-type": FHIR_JSON}).status_code == 400
        assert http.post(MR_VALIDATE, content=b"<x/>", headers={"content-type": "application/xml"}).status_code == 400  # XML, not FHIR
        assert http.post(MR_VALIDATE, content=b"<x/>", headers={"content-type": "text/plain"}).status_code == 415

        def chunks() -> Iterator[bytes]:
            for _ in range(6 * 1024):
                yield b" " * 1024  # 6 MB, chunked: over the default 5 MB limit

        try:
            too_big = http.post(MR_VALIDATE, content=chunks(), headers={"content-type": FHIR_JSON})
            assert too_big.status_code == 413
        except httpx.TransportError:
            pass  # the server may close the connection once it has answered 413 mid-upload
        assert http.get("/fhir/metadata").json()["resourceType"] == "CapabilityStatement"
        assert http.get("/health").status_code == 200
