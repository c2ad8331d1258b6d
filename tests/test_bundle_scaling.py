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


def _undated_bundle(n: int) -> dict:
    bundle = _bundle(n)
    for entry in bundle["entry"][1:]:
        del entry["resource"]["authoredOn"]
    return bundle


def test_undated_orders_cost_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13: 1,600 undated orders took 7 s, each compared with every other one. Counted: history entries visited."""
    from validator.rules import titration

    calls = 0
    real = titration._same_dosing

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    def counted(real):
        def wrapper(*args, **kwargs):
            nonlocal calls
            calls += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(titration, "_same_dosing", counting)
    if hasattr(facts, "_dosing_ids"):  # the per-entry work of the undated count
        monkeypatch.setattr(facts, "_dosing_ids", counted(facts._dosing_ids))
    work = {}
    for n in (100, 400):
        calls = 0
        report = check(_undated_bundle(n))
        assert report.orders == n
        # every undated order still says its titration check could not run (fail safe, not a silent pass)
        assert sum(1 for f in report.findings if f.rule == "patient-context-unavailable" and "authoredOn" in f.text) == n
        work[n] = calls
    assert work[400] <= 6 * work[100], f"history work grows faster than the Bundle: {work}"
