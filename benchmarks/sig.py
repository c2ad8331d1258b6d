"""`python -m benchmarks.sig` (`make bench-sig`): how much of a corpus of real sig strings the sig reader reads right.

Each string in benchmarks/sig_corpus/corpus.jsonl carries a hand-made expected reading (dose amount or range and
unit, administrations a day at most, route, as-needed); see the README beside it for where each set came from.
A string is fully right when both the dose and the frequency match, partly right when one does, and not at all
when neither does. Route and as-needed are counted on their own.

A third of the parserx set is marked `"split": "holdout"`: those strings were annotated with the rest but never
looked at while the grammar was improved, so their figure is the honest estimate for unseen text. The figures are
printed for both splits; `--misses` lists development misses only, so the holdout stays unseen.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from validator.normalise.sig import read_sig
from validator.normalise.sig_types import SigReading

from .common import heading, row

CORPUS = Path(__file__).resolve().parent / "sig_corpus" / "corpus.jsonl"


def load(path: Path = CORPUS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def dose_right(expected: dict[str, Any] | None, reading: SigReading) -> bool:
    dose = reading.dose
    if expected is None:
        return dose is None
    if dose is None:
        return False
    unit = f"{dose.unit}/kg" if dose.per_kg and dose.unit else f"{dose.unit}/m2" if dose.per_m2 and dose.unit else dose.unit
    return _close(dose.low, expected["low"]) and _close(dose.high, expected["high"]) and unit == expected["unit"]


def frequency_right(expected: float | str | None, reading: SigReading) -> bool:
    frequency = reading.frequency
    if expected == "once":
        return reading.one_time and frequency is None
    if expected is None:
        return frequency is None and not reading.one_time
    return frequency is not None and _close(frequency.per_day_high, float(expected))


def split_of(item: dict[str, Any]) -> str:
    return "holdout" if item.get("split") == "holdout" else "development"


def score(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts overall, by split, by category and by source set; also the development strings not read fully right."""
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses: list[str] = []
    for item in rows:
        reading = read_sig(item["text"])
        dose_ok = dose_right(item["dose"], reading)
        frequency_ok = frequency_right(item["per_day"], reading)
        grade = "fully" if dose_ok and frequency_ok else "partly" if dose_ok or frequency_ok else "not at all"
        for group in ("overall", f"split: {split_of(item)}", f"category: {item['category']}", f"set: {item['set']}"):
            counts = tally[group]
            counts["strings"] += 1
            counts[grade] += 1
            counts["dose"] += dose_ok
            counts["frequency"] += frequency_ok
            counts["route"] += reading.route == item["route"]
            counts["as needed"] += reading.as_needed == item["prn"]
        if grade != "fully" and split_of(item) == "development":
            misses.append(item["text"])
    return {"groups": {k: dict(v) for k, v in tally.items()}, "not fully right": misses}


def _percent(part: int, whole: int) -> str:
    return f"{part:>3} ({100 * part / whole:5.1f} %)" if whole else "0"


def run(quick: bool = False) -> dict[str, Any]:
    rows = load()
    started = time.perf_counter()
    result = score(rows)
    elapsed = time.perf_counter() - started
    heading(f"sig reader: {len(rows)} real sig strings (benchmarks/sig_corpus)")
    order = {"overall": 0, "split: development": 1, "split: holdout": 2}
    for group, counts in sorted(result["groups"].items(), key=lambda kv: (order.get(kv[0], 3), kv[0])):
        whole = counts["strings"]
        row(
            f"{group} [{whole}]",
            f"fully {_percent(counts.get('fully', 0), whole)}  partly {_percent(counts.get('partly', 0), whole)}  "
            f"not at all {_percent(counts.get('not at all', 0), whole)}  | dose {_percent(counts['dose'], whole)}  "
            f"frequency {_percent(counts['frequency'], whole)}  route {_percent(counts['route'], whole)}  "
            f"as needed {_percent(counts['as needed'], whole)}",
        )
    row("time", f"{1000 * elapsed / max(len(rows), 1):.2f} ms a string (first read, uncached)")
    result["ms_per_string"] = 1000 * elapsed / max(len(rows), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sig", description=__doc__)
    parser.add_argument("--misses", action="store_true", help="also list the development strings not read fully right")
    args = parser.parse_args()
    result = run()
    if args.misses:
        heading("development strings not fully right (the holdout is not listed)")
        for text in result["not fully right"]:
            print(f"  {text}")


if __name__ == "__main__":
    main()
