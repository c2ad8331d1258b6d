"""Bundles cost linear work: history and interaction facts are derived once per Bundle, not once per order.

Counted, not timed: the number of drug-identity checks grows with n, never with n squared.
"""

from __future__ import annotations

import copy

import pytest

from validator import check
from validator.context import facts

from .conftest import oral_order


def _bundle(n: int) -> dict:
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}}]
    for i in range(n):
        order = copy.deepcopy(oral_order(5))
        order["id"] = f"o{i}"
        order["authoredOn"] = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        entries.append({"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "resource": order})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


@pytest.mark.parametrize("n", [20, 80])
def test_drug_identity_is_checked_a_linear_number_of_times(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    calls = 0
    real = facts.is_profile_drug

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(facts, "is_profile_drug", counting)
    report = check(_bundle(n))
    assert report.orders == n
    assert calls <= 3 * n, f"{calls} identity checks for {n} orders"


def test_the_garbage_collector_ends_as_the_caller_left_it() -> None:
    import gc

    assert gc.isenabled()
    check(_bundle(3))
    assert gc.isenabled()  # paused while the Bundle was checked, resumed after
    gc.disable()
    try:
        check(_bundle(3))
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
