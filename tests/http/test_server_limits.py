"""Issue 13, finding 5 on a real `medval serve`: no request, slow client or idle crowd stalls a worker.

One worker, short timeouts (2 s) so the suite stays quick; the defaults are 10 s for headers, 30 s for bodies.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.cds_support import SIGN, example
from tests.conftest import oral_order

from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE
from .real_server import Served, serving

LIMIT = 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {"MEDVAL_HEADER_TIMEOUT_S": "2", "MEDVAL_BODY_TIMEOUT_S": "2", "MEDVAL_MAX_CONNECTIONS": str(LIMIT)}
    with serving(tmp_path_factory.mktemp("limits"), workers=1, **env) as served:
        yield served


def _heavy_bundle(n: int = 1500) -> bytes:
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}}]
    for i in range(n):
        order = copy.deepcopy(oral_order(5))
        order["id"] = f"o{i}"
        entries.append({"resource": order})
    return orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})


def _heavy_cds() -> dict:
    body = example("order-sign-intravenous.json")  # 200 dosages by a forbidden route: 200 cards to build
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["dosageInstruction"] = [copy.deepcopy(order["dosageInstruction"][0]) for _ in range(200)]
    return body


def test_health_answers_within_a_second_while_the_worker_is_busy(server: Served) -> None:
    statuses: list[int] = []
    # bodies built before any request starts: building them in the probing process would slow the probe, not the server
    bundle, cds = _heavy_bundle(), orjson.dumps(_heavy_cds())

    def heavy(kind: str) -> None:
        with httpx.Client(base_url=server.base, timeout=60) as http:
            if kind == "bundle":
                response = http.post(BUNDLE_VALIDATE, content=bundle, headers={"content-type": FHIR_JSON})
            else:
                response = http.post(SIGN, content=cds, headers={"content-type": "application/json"})
            statuses.append(response.status_code)

    workers = [threading.Thread(target=heavy, args=(kind,)) for kind in ("bundle", "cds", "cds")]
    for worker in workers:
        worker.start()
    latencies: list[float] = []
    time.sleep(0.3)  # the heavy requests are in
    while any(w.is_alive() for w in workers):
        started = time.monotonic()
        try:
            ok = httpx.get(server.base + "/health", timeout=5).status_code == 200
        except httpx.TimeoutException:
            ok = False
        latencies.append(time.monotonic() - started if ok else 99.0)
        time.sleep(0.1)
    for worker in workers:
        worker.join()
    assert statuses == [200, 200, 200]
    assert len(latencies) >= 3, "the heavy requests finished too soon to probe: make them heavier"
    assert max(latencies) < 1.0, f"/health latencies while busy: {[round(x, 2) for x in latencies]}"


def _closed_within(sock: socket.socket, seconds: float, trickle: bytes) -> float | None:
    """Send one byte of `trickle` every 0.25 s; the time at which the server closed the connection, or None."""
    started = time.monotonic()
    sock.settimeout(0.25)
    for byte in trickle:
        if time.monotonic() - started > seconds:
            return None
        try:
            sock.sendall(bytes([byte]))
            data = sock.recv(65536)
            if data == b"":
                return time.monotonic() - started
            return time.monotonic() - started if data else None  # an answer (408) ends it too
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - started
    return None


def test_trickled_headers_are_cut_off(server: Served) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /fhir/MedicationRequest/$validate HTTP/1.1\r\nHost: medval\r\n")
        closed = _closed_within(sock, 8.0, b"X-Slow: " + b"a" * 200)
    assert closed is not None and closed < 5.0, closed


def test_a_trickled_body_is_answered_408(server: Served) -> None:
    body = orjson.dumps(oral_order())
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        head = f"POST {MR_VALIDATE} HTTP/1.1\r\nHost: medval\r\nContent-Type: {FHIR_JSON}\r\nContent-Length: {len(body)}\r\n\r\n"
        sock.sendall(head.encode())
        started = time.monotonic()
        sock.settimeout(0.25)
        answer = b""
        for byte in body:
            try:
                sock.sendall(bytes([byte]))
                answer += sock.recv(65536)
            except TimeoutError:
                pass
            except OSError:
                break
            if answer or time.monotonic() - started > 8:
                break
        answered_after = time.monotonic() - started
        sock.settimeout(2)
        while answer and b'"issue"' not in answer:  # the rest of the answer, if it came in pieces
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b'"resourceType":"OperationOutcome"' in answer
    assert answered_after < 5.0


def test_the_connection_limit_is_a_503_operation_outcome_and_idle_connections_are_dropped(server: Served) -> None:
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(LIMIT + 5)]
    try:
        time.sleep(0.2)
        refused = httpx.get(server.base + "/health", timeout=5)
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith(FHIR_JSON)
        assert refused.json()["resourceType"] == "OperationOutcome"
        time.sleep(3.0)  # the header timeout closes connections that never sent a request
        assert httpx.get(server.base + "/health", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()


def test_a_crowd_of_idle_connections_neither_exhausts_the_worker_nor_floods_the_log(tmp_path) -> None:
    # 1,100 idle connections against a worker limited to 1,024 file descriptors, as in a default container
    with serving(tmp_path, workers=1, max_files=1024, MEDVAL_HEADER_TIMEOUT_S="2", MEDVAL_MAX_CONNECTIONS=str(LIMIT)) as crowded:
        crowd = []
        try:
            for _ in range(1100):
                try:
                    crowd.append(socket.create_connection(("127.0.0.1", crowded.port), timeout=0.5))
                except OSError:
                    break
            time.sleep(3.0)  # past the header timeout: every idle connection the worker kept is closed
            assert httpx.get(crowded.base + "/health", timeout=5).status_code == 200
        finally:
            for sock in crowd:
                sock.close()
        time.sleep(0.5)
        log = crowded.log_text()
    assert "Traceback" not in log, log[-3000:]
    # bounded by the crowd: at most the refusal and its request line per connection (how many reach the worker
    # before the limit depends on the machine's load), never a traceback per connection
    assert log.count("\n") < 2 * 1100 + 100


def test_cds_call_lines_reach_the_log_under_uvicorn(server: Served) -> None:
    response = httpx.post(
        server.base + SIGN, json=example("order-sign-intravenous.json"), headers={"x-request-id": "cds-log-1"}, timeout=10
    )
    assert response.status_code == 200
    time.sleep(0.2)
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.startswith("{")]
    [call] = [x for x in lines if x.get("event") == "cds-call" and x.get("request_id") == "cds-log-1"]
    assert call["cards"] == ["critical:route-not-permitted"]
    assert all(not line.startswith("cds-") for line in server.log_text().splitlines())  # no plain-text lines
