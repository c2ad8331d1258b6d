"""The README's "Rule codes" section, generated from the catalogue and the rules' own docstrings.

`python -m validator.rules` prints it; tests/test_readme.py keeps the README in step.
"""

from __future__ import annotations

from ..findings import RULE_SYSTEM, rule_table_markdown
from . import RULES
from .registry import doc_of

# Codes the engine and the parser write themselves, not a rule (their wording is in validator/messages.py).
ENGINE_CODES = ("input-invalid", "not-in-scope", "medication-unidentified", "text-not-read", "check-not-finished", "no-issues")


def _links(paths: tuple[str, ...]) -> str:
    return ", ".join(f"[`{p.removeprefix('examples/')}`]({p})" for p in paths)


def rule_codes_markdown() -> str:
    lines = [
        "## Rule codes",
        "",
        f"Rule codes are `details.coding` with system `{RULE_SYSTEM}` (`validator.findings.RULE_SYSTEM`).",
        "This section is generated from the code (`python -m validator.rules`): the table from the rule catalogue",
        "(`validator/findings.py`), the list from each rule's docstring and `@emits(...)` declaration",
        "(`validator/rules/`); tests keep both in step with the README and with the examples.",
        "",
        rule_table_markdown(),
        "",
        '"Least severity" is the floor: a profile may raise it (its `severity` map), never lower it.',
        "",
        f"The engine itself reports {', '.join(f'`{c}`' for c in ENGINE_CODES)}. The rules, in the order they run:",
        "",
    ]
    for rule in RULES:
        doc = doc_of(rule)
        codes = ", ".join(f"`{c}`" for c in doc.codes)
        lines.append(
            f"- **`{doc.name}`** ({codes}): {doc.what} *Why:* {doc.why} *Fix:* {doc.fix} "
            f"Fires: {_links(doc.fires)}; does not fire: {_links(doc.quiet)}."
        )
    return "\n".join(lines) + "\n"
