"""FHIR answers, JSON (orjson) or XML (fhir.resources' models), the format negotiated per request, and their OpenAPI description."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from validator.fhir_xml import json_to_xml

from .media import FHIR_JSON, FHIR_XML, JSON, XML, answer_format, answer_media_type
from .problems import RequestProblem


class FHIRResponse(Response):
    media_type = FHIR_JSON

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        fhir_version: str = "4.0",
        answer: str = JSON,
    ) -> None:
        self.fhir_version = fhir_version
        self.answer = answer
        super().__init__(content, status_code, headers, media_type=answer_media_type(fhir_version, answer))

    def render(self, content: Any) -> bytes:
        if self.answer == XML:
            return json_to_xml(content, self.fhir_version)
        return orjson.dumps(content)


def requested_answer(request: Request) -> str:
    """The format this request's answer is written in (406 RequestProblem when none fits)."""
    return answer_format(request.query_params.get("_format"), request.headers.get("accept"))


def answer_for_problem(request: Request) -> str:
    """The format for an error answer: the one asked for, or JSON when the asking itself was the problem."""
    try:
        return requested_answer(request)
    except RequestProblem:
        return JSON


OPERATION_OUTCOME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"type": "string", "enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "details": {"type": "object"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
FHIR_RESOURCE_SCHEMA: dict[str, Any] = {"type": "object", "required": ["resourceType"], "properties": {"resourceType": {"type": "string"}}}


_XML_SCHEMA: dict[str, Any] = {"type": "string", "description": "The same resource as FHIR XML."}


def outcome_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": OPERATION_OUTCOME_SCHEMA}, FHIR_XML: {"schema": _XML_SCHEMA}}}


def resource_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": FHIR_RESOURCE_SCHEMA}, FHIR_XML: {"schema": _XML_SCHEMA}}}
