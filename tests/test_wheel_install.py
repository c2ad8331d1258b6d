"""The built wheel on a fresh venv: profiles and schema come from the package, not from the source tree.

20 s on a quiet machine, a minute on a busy one (a wheel build and a pip install from the registry or its cache), so it
has its own target, `make wheel-test`, which .ci/run runs after `make test`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.wheel
EXAMPLE = ROOT / "examples" / "orders" / "oral-max-exceeded.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("MEDVAL_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv holding medval installed from its wheel."""
    work = tmp_path_factory.mktemp("wheel")
    env = _clean_env()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "dist"), str(ROOT)],
        check=True, env=env, cwd=work, capture_output=True, timeout=180,
    )  # fmt: skip
    (wheel,) = (work / "dist").glob("medval-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, env=env, timeout=120)
    bin_dir = work / "venv" / "bin"
    subprocess.run([bin_dir / "pip", "install", "--quiet", str(wheel)], check=True, env=env, cwd=work, capture_output=True, timeout=300)
    return bin_dir


def test_wheel_validates_an_example_from_a_fresh_venv(installed: Path, tmp_path: Path) -> None:
    env = _clean_env()
    version = subprocess.run([installed / "medval", "--version"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0, version.stderr
    assert "profile baclofen" in version.stdout and "site-packages" in version.stdout  # read from the installed package
    result = subprocess.run(
        [installed / "medval", "validate", "--format", "json", str(EXAMPLE)], env=env, cwd=tmp_path, capture_output=True, timeout=60
    )
    assert result.returncode == 1, result.stderr  # the example is an order above the maximum daily dose
    outcome = json.loads(result.stdout)
    codes = {i["details"]["coding"][0]["code"] for i in outcome["issue"]}
    assert "daily-dose-exceeds-maximum" in codes


def test_wheel_serves_health_from_a_fresh_venv(installed: Path, tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [installed / "medval", "serve", "--port", str(port)], env=_clean_env(), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    body = json.loads(response.read())
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
        assert body["status"] == "ok" and body["profiles"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"/web/app.js" in response.read()  # the web page ships as package data
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/web/app.js", timeout=5) as response:
            assert response.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/examples/orders/oral-max-exceeded", timeout=5) as response:
            assert json.loads(response.read())["resourceType"] == "MedicationRequest"
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert f"listening on http://127.0.0.1:{port}/" in server.stdout.read().decode()  # make serve shows where to go
