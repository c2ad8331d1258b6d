"""The start-up cache (validator/disk_cache.py) is only used in a private folder, and a profile's schema check is
skipped only for exactly the content that passed it (issue 16)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import orjson
import pytest

from validator import disk_cache, profile
from validator.profile import PACKAGED_PROFILES, ProfileError, compile_profile


@pytest.fixture
def cache_at(monkeypatch: pytest.MonkeyPatch):
    def use(folder: Path | str) -> None:
        monkeypatch.setenv(disk_cache.CACHE_VARIABLE, str(folder))
        disk_cache.cache_dir.cache_clear()

    yield use
    disk_cache.cache_dir.cache_clear()


def test_a_private_folder_is_used_and_created_private(tmp_path: Path, cache_at) -> None:
    cache_at(tmp_path / "medval")
    folder = disk_cache.cache_dir()
    assert folder == tmp_path / "medval"
    assert not folder.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)


def test_a_folder_others_may_write_is_refused(tmp_path: Path, cache_at) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)  # noqa: S103 - the unsafe folder under test
    cache_at(shared)
    assert disk_cache.cache_dir() is None
    assert disk_cache.cache_file("anything") is None


def test_an_empty_setting_turns_the_cache_off(cache_at) -> None:
    cache_at("")
    assert disk_cache.cache_dir() is None


def _baclofen() -> dict:
    return orjson.loads((PACKAGED_PROFILES / "baclofen.json").read_bytes())


def test_a_passed_schema_check_is_remembered_for_that_content_only(tmp_path: Path, cache_at) -> None:
    cache_at(tmp_path / "cache")
    data = _baclofen()
    compile_profile(data, Path("baclofen.json"))
    assert list((tmp_path / "cache").glob("profile-schema-ok-*"))  # remembered
    broken = _baclofen()
    broken["drug"]["codes"] = "not a list"  # other content: checked again, and refused
    with pytest.raises(ProfileError):
        compile_profile(broken, Path("baclofen.json"))


def test_a_failed_schema_check_is_never_remembered(tmp_path: Path, cache_at) -> None:
    cache_at(tmp_path / "cache")
    broken = _baclofen()
    del broken["drug"]
    for _ in range(2):  # refused both times: nothing was kept from the first
        with pytest.raises(ProfileError):
            compile_profile(broken, Path("baclofen.json"))
    assert not list((tmp_path / "cache").glob("profile-schema-ok-*"))
    assert profile.jsonschema.Draft202012Validator  # the lazily loaded module is the real one
