"""Start-up: `medval validate one.json` versus a script that only imports fhir.resources and parses the same order.

Both run as fresh processes, alternately, several times; the ratio is the median of each pair's ratio. Also
`python -X importtime` names the slowest imports of `medval validate`, for what to defer next.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import ROOT, heading, median, ms, row, subprocess_env
from .orders import varied_order

TARGET = 1.5
BASELINE = (
    "import sys\n"
    "from fhir.resources.R4B.medicationrequest import MedicationRequest\n"
    "MedicationRequest.model_validate_json(open(sys.argv[1], 'rb').read())\n"
)


def _timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def _slowest_imports(order: Path, count: int = 8) -> list[tuple[int, str]]:
    command = [sys.executable, "-X", "importtime", "-m", "validator.cli", "validate", "--format", "json", str(order)]
    result = subprocess.run(command, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, check=False)
    top_level = []
    for line in result.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("   "):
            top_level.append((int(parts[1].strip()), parts[2].strip()))  # cumulative us of a top-level import
    return sorted(top_level, reverse=True)[:count]


def run(quick: bool = False) -> dict[str, Any]:
    pairs = 3 if quick else 7
    heading(f"4. Start-up: medval validate one.json vs import fhir.resources + parse ({pairs} alternating pairs)")
    with tempfile.TemporaryDirectory() as folder:
        order = Path(folder, "one.json")
        order.write_bytes(__import__("orjson").dumps(varied_order(4242)))
        script = Path(folder, "baseline.py")
        script.write_text(BASELINE)
        baseline_cmd = [sys.executable, str(script), str(order)]
        medval_cmd = [sys.executable, "-m", "validator.cli", "validate", "--format", "json", str(order)]
        _timed(baseline_cmd), _timed(medval_cmd)  # warm the file cache and the .pyc files
        base, medval = [], []
        for _ in range(pairs):
            base.append(_timed(baseline_cmd))
            medval.append(_timed(medval_cmd))
        slowest = _slowest_imports(order)
    ratio = median([m / b for m, b in zip(medval, base, strict=True)])
    row("import fhir.resources + parse (baseline)", f"{ms(median(base))} median")
    row("medval validate --format json one.json", f"{ms(median(medval))} median")
    row("medval / baseline", f"{ratio:.2f} (target <= {TARGET}): " + ("MET" if ratio <= TARGET else "NOT MET"))
    for cumulative_us, module in slowest:
        row(f"  import {module}", f"{cumulative_us / 1000:,.0f} ms cumulative")
    return {"baseline_s": median(base), "medval_s": median(medval), "ratio": ratio, "met": ratio <= TARGET, "slowest_imports": slowest}
