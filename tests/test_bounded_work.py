"""Issue 13, finding 5: free text over the limit is not read (and says so); a Bundle stops at its CPU budget (and says so)."""

from __future__ import annotations

import copy

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import oral_order
from tests.http.conftest import BUNDLE_VALIDATE, Client, assert_outcome
from validator import check, limits
from validator.http.app import create_app
from validator.http.settings import HttpSettings, Settings
from validator.limits import MAX_FREE_TEXT_CHARS, cap_free_text, may_hold_long_text


def no_context(_order: dict) -> None:
    return None


def findings(report, rule: str) -> list:
    return [f for f in report.findings if f.rule == rule]


def bundle_of(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def test_an_over_long_route_text_is_not_read_and_says_where():
    order = oral_order(5)
    order["dosageInstruction"][0]["route"] = {"text": " (" * 24_000}
    report = check(order, context_provider=no_context)
    [capped] = findings(report, "text-not-read")
    assert capped.expression == "MedicationRequest.dosageInstruction[0].route.text"
    assert "48,000 characters" in capped.text and capped.severity == "warning"
    assert not findings(report, "no-issues")


def test_a_long_but_plausible_text_is_read():
    order = oral_order(5)
    order["dosageInstruction"][0]["route"] = {"text": "Intrathecal " + "via implanted programmable pump " * 20}
    report = check(order, context_provider=no_context)
    assert not findings(report, "text-not-read")
    assert "route-not-permitted" not in [f.rule for f in report.findings]  # read: intrathecal is a baclofen route


def test_an_over_long_medication_text_is_not_read():
    order = oral_order(5)
    order["medicationCodeableConcept"]["text"] = "7" * 8_000  # digits: the strength reader is never handed them
    report = check(order, context_provider=no_context)
    assert [f.expression for f in findings(report, "text-not-read")] == ["MedicationRequest.medicationCodeableConcept.text"]


def test_a_long_note_is_not_read_so_not_reported():
    order = oral_order(5)
    order["note"] = [{"text": "x" * 10_000}]
    assert not findings(check(order, context_provider=no_context), "text-not-read")


def test_over_long_text_in_a_bundle_is_reported_on_its_own_entry():
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}, "code": {"text": "y" * 5_000}}
    order = oral_order(5)
    order["dosageInstruction"][0]["timing"]["code"] = {"text": "BID" * 1_000}
    report = check(bundle_of(condition, order))
    assert sorted(f.expression for f in findings(report, "text-not-read")) == [
        "Bundle.entry[0].resource.code.text",
        "Bundle.entry[1].resource.dosageInstruction[0].timing.code.text",
    ]


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=0, max_value=3 * MAX_FREE_TEXT_CHARS), st.sampled_from(["text", "display", "unit", "code"]))
def test_only_free_text_over_the_limit_is_dropped(length: int, key: str):
    document = {"resourceType": "MedicationRequest", "route": {key: "a" * length}}
    capped = cap_free_text(document)
    dropped = key != "code" and length > MAX_FREE_TEXT_CHARS
    assert (key not in document["route"]) == dropped
    assert [c.location for c in capped] == ([("route", key)] if dropped else [])


def _orders(n: int) -> dict:
    orders = []
    for i in range(n):
        order = copy.deepcopy(oral_order(5))
        order["id"] = f"o{i}"
        orders.append(order)
    return bundle_of({"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}, *orders)


def test_a_bundle_stops_at_its_budget_and_names_every_order_not_checked(monkeypatch):
    ticks = iter(range(1_000_000))  # a CPU clock that moves one second per reading: the cut-off point is exact
    monkeypatch.setattr(limits.time, "thread_time", lambda: float(next(ticks)))
    report = check(_orders(40), budget_s=10)
    unfinished = findings(report, "check-not-finished")
    assert report.orders == 10  # read before each order: 10 fit in the budget
    assert [f.expression for f in unfinished] == [f"Bundle.entry[{i}].resource" for i in range(11, 41)]
    judged = {f.location[:4] for f in report.findings if f.rule != "check-not-finished" and f.location[:2] == ("Bundle", "entry")}
    assert judged == {("Bundle", "entry", i, "resource") for i in range(1, 11)}  # the first ten were judged, by the rules


def test_without_a_budget_every_order_is_checked():
    report = check(_orders(30))
    assert report.orders == 30 and not findings(report, "check-not-finished")


def test_the_service_applies_its_budget():
    client = Client(create_app(Settings(http=HttpSettings(request_budget_s=0.05))))
    body = assert_outcome(client.post_json(BUNDLE_VALIDATE, _orders(300)), 200)
    unfinished = [i for i in body["issue"] if i["details"]["coding"][0]["code"] == "check-not-finished"]
    assert unfinished and {(i["severity"], i["code"]) for i in unfinished} == {("error", "too-costly")}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from('a"\\\n\u00e9\u2603 {}'), max_size=2_600), max_size=3))
def test_the_raw_scan_never_misses_a_long_string(texts: list[str]):
    document = {"resourceType": "MedicationRequest", "note": texts, "route": {"text": texts[0] if texts else ""}}
    raw = orjson.dumps(document)
    longest = max((len(t) for t in texts), default=0)
    if longest > MAX_FREE_TEXT_CHARS:
        assert may_hold_long_text(raw) and may_hold_long_text(raw.decode())
    if len(raw) <= MAX_FREE_TEXT_CHARS:
        assert not may_hold_long_text(raw)


def test_a_long_route_text_sent_as_bytes_is_still_caught():
    order = oral_order(5)
    order["dosageInstruction"][0]["route"] = {"text": '\\"' * 1_500}  # escapes: more raw bytes than characters
    report = check(orjson.dumps(order), context_provider=no_context)
    assert [f.expression for f in findings(report, "text-not-read")] == ["MedicationRequest.dosageInstruction[0].route.text"]
