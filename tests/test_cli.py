"""`medval validate`: exit 0 / 1 / 2, the readable report, --format json, folders, NDJSON, bad files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from typer.testing import CliRunner

from validator.cli import app

from .conftest import ROOT, intrathecal_order, oral_order

runner = CliRunner()
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-02-14"}


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def run(*args: str) -> Any:
    return runner.invoke(app, ["validate", *args])


def medval(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as a shell or CI job runs it (stderr not a terminal)."""
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [sys.executable, "-m", "validator.cli", "validate", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_clean_order_exits_0(tmp_path: Path) -> None:
    result = run(str(write(tmp_path / "ok.json", oral_order(10, frequency=3))))
    assert result.exit_code == 0, result.output
    assert "patient-context-unavailable" in result.stdout
    assert "1 checked: 0 with errors" in result.stdout


def test_order_with_an_error_exits_1(tmp_path: Path) -> None:
    result = run(str(write(tmp_path / "high.json", oral_order(30, frequency=4))))
    assert result.exit_code == 1
    assert "daily-dose-exceeds-maximum" in result.stdout
    assert "Daily dose 120 mg exceeds the 80 mg/day oral maximum" in result.stdout


def test_warning_only_exits_0(tmp_path: Path) -> None:
    result = run(str(write(tmp_path / "it.json", intrathecal_order(900))))
    assert result.exit_code == 0
    assert "daily-dose-above-usual" in result.stdout
    assert "1 with warnings only" in result.stdout


def test_format_json_prints_a_valid_operation_outcome(tmp_path: Path) -> None:
    result = run("--format", "json", str(write(tmp_path / "high.json", oral_order(30, frequency=4))))
    assert result.exit_code == 1
    outcome = OperationOutcome.model_validate(json.loads(result.stdout))
    rules = [i.details.coding[0].code for i in outcome.issue]
    assert rules[0] == "daily-dose-exceeds-maximum"  # errors first
    assert outcome.issue[0].expression == ["MedicationRequest.dosageInstruction[0]"]


def test_format_json_of_a_clean_bundle(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": PATIENT}, {"resource": oral_order(5)}]}
    result = run("-f", "json", str(write(tmp_path / "b.json", bundle)))
    assert result.exit_code == 0
    outcome = json.loads(result.stdout)
    assert [i["details"]["coding"][0]["code"] for i in outcome["issue"]] == ["no-issues"]
    assert outcome["issue"][0]["expression"] == ["Bundle.entry[1].resource"]


def test_a_folder_means_every_json_and_ndjson_in_it(tmp_path: Path) -> None:
    write(tmp_path / "a.json", oral_order())
    write(tmp_path / "b.json", oral_order(30, frequency=4))
    (tmp_path / "notes.txt").write_text("not an order")
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert "2 checked: 1 with errors" in result.stdout


def test_ndjson_file_checks_each_line(tmp_path: Path) -> None:
    lines = [oral_order(), oral_order(30, frequency=4), intrathecal_order(400)]
    path = tmp_path / "orders.ndjson"
    path.write_text("\n".join(json.dumps(o) for o in lines) + "\n\n")
    result = run(str(path))
    assert result.exit_code == 1
    assert "3 checked: 1 with errors" in result.stdout
    assert f"{path}:2" in result.stdout.replace("\n", "")  # the readable report may wrap long labels


def test_parameters_wrapping_an_order(tmp_path: Path) -> None:
    parameters = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": oral_order(30, frequency=4)}]}
    assert run(str(write(tmp_path / "p.json", parameters))).exit_code == 1


def test_broken_json_exits_2_with_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "a-rather-long-file-name-for-a-broken-medication-request.json"
    path.write_text('{"resourceType": "MedicationRequest", broken')
    result = medval(str(path))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"medval: {path}: ") and "not valid JSON" in errors[0]


def test_unreadable_file_exits_2_with_a_one_line_error(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.json", oral_order())
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read anything (root)")
        result = medval(str(path))
    finally:
        path.chmod(0o644)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "cannot read" in errors[0]


def test_missing_file_exits_2_with_a_one_line_error(tmp_path: Path) -> None:
    result = medval(str(tmp_path / "no-such-order-file-anywhere-on-this-disk.json"))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr
    assert "no such file" in errors[0]


def test_wrong_resource_type_exits_2(tmp_path: Path) -> None:
    result = run(str(write(tmp_path / "patient.json", PATIENT)))
    assert result.exit_code == 2
    assert "Patient" in result.stderr


def test_json_that_is_not_an_object_exits_2(tmp_path: Path) -> None:
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    assert run(str(tmp_path / "list.json")).exit_code == 2


def test_unknown_format_exits_2(tmp_path: Path) -> None:
    result = run("--format", "xml", str(write(tmp_path / "ok.json", oral_order())))
    assert result.exit_code == 2
    assert "unknown --format" in result.stderr


def test_no_arguments_is_usage(tmp_path: Path) -> None:
    assert run().exit_code == 2


def test_r5_flag(tmp_path: Path) -> None:
    order = oral_order(30, frequency=4)
    order["medication"] = {"concept": order.pop("medicationCodeableConcept")}
    result = run("--fhir-version", "5.0", "--format", "json", str(write(tmp_path / "r5.json", order)))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["resourceType"] == "OperationOutcome"


def test_error_shows_the_path_exactly_as_written(tmp_path: Path) -> None:
    # rich markup must not eat "[draft]" out of a file name
    path = tmp_path / "order[draft].json"
    path.write_text("{")
    result = medval(str(path))
    assert result.returncode == 2
    assert f"medval: {path}: " in result.stderr


def test_bytes_that_are_not_utf8_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"resourceType": "MedicationRequest", "note": [{"text": "Lioresal® 10 mg"}]}'.encode("latin-1"))
    result = medval(str(path))
    assert result.returncode == 2
    assert "UTF-8" in result.stderr


def test_a_folder_walk_skips_json_that_is_no_fhir_resource_but_names_it(tmp_path: Path) -> None:
    write(tmp_path / "order.json", oral_order(5))
    write(tmp_path / "manifest.json", {"name": "not a resource"})
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert "manifest.json" in result.stderr and "skipped 1" in result.stderr
    assert "1 checked" in result.stdout


def test_a_named_file_that_is_no_fhir_resource_is_bad_input(tmp_path: Path) -> None:
    result = run(str(write(tmp_path / "manifest.json", {"name": "not a resource"})))
    assert result.exit_code == 2


def test_broken_json_in_a_folder_is_still_bad_input(tmp_path: Path) -> None:
    write(tmp_path / "order.json", oral_order(5))
    (tmp_path / "broken.json").write_text('{"resourceType": "MedicationRequest",')
    assert run(str(tmp_path)).exit_code == 2


def test_a_server_in_the_environment_is_contacted_only_with_patient_context(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """MEDVAL_FHIR_BASE_URL alone never makes `medval validate` call a server; --patient-context opts in."""
    import httpx
    import respx

    monkeypatch.setenv("MEDVAL_FHIR_BASE_URL", "https://fhir.example.org/r4")
    order = write(tmp_path / "o.json", oral_order(10, frequency=3, subject={"reference": "Patient/p1"}))
    with respx.mock(assert_all_called=False) as server:
        server.route(host="fhir.example.org").mock(return_value=httpx.Response(500))
        quiet = run("--format", "json", str(order))
        assert quiet.exit_code == 0 and not server.calls
        looked_up = run("--format", "json", str(order), "--patient-context")
        assert server.calls, looked_up.output
    text = json.loads(looked_up.stdout)["issue"][0]["details"]["text"]
    assert "the FHIR server gave no patient data" in text


def test_patient_context_without_a_server_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDVAL_FHIR_BASE_URL", raising=False)
    result = run(str(write(tmp_path / "o.json", oral_order())), "--patient-context")
    assert result.exit_code == 2
    assert "MEDVAL_FHIR_BASE_URL" in result.stderr
