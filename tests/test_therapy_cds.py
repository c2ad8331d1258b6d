"""CDS Hooks cards for the therapy-over-time codes: a draft order beside a current order in the prefetch (combined
daily total and duplicate-therapy), and the look-alike that replaces it (priorPrescription)."""

from __future__ import annotations

from typing import Any

from .cds_support import SIGN, example, make_client, rules
from .conftest import oral_order


def _request(draft: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    body = example("order-sign-oral-over-maximum.json")
    body["context"]["draftOrders"]["entry"] = [{"resource": draft}]
    body["prefetch"]["medicationRequests"] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"fullUrl": "MedicationRequest/current-1", "resource": current}],
    }
    return body


def _orders() -> tuple[dict[str, Any], dict[str, Any]]:
    current = oral_order(20, id="current-1", authoredOn="2026-11-01", subject={"reference": "Patient/1288992"})
    draft = oral_order(10, id="draft-1", status="draft", subject={"reference": "Patient/1288992"})
    return draft, current


def test_a_draft_beside_a_current_order_gets_the_combined_maximum_and_a_duplicate_card() -> None:
    draft, current = _orders()  # 10 mg TID + 20 mg TID = 90 mg/day
    cards = make_client().post(SIGN, json=_request(draft, current)).json()["cards"]
    assert sorted(rules(cards)) == ["daily-dose-exceeds-maximum", "duplicate-therapy"]
    maximum = next(c for c in cards if c["source"]["topic"]["code"] == "daily-dose-exceeds-maximum")
    assert maximum["indicator"] == "critical" and "90 mg" in maximum["summary"]
    # scaling this order alone to 80 mg/day would not bring the total under the maximum: no suggestion
    assert not maximum.get("suggestions")
    duplicate = next(c for c in cards if c["source"]["topic"]["code"] == "duplicate-therapy")
    assert duplicate["indicator"] == "warning" and "current-1" in duplicate["summary"]


def test_a_draft_that_replaces_the_current_order_gets_no_card() -> None:
    draft, current = _orders()
    draft["priorPrescription"] = {"reference": "MedicationRequest/current-1"}  # 60 -> 30 mg/day: a reduction
    cards = make_client().post(SIGN, json=_request(draft, current)).json()["cards"]
    assert rules(cards) == []
