"""`medval validate` for whole folders: stdin, labelled NDJSON, SARIF, the compact format, other resource types
counted in one line, the patient-context paragraph once per run, and a sweep of HL7's official R4 examples.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from typer.testing import CliRunner

from validator.cli import app
from validator.findings import RULE_CATALOGUE

from .conftest import FIXTURES, ROOT, oral_order

HL7 = FIXTURES / "hl7"
COMPACT_LINE = re.compile(
    r"^(?P<file>.+):(?P<line>\d+): (?P<severity>fatal|error|warning|information) (?P<rule>[a-z-]+) (?P<path>\S*): (?P<text>.+)$"
)
CONTEXT_PARAGRAPH = "Patient-dependent checks did not run"


@dataclass
class Run:
    returncode: int
    stdout: bytes
    stderr: bytes


def medval(*args: str, stdin: bytes | None = None) -> Run:
    """`medval validate ...` in process (typer's runner: stdin, stdout and stderr apart, no terminal)."""
    result = CliRunner().invoke(app, ["validate", *args], input=stdin or b"", env={"COLUMNS": "200"})
    return Run(result.exit_code, result.stdout_bytes, result.stderr_bytes)


def medval_process(*args: str) -> subprocess.CompletedProcess[bytes]:
    """The real command line, for the run that uses worker processes."""
    command = [sys.executable, "-m", "validator.cli", "validate", *args]
    return subprocess.run(command, capture_output=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, timeout=180)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Two orders (one over the maximum), an XML order, an NDJSON file, and other resources, as a folder holds them."""
    shutil.copy(ROOT / "examples/orders/oral-max-exceeded.json", tmp_path)
    shutil.copy(ROOT / "examples/orders/oral-tablet-tid.json", tmp_path)
    shutil.copy(FIXTURES / "medval-xml/orders/intrathecal-coded-as-iv.xml", tmp_path)
    lines = [json.dumps(oral_order()), json.dumps({"resourceType": "Patient", "id": "p1"}), json.dumps(oral_order(30, frequency=4))]
    (tmp_path / "batch.ndjson").write_text("\n".join(lines) + "\n")
    for name in ("Patient-ihe-pcd.json", "Observation-eye-color.json", "ValueSet-iso3166-1-N.json", "package.json"):
        shutil.copy(HL7 / "r4-other" / name, tmp_path)
    return tmp_path


def test_stdin_one_order(tmp_path: Path) -> None:
    result = medval("--format", "json", "-", stdin=(ROOT / "examples/orders/oral-max-exceeded.json").read_bytes())
    assert result.returncode == 1
    outcome = json.loads(result.stdout)  # one input: the OperationOutcome itself
    OperationOutcome.model_validate(outcome)
    assert "daily-dose-exceeds-maximum" in {i["details"]["coding"][0]["code"] for i in outcome["issue"]}


def test_stdin_ndjson_and_xml() -> None:
    ndjson = medval("--format", "compact", "-", stdin=(ROOT / "examples/orders/three-orders.ndjson").read_bytes())
    assert ndjson.returncode == 1
    labels = {m["line"] for line in ndjson.stdout.decode().splitlines() if (m := COMPACT_LINE.match(line))}
    assert labels == {"1", "2", "3"}
    xml = medval("-", stdin=(FIXTURES / "medval-xml/orders/oral-max-exceeded.xml").read_bytes())
    assert xml.returncode == 1 and b"daily-dose-exceeds-maximum" in xml.stdout


def test_several_inputs_as_labelled_ndjson(folder: Path) -> None:
    result = medval("--format", "json", str(folder))
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]  # every line one JSON record: no progress mixed in
    labels = {(Path(r["file"]).name, r["line"]) for r in records}
    assert labels == {
        ("oral-max-exceeded.json", None),
        ("oral-tablet-tid.json", None),
        ("intrathecal-coded-as-iv.xml", None),
        ("batch.ndjson", 1),
        ("batch.ndjson", 3),
    }
    for record in records:
        OperationOutcome.model_validate(record["outcome"])
    by_name = {(Path(r["file"]).name, r["line"]): r["outcome"] for r in records}
    codes = {i["details"]["coding"][0]["code"] for i in by_name[("intrathecal-coded-as-iv.xml", None)]["issue"]}
    assert codes & {"route-not-permitted", "route-inconsistent"}  # the XML file is checked, not skipped


def test_other_resources_are_counted_in_one_line_and_do_not_fail_the_run(folder: Path) -> None:
    for name in ("oral-max-exceeded.json", "intrathecal-coded-as-iv.xml"):
        (folder / name).unlink()  # leave no order with an error: the exit status is about the orders
    (folder / "batch.ndjson").write_text(json.dumps(oral_order()) + "\n" + json.dumps({"resourceType": "Patient"}) + "\n")
    (folder / "pom.xml").write_text("<project><modelVersion>4.0.0</modelVersion></project>")  # XML that is not FHIR
    result = medval(str(folder))
    assert result.returncode == 0, result.stderr
    skip_lines = [line for line in result.stderr.decode().splitlines() if line.startswith("medval: skipped")]
    assert len(skip_lines) == 1 and len(result.stderr.decode().strip().splitlines()) == 1
    assert "5 document(s)" in skip_lines[0] and "2 Patient" in skip_lines[0] and "1 Observation" in skip_lines[0]
    assert "1 XML document not in the FHIR namespace" in skip_lines[0]
    assert "package.json" in skip_lines[0]
    assert b"2 checked" in result.stdout


def test_a_named_resource_of_another_type_is_still_bad_input(tmp_path: Path) -> None:
    # the safe look-alike: named on its own, a Patient (or XML that is not FHIR) is a mistake worth exit 2, not a skip
    assert medval(str(HL7 / "r4-other" / "Patient-ihe-pcd.json")).returncode == 2
    (tmp_path / "pom.xml").write_text("<project/>")
    assert medval(str(tmp_path / "pom.xml")).returncode == 2


def test_the_patient_context_paragraph_is_shown_once_per_run(folder: Path) -> None:
    result = medval(str(folder))
    text = result.stdout.decode()
    assert text.count(CONTEXT_PARAGRAPH) == 1
    assert text.count("patient-context-unavailable") == 5  # each order still says its checks did not run
    assert "(as above)" in text


def test_compact_is_one_line_per_issue(folder: Path) -> None:
    result = medval("--format", "compact", str(folder))
    lines = result.stdout.decode().splitlines()
    matches = [COMPACT_LINE.match(line) for line in lines]
    assert lines and all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    assert any(m["rule"] == "daily-dose-exceeds-maximum" and m["path"].startswith("MedicationRequest.dosage") for m in matches if m)
    assert {m["line"] for m in matches if m and m["file"].endswith("batch.ndjson")} == {"1", "3"}


def test_sarif_2_1_0(folder: Path) -> None:
    result = medval("--format", "sarif", str(folder))
    assert result.returncode == 1
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0" and len(log["runs"]) == 1
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULE_CATALOGUE)
    assert run["results"]
    for result_ in run["results"]:
        assert result_["level"] in ("error", "warning", "note") and result_["message"]["text"]
        assert rules[result_["ruleIndex"]]["id"] == result_["ruleId"]
        (location,) = result_["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"].startswith(str(folder))
        assert location["physicalLocation"]["region"]["startLine"] >= 1
    over = [r for r in run["results"] if r["ruleId"] == "daily-dose-exceeds-maximum"]
    assert over and over[0]["level"] == "error"
    assert over[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("MedicationRequest.dosageInstruction")


def _official_r4_examples(tmp_path: Path) -> tuple[Path, bool]:
    """The whole npm package hl7.fhir.r4.examples@4.0.1 when MEDVAL_HL7_R4_DIR names its unpacked folder
    (`npm pack hl7.fhir.r4.examples@4.0.1`, 191 MB: not vendored); else the vendored part of it: every MedicationRequest,
    the Bundles, and a sample of other resource types and the package manifest."""
    full = os.environ.get("MEDVAL_HL7_R4_DIR")
    if full and Path(full).is_dir():
        return Path(full), True
    for sub in ("r4", "r4-bundles", "r4-other"):
        for path in (HL7 / sub).glob("*.json"):
            shutil.copy(path, tmp_path)
    return tmp_path, False


def test_the_official_r4_examples_sweep(tmp_path: Path) -> None:
    package, whole = _official_r4_examples(tmp_path)
    result = medval_process("--format", "json", "-j", "2", str(package))
    assert result.returncode == 0, result.stderr[-2000:]
    stderr = result.stderr.decode().strip().splitlines()
    assert len(stderr) == 1 and stderr[0].startswith("medval: skipped"), stderr  # one line says what was skipped
    checked = {Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()}
    orders = {p.name for p in package.glob("MedicationRequest-*.json")}
    assert len(orders) == 40 and orders <= checked  # every MedicationRequest checked
    assert {p.name for p in package.glob("Bundle-*.json")} <= checked
    if whole:
        assert "5222 document(s)" in stderr[0]
