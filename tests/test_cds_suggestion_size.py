"""Issue 13, finding 5: 200 dosage instructions made 27.8 MB of cards (each suggestion copied the whole order)."""

from __future__ import annotations

import copy

from tests.cds_support import SIGN, example, make_client
from validator.http.cds_cards import MAX_SUGGESTION_BYTES


def test_an_order_with_200_dosages_gets_cards_of_bounded_size_that_say_why_no_suggestion():
    body = example("order-sign-intravenous.json")  # every dosage by a forbidden route: a card and suggestions each
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["dosageInstruction"] = [copy.deepcopy(order["dosageInstruction"][0]) for _ in range(200)]
    response = make_client().post(SIGN, json=body)
    assert response.status_code == 200
    assert len(response.content) < 2 * MAX_SUGGESTION_BYTES + 500_000  # was 23 MB here (27.8 MB in the review)
    cards = [c for c in response.json()["cards"] if c["source"]["topic"]["code"] == "route-not-permitted"]
    assert len(cards) == 200  # every dosage still gets its card
    without = [c for c in cards if "suggestions" not in c]
    assert without and all("No corrected order is attached" in c["detail"] for c in without)


def test_an_ordinary_order_keeps_its_suggestion():
    cards = make_client().post(SIGN, json=example("order-sign-oral-over-maximum.json")).json()["cards"]
    [card] = [c for c in cards if c["source"]["topic"]["code"] == "daily-dose-exceeds-maximum"]
    assert card["suggestions"] and "No corrected order is attached" not in card["detail"]
