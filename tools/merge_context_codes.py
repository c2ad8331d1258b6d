"""Add verified codes from a helper file into profiles/<drug>.json context groups (never invents a code).

    python tools/merge_context_codes.py /work/scratch/codes_context.json [validator/profiles/baclofen.json] [--map mine=theirs ...]

The helper file is {group: {snomed: [{code, display, source}], icd10cm_prefixes: [{prefix, display, source}],
rxnorm_ingredients: [...], loinc: [{code, display, unit, source}], names: [...]}, ..., unverified: [...]}.
Groups are matched by name (a-b or a_b) unless mapped with --map. Entries without a source are skipped;
entries already present are kept. The profile's other text is left byte-for-byte as it was.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KEYS = {"snomed": "code", "icd10cm_prefixes": "prefix", "rxnorm_ingredients": "code", "loinc": "code"}


def main(argv: list[str]) -> int:
    maps = dict(a.split("=", 1) for a in argv if "=" in a)
    paths = [a for a in argv if "=" not in a and not a.startswith("--")]
    helper = json.loads(Path(paths[0]).read_text())
    profile_path = Path(paths[1] if len(paths) > 1 else "validator/profiles/baclofen.json")
    text = profile_path.read_text()
    profile = json.loads(text)
    groups = profile["context"]["groups"]
    used = set()
    for gid, group in groups.items():
        theirs = [maps[gid]] if gid in maps else [h for h in (gid, gid.replace("-", "_")) if h in helper]
        for name in theirs:
            used.add(name)
            for key, idk in KEYS.items():
                for entry in helper[name].get(key) or []:
                    kept = {k: v for k, v in entry.items() if k in (idk, "display", "unit", "source", "note") and v not in (None, "")}
                    if not kept.get("source") or not kept.get(idk):
                        continue
                    if all(x[idk] != kept[idk] for x in group.get(key, [])):
                        group.setdefault(key, []).append(kept)
            for n in helper[name].get("names") or []:
                n = n if isinstance(n, str) else n.get("name", "")
                if len(n) >= 3 and n.lower() not in {x.lower() for x in group.get("names", [])}:
                    group.setdefault("names", []).append(n)
    start = text.index('  "context": ')
    end = text.index('\n  "severity":', start)
    body = json.dumps(profile["context"], indent=2, ensure_ascii=False).replace("\n", "\n  ")
    profile_path.write_text(text[:start] + f'  "context": {body},' + text[end:])
    print("helper groups not used:", sorted(set(helper) - used - {"unverified"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
