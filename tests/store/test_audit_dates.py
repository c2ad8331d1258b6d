"""The AuditEvent date search reads values as FHIR search does: a partial date is a span; prefixes by its edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from validator.http.audit_events import date_window
from validator.http.problems import RequestProblem


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("values", "window"),
    [
        (["2026"], (at(2026, 1, 1), at(2027, 1, 1))),  # a year (FHIR allows it; it was a 400)
        (["2026-12"], (at(2026, 12, 1), at(2027, 1, 1))),  # a month, over the year's end
        (["2026-02"], (at(2026, 2, 1), at(2026, 3, 1))),
        (["2026-12-01"], (at(2026, 12, 1), at(2026, 12, 2))),  # a day
        (["ge2026-11", "lt2026-12"], (at(2026, 11, 1), at(2026, 12, 1))),  # November only
        (["gt2026-11-30"], (at(2026, 12, 1), None)),  # after the whole day
        (["le2026-11-30"], (None, at(2026, 12, 1))),  # to the end of the day
        (["ge2026-12-01T08:00:00Z"], (at(2026, 12, 1, 8), None)),  # an instant
    ],
)
def test_a_date_value_covers_its_span(values: list[str], window: tuple) -> None:
    assert date_window(values) == window


@pytest.mark.parametrize("value", ["26", "2026-13", "2026-02-30", "ge", "yesterday", "9999999-01"])
def test_a_value_that_is_no_date_is_a_400(value: str) -> None:
    with pytest.raises(RequestProblem):
        date_window([value])
