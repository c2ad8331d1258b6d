"""Content negotiation: which bodies are FHIR JSON or FHIR XML, which FHIR version they declare, what the caller accepts.

The answer's format follows the `_format` query parameter when it is given (FHIR's override for clients that cannot
set Accept), else the Accept header; JSON wins a tie. `_format` naming a format medval does not write is a 406, never
a silent JSON answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problems import RequestProblem

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON_TYPES = frozenset({FHIR_JSON, "application/json", "application/json+fhir"})  # the last: pre-R4 servers still send it
XML_TYPES = frozenset({FHIR_XML, "application/xml", "text/xml", "application/xml+fhir"})
ACCEPTABLE_ANSWERS = JSON_TYPES | {"application/*", "*/*"}
JSON, XML = "json", "xml"
FORMAT_NAMES = {JSON: JSON, XML: XML, **dict.fromkeys(JSON_TYPES, JSON), **dict.fromkeys(XML_TYPES, XML)}
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


def body_format(content_type: str | None) -> str:
    """json or xml, from the Content-Type (none: JSON, judged on its contents); 415 for anything else."""
    if not content_type or not content_type.strip():
        return JSON
    essence = parse_media_type(content_type).essence
    if essence in JSON_TYPES:
        return JSON
    if essence in XML_TYPES:
        return XML
    raise RequestProblem(
        415, "not-supported", f"The media type {essence[:100]!r} is not supported; send application/fhir+json or application/fhir+xml."
    )


def body_fhir_version(content_type: str | None) -> str | None:
    """The FHIR version the Content-Type declares (None: recognise it by shape); 415 unless it is FHIR JSON or XML."""
    if not content_type or not content_type.strip():
        return None  # lenient: a body with no Content-Type is read as JSON and judged on its contents
    body_format(content_type)
    media = parse_media_type(content_type)
    declared = media.parameters.get("fhirversion")
    if declared is None:
        return None
    if declared not in FHIR_VERSIONS:
        shown = declared[:20]
        raise RequestProblem(
            415, "not-supported", f"fhirVersion={shown} is not supported; medval reads 4.0 (R4, the default) and 5.0 (R5)."
        )
    return FHIR_VERSIONS[declared]


def answer_format(format_parameter: str | None, accept: str | None) -> str:
    """json or xml for the answer: `_format` first, then Accept (best quality; JSON on a tie); 406 when neither fits."""
    if format_parameter is not None:
        chosen = FORMAT_NAMES.get(parse_media_type(format_parameter).essence)
        if chosen is None:
            shown = format_parameter[:60]
            message = f"_format={shown!r} is not a format medval writes; use json, xml, {FHIR_JSON} or {FHIR_XML}."
            raise RequestProblem(406, "not-supported", message, about_input=False)
        return chosen
    if not accept or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for item in accept.split(","):
        media = parse_media_type(item)
        quality = _quality(media.parameters.get("q"))
        kind = JSON if media.essence in ACCEPTABLE_ANSWERS else XML if media.essence in XML_TYPES else None
        if kind is None or quality <= 0:
            continue
        candidate = (quality, 1 if kind == JSON else 0, kind)
        if best is None or candidate > best:
            best = candidate
    if best is None:
        raise RequestProblem(
            406, "not-supported", f"The Accept header allows no answer medval gives; it answers {FHIR_JSON} or {FHIR_XML}."
        )
    return best[2]


def check_accept(accept: str | None) -> None:
    """406 unless the caller accepts an answer medval writes (FHIR JSON or FHIR XML)."""
    answer_format(None, accept)


def _quality(quality: str | None) -> float:
    try:
        return 1.0 if quality is None else float(quality)
    except ValueError:
        return 1.0


def answer_media_type(version: str, answer: str = JSON) -> str:
    return f"{FHIR_XML if answer == XML else FHIR_JSON}; fhirVersion={version}"
