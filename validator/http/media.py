"""Content negotiation: which bodies are FHIR JSON, which FHIR version they declare, what the caller accepts."""

from __future__ import annotations

from dataclasses import dataclass

from .problems import RequestProblem

FHIR_JSON = "application/fhir+json"
JSON_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir"})  # the last: pre-R4 servers still send it
ACCEPTABLE_ANSWERS = JSON_TYPES | {"application/*", "*/*"}
FHIR_VERSIONS = {"4.0": "4.0", "4.0.1": "4.0", "5.0": "5.0", "5.0.0": "5.0"}


@dataclass(frozen=True, slots=True)
class MediaType:
    essence: str  # "type/subtype", lower case
    parameters: dict[str, str]  # names lower case


def parse_media_type(value: str) -> MediaType:
    essence, _, rest = value.partition(";")
    parameters: dict[str, str] = {}
    for part in rest.split(";"):
        name, sep, raw = part.partition("=")
        if sep:
            parameters[name.strip().lower()] = raw.strip().strip('"')
    return MediaType(essence.strip().lower(), parameters)


def body_fhir_version(content_type: str | None) -> str | None:
    """The FHIR version the Content-Type declares (None: recognise it by shape); 415 unless it is FHIR JSON."""
    if not content_type or not content_type.strip():
        return None  # lenient: a body with no Content-Type is read as JSON and judged on its contents
    media = parse_media_type(content_type)
    if media.essence not in JSON_TYPES:
        shown = media.essence[:100]
        raise RequestProblem(
            415, "not-supported", f"The media type {shown!r} is not supported; send application/fhir+json or application/json."
        )
    declared = media.parameters.get("fhirversion")
    if declared is None:
        return None
    if declared not in FHIR_VERSIONS:
        shown = declared[:20]
        raise RequestProblem(
            415, "not-supported", f"fhirVersion={shown} is not supported; medval reads 4.0 (R4, the default) and 5.0 (R5)."
        )
    return FHIR_VERSIONS[declared]


def check_accept(accept: str | None) -> None:
    """406 unless the caller accepts FHIR JSON: every answer is application/fhir+json."""
    if not accept or not accept.strip():
        return
    for item in accept.split(","):
        media = parse_media_type(item)
        if media.essence in ACCEPTABLE_ANSWERS and not _refused(media.parameters.get("q")):
            return
    raise RequestProblem(406, "not-supported", "The Accept header allows no answer medval gives; it answers application/fhir+json.")


def _refused(quality: str | None) -> bool:
    try:
        return quality is not None and float(quality) <= 0
    except ValueError:
        return False


def answer_media_type(version: str) -> str:
    return f"{FHIR_JSON}; fhirVersion={version}"
