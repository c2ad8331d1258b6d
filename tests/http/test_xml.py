"""FHIR XML in and out: every official HL7 R4 MedicationRequest example and medval's own examples, written as XML by
FHIR.js (the `fhir` npm package, tools/hl7_examples_to_xml.js), get the same rule codes as their JSON; answers follow
`_format` and Accept; hostile XML is a quick 4xx.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.operationoutcome import OperationOutcome
from lxml import etree

from validator.fhir_xml import xml_to_json
from validator.http.app import create_app
from validator.http.settings import HttpSettings, Settings

from ..conftest import FIXTURES, ROOT
from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE, Client, rule_codes

FHIR_XML = "application/fhir+xml"
HL7_XML = sorted((FIXTURES / "hl7" / "r4-xml").glob("MedicationRequest-*.xml"))
HL7_BUNDLES_XML = sorted((FIXTURES / "hl7" / "r4-bundles-xml").glob("*.xml"))
MEDVAL_XML = sorted((FIXTURES / "medval-xml").glob("*/*.xml"))
FHIR_NS = "{http://hl7.org/fhir}"


@pytest.fixture(scope="module")
def client() -> Client:
    return Client(create_app(Settings(http=HttpSettings(max_body_bytes=1024 * 1024))))


def _json_twin(xml_path: Path) -> Path:
    if xml_path.parent.parent.name == "medval-xml":
        return ROOT / "examples" / xml_path.parent.name / f"{xml_path.stem}.json"
    return xml_path.parent.parent / xml_path.parent.name.removesuffix("-xml") / f"{xml_path.stem}.json"


def _post(client: Client, path: str, body: bytes, content_type: str, **headers: str) -> httpx.Response:
    return client.request("POST", path, content=body, headers={"content-type": content_type, **headers})


def _xml_codes(response: httpx.Response) -> list[str]:
    """Rule codes read from an XML OperationOutcome with lxml alone (not medval's writer reading itself)."""
    root = etree.fromstring(response.content)
    assert root.tag == f"{FHIR_NS}OperationOutcome"
    return [c.get("value") for c in root.iterfind(f"{FHIR_NS}issue/{FHIR_NS}details/{FHIR_NS}coding/{FHIR_NS}code")]


def test_the_xml_fixtures_are_there() -> None:
    assert len(HL7_XML) == 40 and len(HL7_BUNDLES_XML) >= 10 and len(MEDVAL_XML) >= 45
    assert all(_json_twin(p).exists() for p in HL7_XML + HL7_BUNDLES_XML + MEDVAL_XML)


@pytest.mark.parametrize("path", HL7_XML, ids=lambda p: p.stem)
def test_hl7_example_as_xml_is_read_as_its_json(path: Path) -> None:
    from_xml, version = xml_to_json(path.read_bytes())
    assert version == "4.0"
    original = json.loads(_json_twin(path).read_bytes())
    # both through the same model, so 1 and 1.0 compare equal; the narrative is compared apart from its whitespace
    read, expected = (
        MedicationRequest.model_validate(d).model_dump(mode="json", exclude_none=True) for d in (json.loads(from_xml), original)
    )
    read_div, expected_div = read.pop("text", {}).pop("div", ""), expected.pop("text", {}).pop("div", "")
    assert read == expected
    assert "".join(read_div.split()) == "".join(expected_div.split())


@pytest.mark.parametrize("path", HL7_XML + HL7_BUNDLES_XML, ids=lambda p: p.stem)
def test_hl7_example_posted_as_xml_gets_the_json_verdict(client: Client, path: Path) -> None:
    endpoint = MR_VALIDATE if path.stem.startswith("MedicationRequest") else BUNDLE_VALIDATE
    as_json = client.request("POST", endpoint, content=_json_twin(path).read_bytes(), headers={"content-type": FHIR_JSON})
    as_xml = _post(client, endpoint, path.read_bytes(), FHIR_XML, accept=FHIR_XML)
    assert as_xml.status_code == as_json.status_code
    assert as_xml.headers["content-type"].startswith(FHIR_XML)
    assert _xml_codes(as_xml) == rule_codes(as_json)
    OperationOutcome.model_validate_xml(as_xml.content)  # and it is valid FHIR XML


EXPECTED = {
    **{f"orders/{k.split('/', 1)[1]}": v for k, v in json.loads((ROOT / "examples" / "EXPECTED.json").read_text()).items()},
    **{f"context/{k}": v for k, v in json.loads((ROOT / "examples" / "context" / "EXPECTED.json").read_text()).items()},
}


@pytest.mark.parametrize("path", MEDVAL_XML, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_medval_example_as_xml_gets_the_same_rule_codes(client: Client, path: Path) -> None:
    twin = _json_twin(path)
    endpoint = BUNDLE_VALIDATE if json.loads(twin.read_bytes())["resourceType"] == "Bundle" else MR_VALIDATE
    as_json = client.request("POST", endpoint, content=twin.read_bytes(), headers={"content-type": FHIR_JSON})
    as_xml = _post(client, endpoint, path.read_bytes(), "application/xml", accept="application/json")  # XML in, JSON out
    if path.stem == "input-invalid-frequency":
        # the model refuses it while reading the XML: 400 input-invalid, where the JSON gets 200 with the structural
        # error at its element beside the clinical findings the conformance layer lets run
        assert as_xml.status_code == 400 and rule_codes(as_xml) == ["input-invalid"]
        assert as_json.status_code == 200 and "input-invalid" in rule_codes(as_json)
        return
    assert as_xml.status_code == 200 and as_xml.headers["content-type"].startswith(FHIR_JSON)
    assert rule_codes(as_xml) == rule_codes(as_json)


def test_the_medval_examples_with_findings_are_in_the_xml_set() -> None:
    # not only out-of-scope orders: the XML set carries real findings (dose, route, context rules)
    stems = {p.stem for p in MEDVAL_XML}
    assert {"oral-max-exceeded", "intrathecal-coded-as-iv", "renal-egfr-low", "titration-too-fast-oral"} <= stems
    assert any(codes and "not-in-scope" not in codes for key, codes in EXPECTED.items() if key.rsplit("/", 1)[-1][:-5] in stems)


@pytest.mark.parametrize("fmt", ["xml", FHIR_XML, "application/xml", "text/xml"])
def test_format_xml_answers_xml(client: Client, fmt: str) -> None:
    body = (FIXTURES / "medval-xml" / "orders" / "oral-max-exceeded.xml").read_bytes()
    response = client.request("POST", MR_VALIDATE, params={"_format": fmt}, content=body, headers={"content-type": "text/xml"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(FHIR_XML)
    assert "daily-dose-exceeds-maximum" in _xml_codes(response)


@pytest.mark.parametrize("fmt", ["json", FHIR_JSON])
def test_format_json_overrides_an_xml_accept(client: Client, fmt: str) -> None:
    body = (ROOT / "examples" / "orders" / "oral-max-exceeded.json").read_bytes()
    response = client.request(
        "POST", MR_VALIDATE, params={"_format": fmt}, content=body, headers={"content-type": FHIR_JSON, "accept": FHIR_XML}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith(FHIR_JSON)
    assert "daily-dose-exceeds-maximum" in rule_codes(response)


@pytest.mark.parametrize("fmt", ["html", "text/html", "turtle", "ttl", ""])
def test_an_unknown_format_is_406_in_json(client: Client, fmt: str) -> None:
    response = client.get("/fhir/metadata", params={"_format": fmt})
    assert response.status_code == 406 and response.headers["content-type"].startswith(FHIR_JSON)
    assert "_format" in response.json()["issue"][0]["details"]["text"]


def test_accept_chooses_by_quality(client: Client) -> None:
    assert client.get("/fhir/metadata", headers={"accept": FHIR_XML}).headers["content-type"].startswith(FHIR_XML)
    assert client.get("/fhir/metadata", headers={"accept": f"{FHIR_XML};q=0.5, {FHIR_JSON}"}).headers["content-type"].startswith(FHIR_JSON)
    assert client.get("/fhir/metadata", headers={"accept": f"{FHIR_XML}, {FHIR_JSON};q=0.5"}).headers["content-type"].startswith(FHIR_XML)
    assert client.get("/fhir/metadata", headers={"accept": "*/*"}).headers["content-type"].startswith(FHIR_JSON)


def test_metadata_and_operation_definitions_in_xml(client: Client) -> None:
    metadata = client.get("/fhir/metadata", params={"_format": "xml"})
    statement = CapabilityStatement.model_validate_xml(metadata.content)
    assert {"xml", "json"} <= set(statement.format)
    definition = client.get("/fhir/OperationDefinition/MedicationRequest-validate", params={"_format": "xml"})
    assert etree.fromstring(definition.content).tag == f"{FHIR_NS}OperationDefinition"


def test_error_answers_follow_the_format_too(client: Client) -> None:
    missing = client.get("/fhir/OperationDefinition/nothing-here", params={"_format": "xml"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(FHIR_XML)
    broken = _post(client, MR_VALIDATE, b"{broken", FHIR_JSON, accept=FHIR_XML)
    assert broken.status_code == 400 and _xml_codes(broken) == ["input-invalid"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<MedicationRequest xmlns="http://hl7.org/fhir"><status value="active"/><intent value="order"/>
<medicationCodeableConcept><text value="&lol9;"/></medicationCodeableConcept><subject><reference value="Patient/x"/></subject>
</MedicationRequest>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<MedicationRequest xmlns="http://hl7.org/fhir"><status value="active"/><intent value="order"/>
<medicationCodeableConcept><text value="&xxe;"/></medicationCodeableConcept><subject><reference value="Patient/x"/></subject>
</MedicationRequest>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE MedicationRequest SYSTEM "http://example.org/evil.dtd">
<MedicationRequest xmlns="http://hl7.org/fhir"><status value="active"/></MedicationRequest>"""
DEEP = b'<MedicationRequest xmlns="http://hl7.org/fhir">' + b"<extension>" * 300 + b"</extension>" * 300 + b"</MedicationRequest>"
HOSTILE = {
    "billion-laughs": BILLION_LAUGHS,
    "external-entity": XXE,
    "external-dtd": EXTERNAL_DTD,
    "deep-nesting": DEEP,
    "not-well-formed": b'<MedicationRequest xmlns="http://hl7.org/fhir"><status value="active">',
    "not-fhir": b"<order><drug>baclofen</drug></order>",
    "unknown-element": b'<MedicationRequest xmlns="http://hl7.org/fhir"><dosage value="lots"/></MedicationRequest>',
    "unknown-resource": b'<Prescription xmlns="http://hl7.org/fhir"><id value="x"/></Prescription>',
    "empty": b"",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_xml_is_a_quick_4xx(client: Client, name: str) -> None:
    started = time.perf_counter()
    response = _post(client, MR_VALIDATE, HOSTILE[name], FHIR_XML)
    assert 400 <= response.status_code < 500, response.text
    assert time.perf_counter() - started < 2
    assert rule_codes(response) == ["input-invalid"]
    assert "root:" not in response.text  # nothing of /etc/passwd


def test_a_huge_xml_body_is_413(client: Client) -> None:
    body = b'<MedicationRequest xmlns="http://hl7.org/fhir">' + b'<note><text value="x"/></note>' * 60_000 + b"</MedicationRequest>"
    assert _post(client, MR_VALIDATE, body, FHIR_XML).status_code == 413


def test_safe_look_alikes_are_read(client: Client) -> None:
    # the words DOCTYPE and ENTITY escaped in a value, a comment and an XML declaration: ordinary FHIR XML, validated
    order = (FIXTURES / "medval-xml" / "orders" / "oral-max-exceeded.xml").read_bytes()
    order = order.replace(
        b"<status ", b'<!-- written by an interface engine --><note><text value="&lt;!DOCTYPE &amp; &lt;!ENTITY"/></note><status ', 1
    )
    response = _post(client, MR_VALIDATE, order, FHIR_XML)
    assert response.status_code == 200, response.text
    assert "daily-dose-exceeds-maximum" in rule_codes(response)
    nested = b'<MedicationRequest xmlns="http://hl7.org/fhir">' + b"<extension>" * 40 + b"</extension>" * 40 + b"</MedicationRequest>"
    assert "nested deeper" not in _post(client, MR_VALIDATE, nested, FHIR_XML).text  # 40 levels: read, not refused for depth


def test_an_r5_order_in_xml_is_read_as_r5(client: Client) -> None:
    # FHIR.js knows R4 only, so this XML is written by fhir.resources' R5 model: it tests the R4-then-R5 reading,
    # not the XML writer (the R4 fixtures above do that with an independent tool)
    from validator.fhir_xml import json_to_xml

    order = json.loads((ROOT / "examples/orders/r5-oral-codeablereference.json").read_text())
    as_json = client.request("POST", MR_VALIDATE, json=order, headers={"content-type": FHIR_JSON})
    as_xml = _post(client, MR_VALIDATE, json_to_xml(order, "5.0"), FHIR_XML, accept=FHIR_XML)
    assert as_xml.status_code == 200 and as_xml.headers["content-type"] == f"{FHIR_XML}; fhirVersion=5.0"
    assert _xml_codes(as_xml) == rule_codes(as_json)
    declared = _post(client, MR_VALIDATE, json_to_xml(order, "5.0"), f"{FHIR_XML}; fhirVersion=4.0")
    assert declared.status_code == 400 and "not a valid FHIR R4" in declared.text  # the declared version is believed
