"""Two real workers (`medval serve --workers 2`) sharing one database, on SQLite and on PostgreSQL.

One run per database: 13 overrides read as 13 from every worker; a token used on one worker is refused on the
other; a worker killed (SIGKILL) in the middle of a burst of feedback leaves a consistent store; and after a
restart nothing is lost and the used token is still refused.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from tests.cds_support import SIGN, example
from tests.conftest import ROOT
from tests.http.real_server import free_port
from validator.store import make_engine
from validator.store import tables as t

PUBLIC_URL = "https://medval.example.org"
ISS = "https://ehr.example.org"
KEY = ec.generate_private_key(ec.SECP256R1())
PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
SUMMARY = "/cds-services/feedback-summary"


def token(path: str, jti: str | None = None) -> str:
    now = int(time.time())
    claims = {"iss": ISS, "aud": PUBLIC_URL + path, "exp": now + 300, "iat": now, "jti": jti or str(uuid.uuid4())}
    return jwt.encode(claims, KEY, algorithm="ES256", headers={"typ": "JWT"})


def thirteen_intravenous_orders() -> dict:
    """The intravenous example with 13 draft orders: one route card each."""
    request = example("order-sign-intravenous.json")
    [entry] = request["context"]["draftOrders"]["entry"]
    request["context"]["draftOrders"]["entry"] = [{"resource": {**copy.deepcopy(entry["resource"]), "id": f"iv-{i}"}} for i in range(13)]
    return request


class Server:
    """`python -m validator.cli serve --workers 2` from this checkout; its JSON log says which worker answered what."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MEDVAL_DATABASE_URL": database_url,
            "MEDVAL_CDS_CLIENTS": orjson.dumps([{"iss": ISS, "public_key": PEM}]).decode(),
            "MEDVAL_CDS_PUBLIC_URL": PUBLIC_URL,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        command = [sys.executable, "-m", "validator.cli", "serve", "--port", str(self.port), "--workers", "2"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while len(self.worker_pids()) < 2:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "two workers did not get ready in 60 s"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the server and its workers, nothing else
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None

    def events(self) -> list[dict]:
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            lines = log.read().splitlines()
        return [orjson.loads(line) for line in lines if line.startswith(b"{")]

    def worker_pids(self) -> list[int]:
        return sorted({e["pid"] for e in self.events() if e.get("event") == "ready"})

    def answered_by(self, request_id: str) -> int:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for event in self.events():
                if event.get("event") == "request" and event.get("request_id") == request_id:
                    return event["pid"]
            time.sleep(0.05)
        raise AssertionError(f"no log line for request {request_id}")

    def call(self, method: str, path: str, auth: str | None = None, **kwargs) -> httpx.Response:
        """A fresh connection per call, so the kernel may hand it to either worker."""
        headers = {"x-request-id": uuid.uuid4().hex, "connection": "close"}
        headers["authorization"] = f"Bearer {auth or token(path)}"
        return httpx.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


def _overridden(server: Server) -> list[int]:
    answers = []
    for _ in range(6):
        response = server.call("GET", SUMMARY)
        assert response.status_code == 200, response.text
        answers.append(response.json()["byRule"]["route-not-permitted"]["overridden"])
    return answers


def _replay_refused_on_the_other_worker(server: Server, used: str, first_pid: int) -> None:
    """Replays of a used token are all refused, and at least one of them by the worker that did not see it first."""
    pids = set()
    for _ in range(40):
        response = server.call("POST", SIGN, auth=used, json=example("order-sign-intravenous.json"))
        assert response.status_code == 401
        pids.add(server.answered_by(response.headers["x-request-id"]))
        if pids - {first_pid}:
            return
    pytest.fail(f"40 replays all reached worker {first_pid}; the other worker was never tried")


def _consistent(database_url: str) -> tuple[int, int]:
    """Every feedback row refers to an issued card; (feedback rows, cards)."""
    engine = make_engine(database_url)
    try:
        with engine.begin() as db:
            orphans = db.execute(
                select(func.count())
                .select_from(t.feedback.outerjoin(t.cards, t.feedback.c.card_uuid == t.cards.c.uuid))
                .where(t.cards.c.uuid.is_(None))
            ).scalar_one()
            rows = db.execute(select(func.count()).select_from(t.feedback)).scalar_one()
            cards = db.execute(select(func.count()).select_from(t.cards)).scalar_one()
            if engine.dialect.name == "sqlite":
                assert db.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert orphans == 0
        return rows, cards
    finally:
        engine.dispose()


def _burst(server: Server, cards: list[dict], outcomes: list[int], posts: int) -> None:
    """Posts of 13 items each (one per card): a post is stored whole or not at all."""
    items = [
        {
            "card": card["uuid"],
            "outcome": "accepted",
            "outcomeTimestamp": "2026-11-20T10:00:00Z",
            "acceptedSuggestions": [{"id": card["suggestions"][0]["uuid"]}],
        }
        for card in cards
    ]
    for _ in range(posts):
        try:
            response = server.call("POST", SIGN + "/feedback", json={"feedback": items})
            outcomes.append(response.json()["stored"] if response.status_code == 200 else -response.status_code)
        except httpx.TransportError:
            outcomes.append(-1)  # the connection died with the worker: not counted as stored


def test_two_workers_share_feedback_and_used_tokens_and_survive_a_kill_and_a_restart(databases, tmp_path):
    database_url = databases.clean_url()
    server = Server(database_url, tmp_path)
    server.start()
    try:
        # 13 cards issued by one worker, overridden through both: 13 from every worker
        response = server.call("POST", SIGN, json=thirteen_intravenous_orders())
        assert response.status_code == 200
        cards = [c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "route-not-permitted"]
        assert len(cards) == 13
        for card in cards:
            feedback = example("feedback-overridden.json")
            feedback["feedback"][0]["card"] = card["uuid"]
            assert server.call("POST", SIGN + "/feedback", json=feedback).json() == {"received": 1, "stored": 1}
        assert _overridden(server) == [13] * 6

        used = token(SIGN)
        first = server.call("POST", SIGN, auth=used, json=example("order-sign-intravenous.json"))
        assert first.status_code == 200
        _replay_refused_on_the_other_worker(server, used, server.answered_by(first.headers["x-request-id"]))
        # /metrics adds up both workers' counters: 14 route cards were issued, whichever worker issued them
        metrics = httpx.get(server.base + "/metrics", timeout=10)
        issued = [
            s.value
            for family in text_string_to_metric_families(metrics.text)
            for s in family.samples
            if s.name == "medval_cds_cards_issued_total" and s.labels.get("rule") == "route-not-permitted"
        ]
        assert sum(issued) == 14

        # SIGKILL one worker while feedback is being written through both
        outcomes: list[int] = []
        threads = [threading.Thread(target=_burst, args=(server, cards, outcomes, 20)) for _ in range(3)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(outcomes) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        answered_before_kill = len(outcomes)
        os.kill(server.worker_pids()[0], signal.SIGKILL)
        for thread in threads:
            thread.join(120)
        assert 6 <= answered_before_kill < len(outcomes) == 60  # the kill came in the middle of the burst
        stored_answers = sum(n for n in outcomes if n > 0)
        rows, stored_cards = _consistent(database_url)
        summary = server.call("GET", SUMMARY).json()
        accepted = summary["byRule"]["route-not-permitted"]["accepted"]
        assert rows == 13 + accepted and stored_cards >= 14  # the summary counts exactly the stored rows
        assert accepted % 13 == 0  # no post half-written
        assert stored_answers <= accepted <= 13 * len(outcomes)  # every post answered "stored" is there
        assert summary["byRule"]["route-not-permitted"]["overridden"] == 13
    finally:
        server.stop()

    server.start()  # a restart: new processes, the same database
    try:
        assert _overridden(server) == [13] * 6
        assert server.call("GET", SUMMARY).json()["byRule"]["route-not-permitted"]["accepted"] == accepted
        for _ in range(3):
            assert server.call("POST", SIGN, auth=used, json=example("order-sign-intravenous.json")).status_code == 401
        assert _consistent(database_url)[0] == rows
    finally:
        server.stop()
