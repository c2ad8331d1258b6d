"""FHIR JSON answers, serialised with orjson, and the OpenAPI description of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from .media import FHIR_JSON, answer_media_type


class FHIRResponse(Response):
    media_type = FHIR_JSON

    def __init__(self, content: Any, status_code: int = 200, headers: Mapping[str, str] | None = None, fhir_version: str = "4.0") -> None:
        super().__init__(content, status_code, headers, media_type=answer_media_type(fhir_version))

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


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


def outcome_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": OPERATION_OUTCOME_SCHEMA}}}


def resource_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {FHIR_JSON: {"schema": FHIR_RESOURCE_SCHEMA}}}
