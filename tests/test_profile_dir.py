"""MEDVAL_PROFILE_DIR and `--profiles DIR`: a hospital's own profiles, added beside or replacing the packaged ones by id."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from validator.profile import ProfileError, default_profiles, load_profiles_with_overrides

from .conftest import ROOT
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


def test_the_environment_variable_is_read(hospital_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDVAL_PROFILE_DIR", str(hospital_dir))
    assert [p.id for p in default_profiles().profiles] == ["baclofen", "zorbafen"]
    monkeypatch.delenv("MEDVAL_PROFILE_DIR")
    assert [p.id for p in default_profiles().profiles] == ["baclofen"]


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
