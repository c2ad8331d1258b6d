import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from validator.findings import RULE_CATALOGUE
from validator.rules.docs import rule_codes_markdown

from .conftest import ROOT


def test_readme_rule_section_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text()
    assert rule_codes_markdown() in readme, "run `python -m validator.rules` and paste its output over the README's Rule codes section"
    assert readme.count("\n## Rule codes\n") == 1


def test_every_contract_rule_code_is_in_the_catalogue() -> None:
    contract = ROOT.parent / "shared" / "spec" / "contract.md"
    if not contract.exists():  # the spec sits beside the repository in CI and development
        return
    codes = set(re.findall(r"^\| `([a-z-]+)` \| (?:information|warning|error)", contract.read_text(), re.M))
    assert codes and codes <= set(RULE_CATALOGUE)


# --- every shell command in the README runs as written --------------------------------------------------------------
# Run for real (from a scratch folder that sees examples/): medval validate / --version, `cat ... |`, .venv/bin/python.
# Checked without running (they serve, build images or need a server): make targets, medval serve options, curl
# paths and bodies, docker (the Dockerfile; building needs its base image from a registry).

README_COMMANDS = []
for _block in re.findall(r"^```(?:sh|shell|bash)\n(.*?)^```", (ROOT / "README.md").read_text(), re.M | re.S):
    for _line in _block.replace("\\\n", " ").splitlines():
        _command = re.split(r"\s{2,}#", _line)[0].strip()
        if _command:
            README_COMMANDS.append(_command)


def _route_exists(method: str, path: str) -> bool:
    from validator.http.app import create_app

    app = create_app()
    for route in app.router.routes:
        regex, methods = getattr(route, "path_regex", None), getattr(route, "methods", None) or set()
        if regex is not None and regex.match(path) and method in methods:
            return True
    spec = app.openapi()["paths"]
    return any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path) and method.lower() in ops for p, ops in spec.items())


def _run(command: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    commands = {".venv/bin/medval": f"{sys.executable} -m validator.cli", ".venv/bin/python": sys.executable}
    shell = re.sub(r"\.venv/bin/(?:medval|python)\b", lambda m: commands[m.group(0)], command)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-c", shell], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


def test_the_readme_has_commands() -> None:
    assert len(README_COMMANDS) >= 12


@pytest.mark.parametrize("command", README_COMMANDS)
def test_readme_command_runs_as_written(command: str, tmp_path: Path) -> None:
    for part in (p.strip() for p in command.split("&&")):
        words = shlex.split(part.rstrip("&").strip())
        if words[:1] == ["make"]:
            assert re.search(rf"^{re.escape(words[1])}:", (ROOT / "Makefile").read_text(), re.M), part
        elif words[:1] == ["docker"]:
            assert (ROOT / "Dockerfile").exists() and ("build" in words or "8080:8080" in words[-2:] + [words[-1]] or "run" in words)
        elif words[:1] == ["curl"]:
            url = next(w for w in words if w.startswith("http://"))
            method = words[words.index("-X") + 1] if "-X" in words else "GET"
            assert _route_exists(method, urlsplit(url).path), part
            for data in (w[1:] for w in words if w.startswith("@")):
                json.loads((ROOT / data).read_text())
        elif words[:2] == [".venv/bin/medval", "serve"]:
            help_text = _run(".venv/bin/medval serve --help", tmp_path).stdout
            assert all(w in help_text for w in words[2:] if w.startswith("--")), part
        else:
            assert words[0] in (".venv/bin/medval", ".venv/bin/python", "cat"), f"a README command this test does not know: {part}"
            result = _run(part, tmp_path)
            assert result.returncode in (0, 1), f"{part}\n{result.stderr[-1000:]}"  # 1: the order has an error, as shown
            written = re.search(r"> (\S+)$", part)
            assert (tmp_path / written.group(1)).read_text().strip() if written else result.stdout.strip()
