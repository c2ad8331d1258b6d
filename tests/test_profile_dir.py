"""MEDVAL_PROFILE_DIR and `--profiles DIR`: a hospital's own profiles, added beside or replacing the packaged ones by id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validator.profile import ProfileError, ProfileSettings, default_profiles, load_profiles_with_overrides

from .conftest import ROOT, oral_order, rules_of
from .test_profile import BACLOFEN, zorbafen


@pytest.fixture
def hospital_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "hospital-profiles"
    folder.mkdir()
    (folder / "zorbafen.json").write_text(json.dumps(zorbafen()))
    return folder


def test_a_folder_adds_its_profiles_to_the_packaged_ones(hospital_dir: Path) -> None:
    ids = [p.id for p in load_profiles_with_overrides(str(hospital_dir)).profiles]
    assert ids == ["baclofen", "zorbafen"]


def test_a_profile_with_a_packaged_id_replaces_it(hospital_dir: Path) -> None:
    local = dict(BACLOFEN, version="2099.1.0-local")
    (hospital_dir / "baclofen-local.json").write_text(json.dumps(local))
    profiles = {p.id: p for p in load_profiles_with_overrides(str(hospital_dir)).profiles}
    assert profiles["baclofen"].version == "2099.1.0-local" and len(profiles) == 2


def test_no_folder_means_the_packaged_profiles_only() -> None:
    assert [p.id for p in load_profiles_with_overrides(None).profiles] == ["baclofen"]


def test_a_missing_or_empty_folder_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not a folder"):
        load_profiles_with_overrides(str(tmp_path / "nowhere"))
    with pytest.raises(ProfileError, match="no profiles"):
        load_profiles_with_overrides(str(tmp_path))


def test_the_environment_variable_is_read_at_the_edge_only(hospital_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator import check

    from .test_profile import zorbafen_order

    monkeypatch.setenv("MEDVAL_PROFILE_DIR", str(hospital_dir))
    assert [p.id for p in ProfileSettings().load().profiles] == ["baclofen", "zorbafen"]  # the edge reads it
    # the library does not: the packaged profiles, unless the caller passes others
    assert [p.id for p in default_profiles().profiles] == ["baclofen"]
    assert "not-in-scope" in rules_of(check(zorbafen_order()))
    assert "not-in-scope" not in rules_of(check(zorbafen_order(), profiles=ProfileSettings().load()))
    monkeypatch.delenv("MEDVAL_PROFILE_DIR")
    assert [p.id for p in ProfileSettings().load().profiles] == ["baclofen"]


def test_a_broken_profile_folder_in_the_environment_never_breaks_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator import check, validate

    monkeypatch.setenv("MEDVAL_PROFILE_DIR", str(tmp_path / "nonexistent"))
    assert rules_of(check(oral_order())) == ["patient-context-unavailable"]  # a plain 10 mg tid order, checked
    assert validate(oral_order()).issue
    with pytest.raises(ProfileError, match="not a folder"):
        ProfileSettings().load()  # the edge that reads it does say so


def test_the_service_honours_the_environment_variable(hospital_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from validator.http.app import create_app
    from validator.settings import Settings

    from .http.conftest import MR_VALIDATE, Client
    from .test_profile import zorbafen_order

    monkeypatch.setenv("MEDVAL_PROFILE_DIR", str(hospital_dir))
    client = Client(create_app(Settings()))  # what each `medval serve` worker builds, from its environment
    assert "zorbafen" in " ".join(client.get("/health").json()["profiles"]).lower()
    answer = client.post_json(MR_VALIDATE, zorbafen_order())
    codes = {c["code"] for i in answer.json()["issue"] for c in i["details"]["coding"]}
    assert "not-in-scope" not in codes and "daily-dose-above-usual" in codes


def _medval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "validator.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_version_lists_the_profiles_with_their_versions(hospital_dir: Path) -> None:
    result = _medval("--profiles", str(hospital_dir), "--version")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("medval ")
    assert any(line.strip().startswith(f"profile baclofen {BACLOFEN['version']}") for line in lines)
    assert any(line.strip().startswith(f"profile zorbafen {zorbafen()['version']}") for line in lines)


def test_validate_with_profiles_checks_the_hospital_drug(hospital_dir: Path, tmp_path: Path) -> None:
    from .test_profile import zorbafen_order

    order = tmp_path / "order.json"
    order.write_text(json.dumps(zorbafen_order()))
    without = _medval("validate", "--format", "json", str(order))
    with_dir = _medval("validate", "--profiles", str(hospital_dir), "--format", "json", str(order))
    codes = [{i["details"]["coding"][0]["code"] for i in json.loads(r.stdout)["issue"]} for r in (without, with_dir)]
    assert "not-in-scope" in codes[0]  # unknown drug without the folder
    assert "not-in-scope" not in codes[1] and "daily-dose-above-usual" in codes[1]


def test_validate_reads_the_environment_variable_in_its_worker_processes(hospital_dir: Path, tmp_path: Path) -> None:
    import os

    from .test_profile import zorbafen_order

    orders = tmp_path / "orders"
    orders.mkdir()
    for i in range(2):
        (orders / f"order-{i}.json").write_text(json.dumps(zorbafen_order()))
    environment = {**os.environ, "MEDVAL_PROFILE_DIR": str(hospital_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "validator.cli", "validate", "-j", "2", "--format", "json", str(orders)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=environment,
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2, result.stderr
    assert all("not-in-scope" not in json.dumps(r) and "daily-dose-above-usual" in json.dumps(r) for r in records)
