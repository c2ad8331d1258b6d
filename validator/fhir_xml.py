"""FHIR XML in and out, through fhir.resources' own XML support (lxml underneath), with hostile input refused.

Reading: the XML is parsed by an lxml parser that never resolves entities, never loads a DTD and never touches
the network; a document with a DOCTYPE at all (billion laughs, external entities) is refused, and so is one nested
deeper than MAX_XML_DEPTH. The resource is then read into the fhir.resources model of its FHIR version (R4 as
R4B, or R5: the one named, else R4 then R5) and handed to the engine as FHIR JSON, so XML and JSON are judged by
the same code. Unlike JSON, a resource the model refuses is a 400 (the model reports no element paths for XML).
Writing: a resource (dict) is read into its model and written out with `model_dump_xml`.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .parse import R4, R5, model_class

FHIR_NAMESPACE = "http://hl7.org/fhir"
MAX_XML_DEPTH = 128  # deeper than any real order or Bundle (FHIR XML nests one level more than JSON per primitive)
MESSAGE_CHARS = 240  # how much of a parser's message an OperationOutcome quotes


class XmlInputError(ValueError):
    """XML medval will not read; the message is one sentence for an OperationOutcome."""


class NotFhirXml(XmlInputError):
    """Well-formed XML whose root is not in the FHIR namespace (a folder walk skips it, as it skips non-FHIR JSON)."""


def _parser() -> etree.XMLParser:
    # a new parser per call: lxml parsers are not safe to share between threads
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        dtd_validation=False,
    )


def _depth_exceeds(root: etree._Element, limit: int) -> bool:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > limit:
            return True
    return False


def read_xml_root(data: bytes) -> etree._Element:
    """The root element of a FHIR XML document, or XmlInputError for anything hostile, broken or not FHIR."""
    if not data.strip():
        raise XmlInputError("The body is empty.")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlInputError("The XML has a DOCTYPE or entity declarations; FHIR XML has none, and medval does not read them.")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlInputError(f"The body is not well-formed XML: {str(exc)[:MESSAGE_CHARS]}.") from None
    except ValueError as exc:  # e.g. an encoding declaration lxml refuses
        raise XmlInputError(f"The body is not XML medval can read: {str(exc)[:MESSAGE_CHARS]}.") from None
    if root.getroottree().docinfo.doctype:
        raise XmlInputError("The XML has a DOCTYPE; FHIR XML has none, and medval does not read it.")
    if _depth_exceeds(root, MAX_XML_DEPTH):
        raise XmlInputError(f"The XML is nested deeper than {MAX_XML_DEPTH} levels.")
    qname = etree.QName(root)
    if qname.namespace != FHIR_NAMESPACE:
        raise NotFhirXml(f"The root element is not in the FHIR namespace ({FHIR_NAMESPACE}), so it is not FHIR XML.")
    return root


def xml_to_json(data: bytes, fhir_version: str | None = None) -> tuple[bytes, str]:
    """(FHIR JSON bytes, version) for a FHIR XML document; XmlInputError when it cannot be read as a FHIR resource."""
    root = read_xml_root(data)
    resource_type = etree.QName(root).localname
    text = etree.tostring(root)
    first_error = ""
    for version in (fhir_version,) if fhir_version else (R4, R5):
        cls = model_class(resource_type, version)
        if cls is None:
            raise XmlInputError(f"{resource_type[:60]!r} is not a FHIR resource type.")
        try:
            model = cls.model_validate_xml(text, xmlparser=_parser())
        except Exception as exc:  # noqa: BLE001 (fhir.resources raises KeyError, ValueError, ValidationError... for bad XML)
            first_error = first_error or _one_line(exc)
            continue
        return model.model_dump_json(exclude_none=True).encode(), version
    named = {R4: "R4", R5: "R5"}.get(fhir_version or "", "R4 or R5")
    raise XmlInputError(f"The XML is not a valid FHIR {named} {resource_type[:60]}: {first_error}")


def _one_line(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"unknown element {exc.args[0]!r}." if exc.args else "unknown element."
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (" ".join(lines[:3])[:MESSAGE_CHARS] or type(exc).__name__) + ("" if lines and lines[-1].endswith(".") else ".")


def json_to_xml(resource: dict[str, Any], fhir_version: str = R4) -> bytes:
    """A resource (FHIR JSON as a dict) written as FHIR XML by its fhir.resources model."""
    cls = model_class(str(resource.get("resourceType", "")), R5 if fhir_version == R5 else R4)
    if cls is None:
        raise ValueError(f"not a FHIR resource type: {resource.get('resourceType')!r}")
    return cls.model_validate(resource).model_dump_xml(xml_declaration=True)
