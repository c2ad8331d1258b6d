"""`python -m benchmarks` (`make bench`): the benchmarks of issues 7 and 16, figures as ratios to same-run baselines."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import bundles, cli_bulk, conformance, http_service, inprocess, sig, startup
from .common import heading, machine, row

BENCHMARKS = {
    "inprocess": inprocess.run,
    "bundles": bundles.run,
    "startup": startup.run,
    "http": http_service.run,
    "cli": cli_bulk.run,
    "sig": sig.run,
    "conformance": conformance.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smaller inputs and shorter runs (a smoke test, not figures)")
    parser.add_argument("--cli-orders", type=int, default=None, help=f"orders in the NDJSON file (default {cli_bulk.ORDERS:,})")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of validate() and stop")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.profile:
        inprocess.profile()
        return
    heading("machine")
    info = machine()
    for key, value in info.items():
        row(key, value)
    results: dict[str, object] = {"machine": info}
    started = time.perf_counter()
    for name in args.only or list(BENCHMARKS):
        if name == "cli":
            results[name] = cli_bulk.run(args.quick, args.cli_orders)
        else:
            results[name] = BENCHMARKS[name](args.quick)
    heading("done")
    row("wall time", f"{time.perf_counter() - started:,.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
