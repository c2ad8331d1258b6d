"""FHIR conformance (validator/conformance): broken variants of one realistic baclofen order, each with its issue.

Every variant breaks one thing the core definitions forbid; the test names the issue expected (rule code
input-invalid, IssueType, FHIRPath). Beside them: the untouched order and the official R5 examples give no
structural issue at all, and the clinical layer never reads a value the structural layer rejected.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from validator import check, conformance, validate
from validator.conformance.ucum import is_valid

from .conftest import FIXTURES, UCUM, oral_order


def baclofen() -> dict[str, Any]:
    order = oral_order(dose=10, unit="mg", frequency=3)
    order["requester"] = {"reference": "Practitioner/pr-77", "display": "Dr R. Osei"}
    order["priority"] = "routine"
    order["identifier"] = [{"system": "urn:oid:2.16.840.1.113883.3.1234.5.1", "value": "ORD-1"}]
    order["note"] = [{"text": "Titrate slowly."}]
    dosage = order["dosageInstruction"][0]
    dosage["text"] = "10 mg by mouth three times a day"
    dosage["asNeededBoolean"] = False
    dosage["timing"]["repeat"]["boundsPeriod"] = {"start": "2026-11-20", "end": "2026-12-20"}
    dosage["maxDosePerPeriod"] = {
        "numerator": {"value": 80, "unit": "mg", "system": UCUM, "code": "mg"},
        "denominator": {"value": 1, "unit": "d", "system": UCUM, "code": "d"},
    }
    order["dispenseRequest"] = {"quantity": {"value": 90, "unit": "tablet", "system": UCUM, "code": "{tbl}"}, "numberOfRepeatsAllowed": 2}
    return order


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    steps = [int(s) if s.isdigit() else s for s in path.split(".")]

    def mutate(order: dict[str, Any]) -> None:
        node = order
        for step in steps[:-1]:
            node = node[step]
        if value is _DELETE:
            del node[steps[-1]]
        else:
            node[steps[-1]] = value

    return mutate


_DELETE = object()
D = "dosageInstruction.0"
R = f"{D}.timing.repeat"
DOSE = f"{D}.doseAndRate.0.doseQuantity"
MR = "MedicationRequest"


def _expr(path: str) -> str:
    text = MR
    for step in path.split("."):
        text += f"[{step}]" if step.isdigit() else f".{step}"
    return text


# (id, mutation, IssueType, FHIRPath of the issue)
VARIANTS: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    # required bindings
    ("status-bogus", _set("status", "bogus"), "code-invalid", _expr("status")),
    ("status-capitalised", _set("status", "Active"), "code-invalid", _expr("status")),
    ("intent-bogus", _set("intent", "prescription"), "code-invalid", _expr("intent")),
    ("priority-bogus", _set("priority", "normal"), "code-invalid", _expr("priority")),
    ("period-unit-days", _set(f"{R}.periodUnit", "days"), "code-invalid", _expr(f"{R}.periodUnit")),
    ("duration-unit-bogus", _set(f"{R}.durationUnit", "hours"), "code-invalid", _expr(f"{R}.durationUnit")),
    ("day-of-week-bogus", _set(f"{R}.dayOfWeek", ["monday"]), "code-invalid", _expr(f"{R}.dayOfWeek.0")),
    ("when-bogus", _set(f"{R}.when", ["BREAKFAST"]), "code-invalid", _expr(f"{R}.when.0")),
    ("comparator-bogus", _set(f"{DOSE}.comparator", "=<"), "code-invalid", _expr(f"{DOSE}.comparator")),
    # primitives: JSON types, no coercion
    ("frequency-string", _set(f"{R}.frequency", "4"), "structure", _expr(f"{R}.frequency")),
    ("frequency-zero", _set(f"{R}.frequency", 0), "value", _expr(f"{R}.frequency")),
    ("frequency-fraction", _set(f"{R}.frequency", 1.5), "value", _expr(f"{R}.frequency")),
    ("period-string", _set(f"{R}.period", "1"), "structure", _expr(f"{R}.period")),
    ("period-boolean", _set(f"{R}.period", True), "structure", _expr(f"{R}.period")),
    ("as-needed-string", _set(f"{D}.asNeededBoolean", "true"), "structure", _expr(f"{D}.asNeededBoolean")),
    ("dose-value-string", _set(f"{DOSE}.value", "10"), "structure", _expr(f"{DOSE}.value")),
    ("repeats-negative", _set("dispenseRequest.numberOfRepeatsAllowed", -1), "value", _expr("dispenseRequest.numberOfRepeatsAllowed")),
    ("sequence-string", _set(f"{D}.sequence", "1"), "structure", _expr(f"{D}.sequence")),
    # empty strings and nulls
    ("text-empty", _set(f"{D}.text", ""), "value", _expr(f"{D}.text")),
    ("text-whitespace", _set(f"{D}.text", "   "), "value", _expr(f"{D}.text")),
    ("display-empty", _set("requester.display", ""), "value", _expr("requester.display")),
    ("note-null", _set("note", [None]), "structure", _expr("note.0")),
    ("status-null", _set("status", None), "structure", _expr("status")),
    ("empty-array", _set("note", []), "structure", _expr("note")),
    ("empty-object", _set("note", [{}]), "structure", _expr("note.0")),
    # dates
    ("authored-on-us-format", _set("authoredOn", "11/20/2026"), "value", _expr("authoredOn")),
    ("authored-on-no-such-day", _set("authoredOn", "2026-02-30"), "value", _expr("authoredOn")),
    ("authored-on-time-without-zone", _set("authoredOn", "2026-11-20T09:10:00"), "value", _expr("authoredOn")),
    ("bounds-start-bad", _set(f"{R}.boundsPeriod.start", "2026-13-01"), "value", _expr(f"{R}.boundsPeriod.start")),
    # ids, references, systems
    ("id-with-space", _set("id", "oral 1"), "value", _expr("id")),
    ("reference-with-space", _set("subject", {"reference": "Patient 1042"}), "value", _expr("subject.reference")),
    ("requester-lowercase-type", _set("requester.reference", "practitioner/pr 77"), "value", _expr("requester.reference")),
    (
        "system-rxnorm",
        _set("medicationCodeableConcept.coding.0.system", "rxnorm"),
        "value",
        _expr("medicationCodeableConcept.coding.0.system"),
    ),
    ("identifier-system-relative", _set("identifier.0.system", "orders"), "value", _expr("identifier.0.system")),
    # units
    ("ucum-milligram", _set(f"{DOSE}.code", "milligram"), "code-invalid", _expr(f"{DOSE}.code")),
    ("ucum-mcg", _set(f"{DOSE}.code", "mcg"), "code-invalid", _expr(f"{DOSE}.code")),
    ("ucum-MG-megagauss", _set(f"{DOSE}.code", "MG"), "code-invalid", _expr(f"{DOSE}.code")),
    (
        "ucum-per-day-bad",
        _set(f"{D}.maxDosePerPeriod.denominator.code", "day"),
        "code-invalid",
        _expr(f"{D}.maxDosePerPeriod.denominator.code"),
    ),
    # structure
    ("unknown-property", _set("dosage", []), "structure", _expr("dosage")),
    ("repeating-as-object", _set("dosageInstruction", {"text": "x"}), "structure", _expr("dosageInstruction")),
    ("single-as-array", _set("subject", [{"reference": "Patient/p1"}]), "structure", _expr("subject")),
    ("missing-subject", _set("subject", _DELETE), "required", _expr("subject")),
    ("missing-intent", _set("intent", _DELETE), "required", _expr("intent")),
    ("two-choice-types", _set(f"{D}.asNeededCodeableConcept", {"text": "pain"}), "structure", _expr(f"{D}.asNeededCodeableConcept")),
    ("primitive-extension-bad", _set("_status", "x"), "structure", _expr("_status")),
    # invariants
    ("qty-3-code-without-system", _set(DOSE, {"value": 10, "code": "mg"}), "invariant", _expr(DOSE)),
    ("sqty-1-comparator", _set(DOSE, {"value": 10, "comparator": "<", "system": UCUM, "code": "mg"}), "invariant", _expr(DOSE)),
    (
        "per-1-end-before-start",
        _set(f"{R}.boundsPeriod", {"start": "2026-12-20", "end": "2026-11-20"}),
        "invariant",
        _expr(f"{R}.boundsPeriod"),
    ),
    ("tim-1-duration-without-unit", _set(f"{R}.duration", 30), "invariant", _expr(R)),
    ("tim-2-period-without-unit", _set(f"{R}.periodUnit", _DELETE), "invariant", _expr(R)),
    ("tim-5-negative-period", _set(f"{R}.period", -1), "invariant", _expr(R)),
    ("rat-1-denominator-without-numerator", _set(f"{D}.maxDosePerPeriod.numerator", _DELETE), "invariant", _expr(f"{D}.maxDosePerPeriod")),
    (
        "ext-1-value-and-extensions",
        _set("extension", [{"url": "http://x.org/e", "valueString": "a", "extension": [{"url": "b", "valueString": "c"}]}]),
        "invariant",
        _expr("extension.0"),
    ),
    (
        "dom-3-unreferenced-contained",
        _set("contained", [{"resourceType": "Medication", "id": "med1", "status": "active"}]),
        "invariant",
        MR,
    ),
    (
        "dom-2-nested-contained",
        _set("contained", [{"resourceType": "Medication", "id": "m", "contained": [{"resourceType": "Medication", "id": "n"}]}]),
        "invariant",
        MR,
    ),
    (
        "rng-2-low-above-high",
        _set(
            f"{D}.doseAndRate.0",
            {
                "doseRange": {
                    "low": {"value": 20, "unit": "mg", "system": UCUM, "code": "mg"},
                    "high": {"value": 10, "unit": "mg", "system": UCUM, "code": "mg"},
                }
            },
        ),
        "invariant",
        _expr(f"{D}.doseAndRate.0.doseRange"),
    ),
]


def _issues(order: dict[str, Any], version: str = "4.0") -> list[tuple[str, str, str]]:
    return [
        (i.issue_type, conformance.fhirpath(order["resourceType"], i.location), i.severity)
        for i in conformance.check(order, version).issues
    ]


def test_the_untouched_order_is_valid_fhir() -> None:
    assert _issues(baclofen()) == []


def test_there_are_at_least_forty_variants() -> None:
    assert len(VARIANTS) >= 40 and len({v[0] for v in VARIANTS}) == len(VARIANTS)


@pytest.mark.parametrize(("name", "mutate", "issue_type", "expression"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_broken_variant_gets_its_issue(name: str, mutate: Callable[[dict[str, Any]], None], issue_type: str, expression: str) -> None:
    order = baclofen()
    mutate(order)
    issues = _issues(order)
    assert (issue_type, expression) in [(t, e) for t, e, _ in issues], issues
    # and the engine reports it as input-invalid, structural issues first, with that IssueType and expression
    outcome = validate(json.dumps(order))
    first = outcome.issue[0]
    # an unknown system and an invalid UCUM code are warnings (reported; the unit's spelling is still read)
    assert first.severity == ("warning" if name == "route-system-unknown" or name.startswith("ucum-") else "error")
    assert first.details.coding[0].code == "input-invalid"
    assert any(i.code == issue_type and i.expression == [expression] for i in outcome.issue if i.details.coding[0].code == "input-invalid")


def test_a_bad_code_lists_the_allowed_values() -> None:
    order = baclofen()
    order["dosageInstruction"][0]["timing"]["repeat"]["periodUnit"] = "days"
    (issue,) = conformance.check(order, "4.0").issues
    assert "'days'" in issue.message and "allowed: a, d, h, min, mo, s, wk" in issue.message


def test_invariant_failures_name_their_key_and_human_text() -> None:
    order = baclofen()
    order["contained"] = [{"resourceType": "Medication", "id": "med1", "status": "active"}]
    (issue,) = conformance.check(order, "4.0").issues
    assert issue.key == "dom-3" and issue.severity == "error" and "SHALL be referred to from elsewhere" in issue.message
    order["medicationReference"] = {"reference": "#med1"}  # the safe look-alike: referenced, so valid
    del order["medicationCodeableConcept"]
    assert conformance.check(order, "4.0").issues == []


def test_a_narrative_free_order_gets_no_dom_6_noise() -> None:
    assert "text" not in baclofen() and _issues(baclofen()) == []


def test_a_rejected_dose_is_not_read_by_the_clinical_layer() -> None:
    high = baclofen()
    del high["dosageInstruction"][0]["maxDosePerPeriod"]  # it would cap the computed daily dose at 80 mg
    high["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = "50"  # 150 mg/day if coerced
    del high["dosageInstruction"][0]["text"]  # with its text, the dose would be read from the instructions instead
    rules = {f.rule for f in check(json.dumps(high)).findings}
    assert "input-invalid" in rules and "dose-unverified" in rules and "daily-dose-exceeds-maximum" not in rules
    same_as_number = baclofen()  # the look-alike as a JSON number: the clinical verdict stands
    del same_as_number["dosageInstruction"][0]["maxDosePerPeriod"]
    same_as_number["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 50
    rules = {f.rule for f in check(json.dumps(same_as_number)).findings}
    assert "input-invalid" not in rules and "daily-dose-exceeds-maximum" in rules


def test_a_rejected_frequency_makes_the_timing_unusable_not_once_a_day() -> None:
    order = baclofen()
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "three"
    del order["dosageInstruction"][0]["maxDosePerPeriod"]  # which alone would bound the daily dose
    del order["dosageInstruction"][0]["text"]  # which would supply the timing from the instructions
    rules = {f.rule for f in check(json.dumps(order)).findings}
    assert {"input-invalid", "frequency-unverified"} <= rules


def test_a_structural_error_does_not_hide_the_clinical_findings() -> None:
    order = baclofen()
    order["priority"] = "normal"
    del order["dosageInstruction"][0]["maxDosePerPeriod"]
    order["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] = 40  # 120 mg/day
    report = check(json.dumps(order))
    rules = [f.rule for f in report.findings]
    assert "input-invalid" in rules and "daily-dose-exceeds-maximum" in rules and "no-issues" not in rules


def test_a_bogus_status_is_read_as_unknown() -> None:
    order = baclofen()
    order["status"] = "bogus"
    cleaned = conformance.trusted_copy(order, conformance.check(order, "4.0").untrusted, "4.0")
    assert cleaned["status"] == "unknown" and order["status"] == "bogus"


def test_caller_dict_is_never_changed() -> None:
    order = baclofen()
    order["dosageInstruction"][0]["timing"]["repeat"]["frequency"] = "4"
    before = copy.deepcopy(order)
    check(order)
    assert order == before


@pytest.mark.parametrize(
    ("code", "valid"),
    [("mg", True), ("mg/kg/d", True), ("10*3/uL", True), ("{tbl}", True), ("mL/min/{1.73_m2}", True), ("[iU]", True), ("mg/(24.h)", True)]
    + [("milligram", False), ("mcg", False), ("mEq", False), ("ml/hr", False), ("mg/", False), ("{tbl", False), ("", False)],
)
def test_ucum_syntax(code: str, valid: bool) -> None:
    assert is_valid(code) is valid


R5 = sorted((FIXTURES / "hl7" / "r5").glob("MedicationRequest-*.json"))
BUNDLES = sorted((FIXTURES / "hl7" / "r4-bundles").glob("Bundle-*.json"))
# R4 Bundle-father's MedicationRequest gives a dose in 'tbl' with the UCUM system (not UCUM: '{tbl}' is)
R4_BUNDLE_DEFECTS = {"Bundle-father": "'tbl' is not a valid UCUM code"}


@pytest.mark.parametrize("path", R5, ids=lambda p: p.stem)
def test_official_r5_example_has_no_structural_error(path: Path) -> None:
    resource = json.loads(path.read_text())
    errors = [i for i in conformance.check(resource, "5.0").issues if i.severity == "error"]
    # mg/m2 is dose per body surface area: valid UCUM and a dose unit
    assert errors == []


@pytest.mark.parametrize("path", BUNDLES, ids=lambda p: p.stem)
def test_official_r4_bundle_has_no_structural_error(path: Path) -> None:
    errors = [i for i in conformance.check(json.loads(path.read_text()), "4.0").issues if i.severity == "error"]
    expected = R4_BUNDLE_DEFECTS.get(path.stem)
    assert [i.message for i in errors if expected is None or expected not in i.message] == []


def _bundle(**changes: Any) -> dict[str, Any]:
    entry = {"fullUrl": "urn:uuid:9b1b5e4c-64c3-4bb1-8a49-3b3c1b1b7f10", "resource": baclofen()}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [entry]}
    bundle.update(changes)
    return bundle


BUNDLE_VARIANTS = [
    ("bundle-type-bogus", {"type": "list"}, "code-invalid", "Bundle.type", ""),
    ("bdl-1-total-on-a-collection", {"total": 1}, "invariant", "Bundle", "bdl-1"),
    (
        "bdl-5-entry-with-nothing",
        {"entry": [{"fullUrl": "urn:uuid:9b1b5e4c-64c3-4bb1-8a49-3b3c1b1b7f11"}]},
        "invariant",
        "Bundle.entry[0]",
        "bdl-5",
    ),
    (
        "bdl-8-full-url-with-history",
        {"entry": [{"fullUrl": "http://x.org/fhir/MedicationRequest/1/_history/2", "resource": baclofen()}]},
        "invariant",
        "Bundle.entry[0]",
        "bdl-8",
    ),
    (
        "request-method-bogus",
        {"type": "transaction", "entry": [{"resource": baclofen(), "request": {"method": "SEND", "url": "MedicationRequest"}}]},
        "code-invalid",
        "Bundle.entry[0].request.method",
        "",
    ),
    (
        "entry-order-status-bogus",
        {"entry": [{"resource": {**baclofen(), "status": "bogus"}}]},
        "code-invalid",
        "Bundle.entry[0].resource.status",
        "",
    ),
]


@pytest.mark.parametrize(("name", "changes", "issue_type", "expression", "key"), BUNDLE_VARIANTS, ids=[v[0] for v in BUNDLE_VARIANTS])
def test_broken_bundle_gets_its_issue(name: str, changes: dict[str, Any], issue_type: str, expression: str, key: str) -> None:
    bundle = _bundle(**changes)
    issues = [(i.issue_type, conformance.fhirpath("Bundle", i.location), i.key) for i in conformance.check(bundle, "4.0").issues]
    assert (issue_type, expression, key) in issues, issues


def test_the_untouched_bundle_is_valid_fhir() -> None:
    assert conformance.check(_bundle(), "4.0").issues == []


def test_kept_verdicts_never_change_an_answer() -> None:
    """Invariant verdicts are reused per shape of what they read: warm answers equal cold ones, in any order."""
    from validator.conformance import invariants

    documents = []
    for _name, mutate, *_expected in VARIANTS:
        order = baclofen()
        mutate(order)
        documents.append(order)
    documents += [_bundle(**changes) for _n, changes, *_rest in BUNDLE_VARIANTS] + [baclofen(), _bundle()]
    cold = []
    for document in documents:
        invariants.clear_memo()
        cold.append(conformance.check(document, "4.0").issues)
    warm = [conformance.check(document, "4.0").issues for document in documents]
    warm_reversed = [conformance.check(document, "4.0").issues for document in reversed(documents)][::-1]
    assert warm == cold and warm_reversed == cold


def test_a_missing_required_element_is_reported_once() -> None:
    order = baclofen()
    del order["subject"]
    at_subject = [f for f in check(json.dumps(order)).findings if f.expression == "MedicationRequest.subject"]
    assert [(f.rule, f.issue_type) for f in at_subject] == [("input-invalid", "required")]


def test_the_parameters_envelope_is_checked_and_the_order_inside_it() -> None:
    order = baclofen()
    order["status"] = "bogus"
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": order},
            {"name": "mode", "valueCode": "create", "part": [{"name": "x", "valueString": "y"}]},
        ],
    }
    structural = [(f.issue_type, f.expression) for f in check(json.dumps(body)).findings if f.rule == "input-invalid"]
    assert ("code-invalid", "MedicationRequest.status") in structural  # the order, once, with the order's own paths
    assert ("invariant", "Parameters.parameter[1]") in structural  # inv-1: one of value, resource or part
    assert len([e for _, e in structural if e == "MedicationRequest.status"]) == 1
    clean = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": baclofen()}]}
    assert not any(f.rule == "input-invalid" for f in check(json.dumps(clean)).findings)


@pytest.mark.parametrize("bad_id", [{"a": 1}, [1, 2], None, 5, "", True])
def test_a_contained_id_of_the_wrong_type_is_reported_never_a_crash(bad_id: Any) -> None:
    # found by the mutation fuzz of tests/http/test_mutated_orders.py: an object as a contained id raised TypeError (a 500)
    order = baclofen()
    order.setdefault("contained", [{"resourceType": "Medication", "id": "med", "code": {"text": "Baclofen 10 mg tablet"}}])
    order["contained"][0]["id"] = bad_id
    order["medicationReference"] = {"reference": "#med"}
    order.pop("medicationCodeableConcept", None)
    report = check(json.dumps(order))
    assert report.rejected is None and "input-invalid" in {f.rule for f in report.findings}


@pytest.mark.parametrize(
    ("repeat", "fails"),
    [
        ({"when": ["MORN", "EVE"]}, False),  # a repeating when, no offset: valid (it was once "could not be evaluated")
        ({"when": ["MORN", "EVE"], "offset": 30}, False),
        ({"when": ["MORN", "CV"], "offset": 30}, True),  # an offset from a meal-relative event
        ({"offset": 30}, True),  # an offset from nothing
    ],
)
def test_tim_9_is_read_as_defined_even_when_when_repeats(repeat: dict[str, Any], fails: bool) -> None:
    order = baclofen()
    order["dosageInstruction"][0]["timing"] = {"repeat": repeat}
    structural = [f for f in check(json.dumps(order)).findings if f.rule == "input-invalid"]
    assert [("tim-9" in f.text, f.severity) for f in structural] == ([(True, "error")] if fails else [])
