"""Requests medval cannot validate at all, and the OperationOutcome bodies that say why.

Every answer, 4xx and 5xx included, is an OperationOutcome. Request problems carry the
`input-invalid` rule code (the body is not a valid FHIR resource of an accepted type)
with the FHIR IssueType that fits the HTTP status; 404/405/500 are about the request
or the service, not the order, so they carry no rule code.
"""

from __future__ import annotations

from typing import Any

from validator.findings import Finding
from validator.outcome import issue_dict


class RequestProblem(Exception):
    """A request answered with a 4xx OperationOutcome before (or instead of) validation."""

    def __init__(self, status: int, issue_type: str, message: str, about_input: bool = True, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.issue_type = issue_type
        self.message = message
        self.about_input = about_input  # False: a problem with the request itself (no such endpoint), not with the body
        self.headers = headers  # e.g. WWW-Authenticate on a 401


def problem_outcome(problem: RequestProblem) -> dict[str, Any]:
    if not problem.about_input:
        return plain_outcome("error", problem.issue_type, problem.message)
    issue = issue_dict(Finding("input-invalid", problem.message))
    issue["code"] = problem.issue_type
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def plain_outcome(severity: str, issue_type: str, text: str) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": severity, "code": issue_type, "details": {"text": text}}]}
