"""The house rules issue 10 set, checked on the source: small engine functions, no FHIRPath parsing at the CDS edge,
no imports hidden inside functions (every dependency is visible at the top of its module)."""

from __future__ import annotations

import ast

from .conftest import ROOT

PACKAGE = ROOT / "validator"


def _functions(path):
    tree = ast.parse(path.read_text())
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = function.args
    return len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs) + bool(args.vararg) + bool(args.kwarg)


def test_no_engine_function_takes_more_than_five_parameters() -> None:
    for path in [PACKAGE / "engine.py", *sorted((PACKAGE / "rules").glob("*.py"))]:
        for function in _functions(path):
            count = _parameters(function) - (1 if function.args.args and function.args.args[0].arg == "self" else 0)
            assert count <= 5, f"{path.name}:{function.lineno} {function.name} takes {count} parameters"


def test_the_cds_layer_reads_locations_as_data_not_text() -> None:
    for name in ("cds_cards.py", "cds_hooks.py"):
        tree = ast.parse((PACKAGE / "http" / name).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert "re" not in imported, f"{name} imports re"
        assert "normalise_order" not in (PACKAGE / "http" / name).read_text(), f"{name} normalises again"
        assert ".raw" not in (PACKAGE / "http" / name).read_text(), f"{name} reads a profile's raw JSON"


def test_no_import_hides_inside_a_function_in_the_core() -> None:
    # the edges (http/, store/, the CLI) may defer importing what the common path never needs (start-up cost)
    edges = ("http", "store")
    core = [p for p in PACKAGE.rglob("*.py") if not set(edges) & set(p.parts) and p.name not in ("cli.py", "outcome.py", "parse.py")]
    for path in core:
        for function in _functions(path):
            inner = [n for n in ast.walk(function) if isinstance(n, ast.Import | ast.ImportFrom)]
            assert not inner, f"{path.relative_to(ROOT)}:{function.lineno} {function.name} imports inside the function"
