"""The machine-readable reports of `medval validate`: labelled NDJSON, SARIF 2.1.0, and one line per issue.

Each input document is labelled with its file and, for NDJSON input, its line (1-based); a whole-file document has
line None in NDJSON and line 1 in SARIF and the compact format (tools that read `file:line:` need a number).
"""

from __future__ import annotations

from typing import Any

import orjson

from . import __version__
from .findings import RULE_CATALOGUE

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://medval.dev"
RULE_SYSTEM = "https://medval.dev/fhir/CodeSystem/medval-rule"
SARIF_LEVEL = {"fatal": "error", "error": "error", "warning": "warning", "information": "note"}


def issue_rule(issue: dict[str, Any]) -> str:
    """The medval rule code of an OperationOutcome issue (the FHIR IssueType when it carries none)."""
    for coding in (issue.get("details") or {}).get("coding") or []:
        if coding.get("system") == RULE_SYSTEM:
            return str(coding.get("code"))
    return str(issue.get("code", ""))


def ndjson_record(file: str, line: int | None, outcome: dict[str, Any] | None, rejected: str | None = None) -> bytes:
    """One labelled result: {"file", "line", "outcome"} or, for input medval could not read, {"file", "line", "error"}."""
    record: dict[str, Any] = {"file": file, "line": line}
    if rejected is not None:
        record["error"] = rejected
    else:
        record["outcome"] = outcome
    return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)


def compact_lines(file: str, line: int | None, outcome: dict[str, Any] | None, rejected: str | None = None) -> bytes:
    """`file:line: severity rule-code expression: text`, one line per issue (newlines in texts folded)."""
    where = f"{file}:{line or 1}:"
    if rejected is not None:
        return f"{where} error input-invalid : {_one_line(rejected)}\n".encode()
    lines = []
    for issue in (outcome or {}).get("issue", []):
        expression = (issue.get("expression") or [""])[0]
        text = _one_line((issue.get("details") or {}).get("text", ""))
        lines.append(f"{where} {issue['severity']} {issue_rule(issue)} {expression}: {text}\n")
    return "".join(lines).encode()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def sarif_results(file: str, line: int | None, outcome: dict[str, Any] | None, rejected: str | None = None) -> list[dict[str, Any]]:
    """SARIF results for one document: level, message, the file (and line) and the FHIRPath as a logical location."""
    issues = [{"severity": "error", "details": {"text": rejected}, "code": "input-invalid"}] if rejected is not None else []
    issues += (outcome or {}).get("issue", [])
    results = []
    for issue in issues:
        expression = (issue.get("expression") or [""])[0]
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": file}, "region": {"startLine": line or 1}}}
        if expression:
            location["logicalLocations"] = [{"fullyQualifiedName": expression, "kind": "element"}]
        result: dict[str, Any] = {
            "ruleId": issue_rule(issue),
            "level": SARIF_LEVEL.get(issue["severity"], "note"),
            "message": {"text": (issue.get("details") or {}).get("text", "")},
            "locations": [location],
        }
        if issue.get("diagnostics"):
            result["properties"] = {"source": issue["diagnostics"]}
        results.append(result)
    return results


def sarif_log(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole SARIF 2.1.0 log: one run, its rules taken from medval's rule catalogue."""
    rules = [
        {
            "id": info.code,
            "shortDescription": {"text": info.summary},
            "defaultConfiguration": {"level": SARIF_LEVEL[info.severity]},
            "properties": {"fhirIssueType": info.issue_type},
        }
        for info in RULE_CATALOGUE.values()
    ]
    index = {rule["id"]: n for n, rule in enumerate(rules)}
    for result in results:
        if result["ruleId"] in index:
            result["ruleIndex"] = index[result["ruleId"]]
    driver = {"name": "medval", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
