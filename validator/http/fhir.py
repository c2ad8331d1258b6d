"""The FHIR endpoints: $validate for MedicationRequest and Bundle, metadata, OperationDefinitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Query, Request

from validator import ContextProvider, ProfileSet, Report, check
from validator.conformance import known_structure_definitions
from validator.fhir_xml import XmlInputError, xml_to_json
from validator.outcome import outcome_dict
from validator.settings import HttpSettings

from .audit_trail import audit_validation
from .body import read_body
from .capability import OPERATION_DEFINITIONS, capability_statement
from .cpu import run_cpu
from .fhir_access import context_provider_for
from .media import FHIR_JSON, FHIR_XML, XML, body_fhir_version, body_format
from .problems import RequestProblem
from .responses import FHIRResponse, outcome_response, requested_answer, resource_response

PROFILE_HEADER = "X-Medval-Profile"
BASE_DEFINITION = "http://hl7.org/fhir/StructureDefinition/"

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
    xml = {"schema": {"type": "string", "description": f"The {resource_type} (or Parameters) as FHIR XML."}}
    return {
        "requestBody": {
            "required": True,
            "content": {FHIR_JSON: content, "application/json": {"schema": body_schema}, FHIR_XML: xml, "application/xml": xml},
        }
    }


VALIDATE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: outcome_response("The verdict, whatever it is (an order that breaks rules still gets 200)."),
    400: outcome_response(
        "Not a FHIR resource medval can validate here (empty, broken JSON or XML, wrong resource type, ...), "
        "a profile medval does not have, or a mode outside create/update/delete/profile."
    ),
    401: outcome_response("No valid bearer token, when a FHIR server is configured for patient context (WWW-Authenticate: Bearer)."),
    403: outcome_response("The token grants no read access to patient records."),
    406: outcome_response("The Accept header or _format allows no answer medval writes (FHIR JSON or FHIR XML)."),
    408: outcome_response("The body did not arrive within the body read timeout (MEDVAL_BODY_TIMEOUT_S)."),
    413: outcome_response("The body is larger than the configured limit."),
    415: outcome_response("The body is neither FHIR JSON nor FHIR XML, or declares an unsupported fhirVersion."),
    500: outcome_response("An unexpected failure (never expected; logged with the request id)."),
}


def _known_profile(requested: str, resource_type: str, profile_ids: dict[str, str]) -> bool:
    if requested in (BASE_DEFINITION + resource_type, BASE_DEFINITION + "MedicationRequest"):
        return True
    if requested in profile_ids.values() or requested.split("|", 1)[0] in known_structure_definitions():
        return True  # a medval drug profile, or a StructureDefinition from MEDVAL_FHIR_PACKAGES (checked by the engine)
    tail = requested.split("|", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return tail in profile_ids


VALIDATION_MODES = ("create", "update", "delete", "profile")  # R4 value set resource-validation-mode


def _unknown_profile(requested: list[str], profile_ids: dict[str, str]) -> RequestProblem:
    """R4 Resource-validate: a server that cannot validate against a nominated profile SHALL return an error."""
    known = ", ".join(f"{pid} ({label})" for pid, label in profile_ids.items())
    shown = ", ".join(repr(p[:200]) for p in requested[:5])
    return RequestProblem(
        400, "not-supported", f"medval has no profile {shown}, so the input was not validated. It knows: {known}.", about_input=False
    )


def _requested_mode(query_mode: str | None, body: bytes) -> str | None:
    if query_mode is not None:
        return query_mode
    if b'"mode"' not in body:  # a cheap test before reading a Parameters body a second time
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict) or document.get("resourceType") != "Parameters":
        return None
    parameters = document.get("parameter")
    for parameter in parameters if isinstance(parameters, list) else []:  # a malformed Parameters is judged elsewhere
        if isinstance(parameter, dict) and parameter.get("name") == "mode":
            value = parameter.get("valueCode", parameter.get("valueString"))
            return value if isinstance(value, str) else ""
    return None


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in VALIDATION_MODES:
        shown = mode[:40]
        raise RequestProblem(400, "value", f"mode {shown!r} is not one of {', '.join(VALIDATION_MODES)}.", about_input=False)


@dataclass(frozen=True, slots=True)
class _Validation:
    """What every $validate call is checked with, fixed when the router is built."""

    settings: HttpSettings
    profiles: ProfileSet
    context_provider: ContextProvider | None  # a lone order's patient lookup, when the settings configure a server

    async def __call__(self, request: Request, resource_type: str, query: tuple[str | None, str | None]) -> FHIRResponse:
        return await _validate(self, request, resource_type, query)


async def _validate(run: _Validation, request: Request, resource_type: str, query: tuple[str | None, str | None]) -> FHIRResponse:
    """`query`: the profile and mode given as query parameters (None: not given)."""
    profile, mode = query
    profile_ids = {p.id: p.label for p in run.profiles.profiles}
    if profile and not _known_profile(profile, resource_type, profile_ids):
        raise _unknown_profile([profile], profile_ids)  # refused before a token is checked or a record fetched
    content_type = request.headers.get("content-type")
    fhir_version = body_fhir_version(content_type)
    answer = requested_answer(request)
    # 401/403 before the body is read, when patient data could be fetched
    provider = await context_provider_for(request, run.context_provider)
    body = await read_body(request, run.settings.max_body_bytes, run.settings.body_timeout_s)
    if body_format(content_type) == XML:
        try:
            body, fhir_version = await run_cpu(xml_to_json, body, fhir_version)
        except XmlInputError as exc:
            raise RequestProblem(400, "structure", str(exc)) from None
    _check_mode(_requested_mode(mode, body))
    # Validation is CPU work: off the event loop, so health checks answer while a large Bundle is checked.
    report: Report = await run_cpu(
        check,
        body,
        fhir_version=fhir_version,
        profiles=run.profiles,
        context_provider=provider,
        expected_type=resource_type,
        budget_s=run.settings.request_budget_s,
        requested_profiles=[profile] if profile else None,
    )
    request.state.rule_codes = sorted({f.rule for f in report.findings})
    request.state.fhir_version = report.version
    requested = report.profiles_requested  # the Parameters' profiles and ?profile=
    unknown = [p for p in requested if not _known_profile(p, resource_type, profile_ids)]
    if unknown:
        raise _unknown_profile(unknown, profile_ids)
    outcome = outcome_dict(report.findings)
    headers = {PROFILE_HEADER: ", ".join(report.profiles_applied)} if report.profiles_applied else None
    status = report.rejected.status if report.rejected else 200
    await audit_validation(request, resource_type, body, report, status)
    return FHIRResponse(outcome, status, headers, fhir_version=report.version, answer=answer)


_PROFILE_QUERY = Query(
    None,
    description="A medval drug profile (id or canonical URL); as in FHIR $validate, also accepted in Parameters. "
    "One medval does not have is a 400 OperationOutcome listing the profiles it has.",
)
_MODE_QUERY = Query(
    None,
    description="FHIR $validate mode: create, update, delete or profile (also accepted in Parameters); "
    "medval applies the same checks in every mode. Any other value is a 400.",
)
_FORMAT_QUERY = Query(
    None, alias="_format", description="The answer's format, overriding Accept: json, xml, application/fhir+json or application/fhir+xml."
)


_NOT_ACCEPTABLE = outcome_response("The Accept header or _format allows no answer medval writes (FHIR JSON or FHIR XML).")


def build_fhir_router(settings: HttpSettings, profiles: ProfileSet, context_provider: ContextProvider | None = None) -> APIRouter:
    """The FHIR endpoints, checking with these profiles and (for lone orders) this patient lookup."""
    router = APIRouter(prefix="/fhir", tags=["FHIR"])
    validation = _Validation(settings, profiles, context_provider)

    @router.post(
        "/MedicationRequest/$validate",
        response_class=FHIRResponse,
        responses=VALIDATE_RESPONSES,
        openapi_extra=_validate_openapi("MedicationRequest"),
        summary="Validate one MedicationRequest",
    )
    async def validate_medication_request(
        request: Request, profile: str | None = _PROFILE_QUERY, mode: str | None = _MODE_QUERY, _format: str | None = _FORMAT_QUERY
    ) -> FHIRResponse:
        return await validation(request, "MedicationRequest", (profile, mode))

    @router.post(
        "/Bundle/$validate",
        response_class=FHIRResponse,
        responses=VALIDATE_RESPONSES,
        openapi_extra=_validate_openapi("Bundle"),
        summary="Validate every MedicationRequest in a Bundle, the other entries serving as patient context",
    )
    async def validate_bundle(
        request: Request, profile: str | None = _PROFILE_QUERY, mode: str | None = _MODE_QUERY, _format: str | None = _FORMAT_QUERY
    ) -> FHIRResponse:
        return await validation(request, "Bundle", (profile, mode))

    @router.get(
        "/metadata",
        response_class=FHIRResponse,
        responses={200: resource_response("The CapabilityStatement (FHIR R4)."), 406: _NOT_ACCEPTABLE},
    )
    async def metadata(request: Request, _format: str | None = _FORMAT_QUERY) -> FHIRResponse:
        return FHIRResponse(capability_statement(request.app.version), answer=requested_answer(request))

    @router.get(
        "/OperationDefinition/{definition_id}",
        response_class=FHIRResponse,
        responses={
            200: resource_response("The OperationDefinition."),
            404: outcome_response("No such OperationDefinition."),
            406: _NOT_ACCEPTABLE,
        },
    )
    async def operation_definition(request: Request, definition_id: str, _format: str | None = _FORMAT_QUERY) -> FHIRResponse:
        answer = requested_answer(request)
        definition = OPERATION_DEFINITIONS.get(definition_id)
        if definition is None:
            raise RequestProblem(404, "not-found", f"There is no OperationDefinition {definition_id[:100]!r}; see /fhir/metadata.", False)
        return FHIRResponse(definition, answer=answer)

    return router
