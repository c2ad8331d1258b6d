"""Realistic orders and Bundles with one element swapped for arbitrary JSON: always an OperationOutcome, never a 5xx."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import intrathecal_order, oral_order
from .conftest import BUNDLE_VALIDATE, FHIR_JSON, MR_VALIDATE, Client, KeptRecords

EXAMPLES = int(os.environ.get("MEDVAL_FUZZ_EXAMPLES", "60"))

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["mg", "ug", "mL", "d", "h", "26643006", "#med", "Patient/p1", "MedicationRequest", "1292"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        found += paths(value, (*prefix, key))
    return found


def replaced(document: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    document = copy.deepcopy(document)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return document


ORDERS = [oral_order(), intrathecal_order()]
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}}, {"resource": oral_order()}],
}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data(), value=json_values)
def test_mutated_documents_never_break_the_service(client: Client, logs: KeptRecords, data: st.DataObject, value: Any) -> None:
    base = data.draw(st.sampled_from([*ORDERS, BUNDLE]))
    path = data.draw(st.sampled_from(paths(base)))
    document = replaced(base, path, value)
    endpoint = BUNDLE_VALIDATE if base is BUNDLE else MR_VALIDATE
    raw = json.dumps(document).encode()  # not orjson: it refuses NaN, Infinity and huge integers, which senders do write
    response = client.request("POST", endpoint, content=raw, headers={"content-type": FHIR_JSON})
    assert response.status_code in (200, 400), response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert not logs.events("unhandled-exception")
