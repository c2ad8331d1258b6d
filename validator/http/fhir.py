"""The FHIR endpoints: $validate for MedicationRequest and Bundle, metadata, OperationDefinitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from validator import Report, check
from validator.findings import Finding
from validator.outcome import issue_dict, outcome_dict

from .audit_trail import audit_validation
from .body import read_body
from .capability import OPERATION_DEFINITIONS, capability_statement
from .media import FHIR_JSON, body_fhir_version, check_accept
from .problems import RequestProblem
from .responses import FHIRResponse, outcome_response, resource_response

PROFILE_HEADER = "X-Medval-Profile"
BASE_DEFINITION = "http://hl7.org/fhir/StructureDefinition/"

router = APIRouter(prefix="/fhir", tags=["FHIR"])

_BODY_EXAMPLE = {
    "resourceType": "MedicationRequest",
    "status": "active",
    "intent": "order",
    "subject": {"reference": "Patient/example"},
    # the drug, strength and form as the EHR names them; which drugs are checked is up to the loaded profiles
    "medicationCodeableConcept": {"text": "<drug> <strength> <form>, or an RxNorm coding"},
}


def _validate_openapi(resource_type: str) -> dict[str, Any]:
    body_schema = {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "enum": [resource_type, "Parameters"]}},
        "description": f"A {resource_type}, or a Parameters with a 'resource' parameter holding one.",
    }
    content = {"schema": body_schema}
    if resource_type == "MedicationRequest":
        content["example"] = _BODY_EXAMPLE
    return {"requestBody": {"required": True, "content": {FHIR_JSON: content, "application/json": {"schema": body_schema}}}}


VALIDATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: outcome_response("The verdict, whatever it is (an order that breaks rules still gets 200)."),
    400: outcome_response("Not a FHIR resource medval can validate here: empty, broken JSON, wrong resource type, ..."),
    406: outcome_response("The Accept header allows no FHIR JSON answer."),
    413: outcome_response("The body is larger than the configured limit."),
    415: outcome_response("The body is not FHIR JSON, or declares an unsupported fhirVersion."),
    500: outcome_response("An unexpected failure (never expected; logged with the request id)."),
}


def _known_profile(requested: str, resource_type: str, profile_ids: dict[str, str]) -> bool:
    if requested in (BASE_DEFINITION + resource_type, BASE_DEFINITION + "MedicationRequest"):
        return True
    if requested in profile_ids.values():
        return True
    tail = requested.split("|", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return tail in profile_ids


def _unsupported_profile_issue(requested: str, applied: list[str]) -> dict[str, Any]:
    checked = ", ".join(applied) or "the loaded profiles"
    text = f"The requested profile {requested[:200]!r} is not one medval has; the input was checked against {checked}."
    issue = issue_dict(Finding("not-in-scope", text, "", "medval: loaded profiles"))
    issue["code"] = "not-supported"
    return issue


async def _validate(request: Request, resource_type: str, profile: str | None) -> FHIRResponse:
    settings = request.app.state.settings
    fhir_version = body_fhir_version(request.headers.get("content-type"))
    check_accept(request.headers.get("accept"))
    body = await read_body(request, settings.max_body_bytes)
    # Validation is CPU work: off the event loop, so health checks answer while a large Bundle is checked.
    report: Report = await run_in_threadpool(check, body, fhir_version=fhir_version, expected_type=resource_type)
    request.state.rule_codes = sorted({f.rule for f in report.findings})
    request.state.fhir_version = report.version
    outcome = outcome_dict(report.findings)
    requested = report.profiles_requested + ([profile] if profile else [])
    profile_ids: dict[str, str] = request.app.state.profile_ids
    outcome["issue"] += [
        _unsupported_profile_issue(p, report.profiles_applied) for p in requested if not _known_profile(p, resource_type, profile_ids)
    ]
    headers = {PROFILE_HEADER: ", ".join(report.profiles_applied)} if report.profiles_applied else None
    status = report.rejected.status if report.rejected else 200
    await audit_validation(request, resource_type, body, report, status)
    return FHIRResponse(outcome, status, headers, fhir_version=report.version)


_PROFILE_QUERY = Query(None, description="A medval drug profile (id or canonical URL); as in FHIR $validate, also accepted in Parameters.")
_MODE_QUERY = Query(None, description="FHIR $validate mode; accepted and ignored.")


@router.post(
    "/MedicationRequest/$validate",
    response_class=FHIRResponse,
    responses=VALIDATE_RESPONSES,
    openapi_extra=_validate_openapi("MedicationRequest"),
    summary="Validate one MedicationRequest",
)
async def validate_medication_request(
    request: Request, profile: str | None = _PROFILE_QUERY, mode: str | None = _MODE_QUERY
) -> FHIRResponse:
    return await _validate(request, "MedicationRequest", profile)


@router.post(
    "/Bundle/$validate",
    response_class=FHIRResponse,
    responses=VALIDATE_RESPONSES,
    openapi_extra=_validate_openapi("Bundle"),
    summary="Validate every MedicationRequest in a Bundle, the other entries serving as patient context",
)
async def validate_bundle(request: Request, profile: str | None = _PROFILE_QUERY, mode: str | None = _MODE_QUERY) -> FHIRResponse:
    return await _validate(request, "Bundle", profile)


@router.get("/metadata", response_class=FHIRResponse, responses={200: resource_response("The CapabilityStatement (FHIR R4).")})
async def metadata(request: Request) -> FHIRResponse:
    return FHIRResponse(capability_statement(request.app.version))


@router.get(
    "/OperationDefinition/{definition_id}",
    response_class=FHIRResponse,
    responses={200: resource_response("The OperationDefinition."), 404: outcome_response("No such OperationDefinition.")},
)
async def operation_definition(definition_id: str) -> FHIRResponse:
    definition = OPERATION_DEFINITIONS.get(definition_id)
    if definition is None:
        raise RequestProblem(404, "not-found", f"There is no OperationDefinition {definition_id[:100]!r}; see /fhir/metadata.", False)
    return FHIRResponse(definition)
