"""1. In process: validator.validate on a ~2 KB baclofen order versus fhir.resources parsing the same bytes."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.medicationrequest import MedicationRequest

from validator import validate

from .common import heading, interleaved, median, row, us
from .orders import order_bytes

TARGET = 1.3


def run(quick: bool = False) -> dict[str, Any]:
    heading("1. In process: validate() vs fhir.resources parse of the same bytes")
    raw = order_bytes()
    outcome = validate(raw)
    assert outcome.issue, "validate() returned no issue"
    calls, rounds = (50, 10) if quick else (200, 15)
    times = interleaved(
        {
            "parse": lambda: MedicationRequest.model_validate_json(raw),
            "validate": lambda: validate(raw),
        },
        calls,
        rounds,
    )
    parse, check = median(times["parse"]), median(times["validate"])
    # ratio of each round's pair: both halves of a round saw the same background load
    ratio = median([v / p for v, p in zip(times["validate"], times["parse"], strict=True)])
    best = min(times["validate"]) / min(times["parse"])
    row("order size", f"{len(raw):,} bytes (R4, contained Medication, full dosage)")
    row("fhir.resources parse (model_validate_json)", f"{us(parse)} median, {us(min(times['parse']))} best")
    row("validator.validate (bytes -> OperationOutcome)", f"{us(check)} median, {us(min(times['validate']))} best")
    row("validate / parse", f"{ratio:.2f} (median of paired rounds; best/best {best:.2f}; target <= {TARGET})")
    row("verdict", "MET" if ratio <= TARGET else "NOT MET")
    return {"parse_us": parse * 1e6, "validate_us": check * 1e6, "ratio": ratio, "ratio_best": best, "met": ratio <= TARGET}


def profile(seconds: float = 3.0) -> None:
    """A pyinstrument profile of validate() on the same order (`python -m benchmarks --profile`)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: pip install -e '.[bench]'")
        return
    import time

    raw = order_bytes()
    for _ in range(100):
        validate(raw)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        validate(raw)
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))
