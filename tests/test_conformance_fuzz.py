"""The conformance layer never raises: any JSON in any element of a realistic order or Bundle gets issues, not a crash,
and the values it distrusts are removed without touching the caller's document."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validator import conformance

from .test_conformance import _bundle, baclofen

EXAMPLES = int(os.environ.get("MEDVAL_FUZZ_EXAMPLES", "80"))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out += _paths(value, prefix + (key,))
    return out


DOCUMENTS = [baclofen(), _bundle()]
PATHS = [(i, p) for i, doc in enumerate(DOCUMENTS) for p in _paths(doc)]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.sampled_from(PATHS), JSON, st.sampled_from(["4.0", "5.0"]))
def test_any_value_anywhere_gives_issues_never_an_exception(where: tuple[int, tuple[Any, ...]], value: Any, version: str) -> None:
    index, path = where
    document = copy.deepcopy(DOCUMENTS[index])
    node = document
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    before = json.dumps(document, sort_keys=True)
    result = conformance.check(document, version)
    cleaned = conformance.trusted_copy(document, result.untrusted, version)
    assert json.dumps(document, sort_keys=True) == before
    assert all(i.severity in ("error", "warning", "information") for i in result.issues)
    if result.untrusted:
        assert cleaned is not document
