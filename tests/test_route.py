"""validator.normalise.route: Dosage.route as SNOMED CT, HL7 v3, EDQM or text -> a profile route, inferred, or unknown.

Codes: SNOMED 26643006 Oral route, 72607000 Intrathecal route, 47625008 Intravenous route, 255560000 Intravenous
(legacy qualifier value sent by HL7's R4 examples), 54485002 Ophthalmic route; HL7 v3 RouteOfAdministration PO / IT /
IV; EDQM 20053000 Oral use, 20042000 Intrathecal use.
"""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B.codeableconcept import CodeableConcept

from validator import check
from validator.normalise.route import normalise_route
from validator.profile import default_profiles

from .conftest import SNOMED, oral_order, rules_of

PROFILE = default_profiles().profiles[0]
V3 = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
EDQM = "http://standardterms.edqm.eu"
WHERE = "dosageInstruction[0]"
DOSAGE = ("dosageInstruction", 0)


def route(concept: dict[str, Any] | None, form: str | None = None) -> Any:
    model = CodeableConcept.model_validate(concept) if concept is not None else None
    return normalise_route(model, form, PROFILE, DOSAGE)


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (SNOMED, "26643006", "oral"),
        (SNOMED, "72607000", "intrathecal"),
        (SNOMED, "47625008", "intravenous"),
        (SNOMED, "255560000", "intravenous"),
        (V3, "PO", "oral"),
        (V3, "IT", "intrathecal"),
        (V3, "IV", "intravenous"),
        (EDQM, "20053000", "oral"),
        (EDQM, "20042000", "intrathecal"),
    ],
)
def test_coded_route(system: str, code: str, expected: str) -> None:
    facts = route({"coding": [{"system": system, "code": code}]})
    assert facts.route == expected
    assert not facts.inferred and not facts.unlisted
    assert facts.expression == "dosageInstruction[0].route"
    assert facts.written == code


def test_coding_display_is_what_the_order_says() -> None:
    facts = route({"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}], "text": "by mouth"})
    assert facts.route == "oral" and facts.written == "by mouth"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("PO", "oral"), ("po", "oral"), ("by mouth", "oral"), ("Oral", "oral"), ("IT", "intrathecal"), ("IV", "intravenous")],
)
def test_text_route(text: str, expected: str) -> None:
    assert route({"text": text}).route == expected


def test_longer_phrase_inside_free_text() -> None:
    assert route({"text": "Intrathecal via implanted pump"}).route == "intrathecal"


def test_short_abbreviation_is_only_matched_whole() -> None:
    # "it" must not be found inside "with"; "po" not inside "port"
    assert route({"text": "take with food"}).route is None
    assert route({"text": "via port"}).route is None


def test_code_without_system_read_as_text() -> None:
    assert route({"coding": [{"code": "PO"}]}).route == "oral"


@pytest.mark.parametrize("text", ["take with food", "zzz", "per rectum?"])
def test_unknown_text_is_not_a_route(text: str) -> None:
    facts = route({"text": text})
    assert facts.route is None and not facts.unlisted
    assert facts.written == text


def test_unknown_text_is_route_unverified() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["route"] = {"text": "as directed"}
    findings = [f for f in check(order).findings if f.rule == "route-unverified"]
    assert len(findings) == 1
    assert findings[0].expression == "MedicationRequest.dosageInstruction[0].route"
    assert "'as directed'" in findings[0].text


def test_unlisted_real_route_code() -> None:
    facts = route({"coding": [{"system": SNOMED, "code": "54485002", "display": "Ophthalmic route"}]})
    assert facts.route is None and facts.unlisted
    assert facts.written == "Ophthalmic route"


def test_unlisted_real_route_is_not_permitted() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["route"] = {"coding": [{"system": SNOMED, "code": "54485002", "display": "Ophthalmic route"}]}
    report = check(order)
    assert "route-not-permitted" in rules_of(report)
    assert "route-unverified" not in rules_of(report)


def test_local_code_system_is_unrecognised_not_forbidden() -> None:
    facts = route({"coding": [{"system": "http://hospital.example.org/routes", "code": "R17"}]})
    assert facts.route is None and not facts.unlisted


@pytest.mark.parametrize(("form", "expected"), [("tablet", "oral"), ("intrathecal-solution", "intrathecal")])
def test_route_inferred_from_a_single_route_form(form: str, expected: str) -> None:
    facts = route(None, form)
    assert facts.route == expected and facts.inferred
    assert facts.expression == WHERE  # nothing written: the finding points at the dosage


def test_no_inference_when_the_form_has_several_routes() -> None:
    # an oral solution can be swallowed or given down a feeding tube
    facts = route(None, "oral-solution")
    assert facts.route is None and not facts.inferred


def test_no_route_and_no_form() -> None:
    facts = route(None, None)
    assert facts.route is None and not facts.inferred and facts.written == ""


def test_tablet_order_without_route_is_checked_as_oral() -> None:
    order = oral_order(30, frequency=4)
    del order["dosageInstruction"][0]["route"]
    report = check(order)
    assert "route-unverified" not in rules_of(report)
    # the oral maximum applied, so the oral route was inferred: 30 mg x 4 = 120 mg > 80 mg
    assert "daily-dose-exceeds-maximum" in rules_of(report)


def test_written_route_wins_over_the_form() -> None:
    facts = route({"coding": [{"system": SNOMED, "code": "72607000"}]}, "tablet")
    assert facts.route == "intrathecal" and not facts.inferred


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [("urn:oid:2.16.840.1.113883.5.112", "PO", "oral"), ("urn:oid:2.16.840.1.113883.6.96", "72607000", "intrathecal")],
)
def test_code_system_sent_as_its_oid(system: str, code: str, expected: str) -> None:
    # urn:oid:2.16.840.1.113883.5.112 is HL7 v3 RouteOfAdministration, 2.16.840.1.113883.6.96 is SNOMED CT
    facts = route({"coding": [{"system": system, "code": code}]})
    assert facts.route == expected and not facts.unlisted


def test_oral_tablet_coded_with_the_v3_oid_is_not_a_forbidden_route() -> None:
    order = oral_order()
    order["dosageInstruction"][0]["route"] = {"coding": [{"system": "urn:oid:2.16.840.1.113883.5.112", "code": "PO"}]}
    assert "route-not-permitted" not in rules_of(check(order))


def test_known_code_without_display_or_text() -> None:
    facts = route({"coding": [{"system": SNOMED, "code": "72607000"}]})
    assert facts.route == "intrathecal" and facts.written == "72607000"


@pytest.mark.parametrize(
    ("coding", "expected"),
    [
        ({"system": "http://vendor.example.org/route", "code": "PO"}, "oral"),
        ({"system": "http://vendor.example.org/route", "code": "15", "display": "By mouth"}, "oral"),
        ({"system": "http://vendor.example.org/route", "code": "G7", "display": "per G-tube"}, "enteral-tube"),
        ({"system": "http://vendor.example.org/route", "code": "IT1", "display": "Intrathecal"}, "intrathecal"),
    ],
)
def test_vendor_route_codings_read_by_their_words(coding: dict[str, str], expected: str) -> None:
    assert route({"coding": [coding]}).route == expected


def test_vendor_coding_with_unreadable_words_stays_unknown() -> None:  # the look-alike: no guess from a number
    facts = route({"coding": [{"system": "http://vendor.example.org/route", "code": "15", "display": "Route 15"}]})
    assert facts.route is None and not facts.unlisted
