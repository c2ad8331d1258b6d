"""`medval validate` and `medval serve`: the command line edge. Imports the public API only."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import Progress

from . import check
from .outcome import outcome_dict
from .profile import ProfileError, default_profiles

app = typer.Typer(add_completion=False, no_args_is_help=True, help="medval: FHIR MedicationRequest validator.")
db_app = typer.Typer(no_args_is_help=True, help="The service's database (MEDVAL_DATABASE_URL): migrations and retention.")
app.add_typer(db_app, name="db")
STYLE = {"fatal": "bold white on red", "error": "bold red", "warning": "yellow", "information": "cyan"}
EXIT_OK, EXIT_ISSUES, EXIT_USAGE = 0, 1, 2


class InputFileError(Exception):
    """A file medval cannot read or parse; the message is one line."""


def _files(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(file, found by walking a folder) for every file to check."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found += [(p, True) for p in sorted(path.rglob("*")) if p.suffix in (".json", ".ndjson") and p.is_file()]
        else:
            found.append((path, False))
    return found


def _is_other_json(raw: bytes) -> bool:
    """A JSON object that is no FHIR resource at all (a manifest, a CDS Hooks request): not ours to judge in a folder walk."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return False  # broken JSON is reported, never skipped
    return isinstance(document, dict) and "resourceType" not in document


def _documents(path: Path, in_folder: bool, skipped: list[Path]) -> Iterator[tuple[str, bytes]]:
    """(label, bytes) for each resource in a file: the file itself, or each line of an NDJSON file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.suffix == ".ndjson":
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                yield f"{path}:{n}", line
    elif in_folder and _is_other_json(raw):
        skipped.append(path)
    else:
        yield str(path), raw


@dataclass(frozen=True, slots=True)
class _Result:
    """One resource's verdict, made small in the worker: the parent only counts and writes."""

    label: str
    rejected: str | None
    severities: frozenset[str]
    encoded: bytes | None  # --format json: the OperationOutcome, encoded in the worker
    outcome: dict | None  # --format text: the OperationOutcome for the report


def _check_one(item: tuple[str, bytes, str | None, str, bool]) -> _Result:
    label, raw, version, fmt, pretty = item
    report = check(raw, fhir_version=version)
    if report.rejected:
        return _Result(label, report.rejected.message, frozenset(), None, None)
    outcome = outcome_dict(report.findings)
    severities = frozenset(i["severity"] for i in outcome["issue"])
    if fmt == "json":
        encoded = orjson.dumps(outcome, option=(orjson.OPT_INDENT_2 if pretty else 0) | orjson.OPT_APPEND_NEWLINE)
        return _Result(label, None, severities, encoded, None)
    return _Result(label, None, severities, None, outcome)


def _results(files: list[tuple[Path, bool]], version: str | None, jobs: int, fmt: str, skipped: list[Path]) -> Iterator[_Result]:
    pretty = len(files) == 1 and files[0][0].suffix != ".ndjson"
    items = ((label, raw, version, fmt, pretty) for f, in_folder in files for label, raw in _documents(f, in_folder, skipped))
    if jobs <= 1:
        yield from map(_check_one, items)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_check_one, items, chunksize=256)


def _print_report(console: Console, label: str, outcome: dict) -> None:
    issues = outcome["issue"]
    worst = issues[0]["severity"] if issues else "information"
    console.print(f"[bold]{label}[/bold]  [{STYLE[worst]}]{worst}[/]")
    for issue in issues:
        code = issue["details"]["coding"][0]["code"]
        where = (issue.get("expression") or [""])[0]
        console.print(f"  [{STYLE[issue['severity']]}]{issue['severity']:<11}[/] [bold]{code}[/bold]  [dim]{where}[/dim]")
        console.print(f"      {issue['details']['text']}", highlight=False)
        if issue.get("diagnostics"):
            console.print(f"      [dim]source: {issue['diagnostics']}[/dim]", highlight=False)


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="MedicationRequest, Bundle or Parameters JSON files, NDJSON files, or folders.")],
    format: Annotated[str, typer.Option("--format", "-f", help="text (a readable report) or json (the OperationOutcome).")] = "text",
    fhir_version: Annotated[
        str | None, typer.Option("--fhir-version", help="4.0 (default) or 5.0; by default read from each resource's shape.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: every core).")] = 1,
) -> None:
    """Validate orders and print a report; exit 0 (no error), 1 (an error or fatal issue) or 2 (bad usage or input)."""
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)  # one line per error, paths as written
    if format not in ("text", "json"):
        errors.print(f"medval: unknown --format {format!r} (use text or json)")
        raise typer.Exit(EXIT_USAGE)
    try:
        default_profiles()
    except ProfileError as exc:
        errors.print(f"medval: profile error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    files = _files(paths)
    missing = [p for p in paths if not p.exists()]
    if missing or not files:
        errors.print(f"medval: {missing[0] if missing else paths[0]}: no such file, or no *.json / *.ndjson in it")
        raise typer.Exit(EXIT_USAGE)
    jobs = os.cpu_count() or 1 if jobs == 0 else max(1, jobs)
    status = EXIT_OK
    counts = {"orders": 0, "error": 0, "warning": 0}
    # the bar goes to stderr, so it shows whenever stderr is a terminal, even with JSON going to a file
    show_progress = errors.is_terminal and any(f.suffix == ".ndjson" for f, _ in files)
    skipped: list[Path] = []
    out = sys.stdout.buffer
    try:
        with Progress(console=errors, transient=True, disable=not show_progress) as progress:
            task = progress.add_task("validating", total=None)
            for result in _results(files, fhir_version, jobs, format, skipped):
                progress.advance(task)
                if result.rejected:
                    errors.print(f"medval: {result.label}: {result.rejected}")
                    status = EXIT_USAGE
                    continue
                counts["orders"] += 1
                if result.severities & {"error", "fatal"}:
                    counts["error"] += 1
                    status = max(status, EXIT_ISSUES)
                elif "warning" in result.severities:
                    counts["warning"] += 1
                if result.encoded is not None:
                    out.write(result.encoded)
                elif result.outcome is not None:
                    _print_report(console, result.label, result.outcome)
        out.flush()
    except InputFileError as exc:
        errors.print(f"medval: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if skipped:
        names = ", ".join(str(p) for p in skipped)
        errors.print(f"medval: skipped {len(skipped)} JSON file(s) in folders that are not FHIR resources (no resourceType): {names}")
    if format == "text":
        console.print(f"\n{counts['orders']} checked: {counts['error']} with errors, {counts['warning']} with warnings only.")
    raise typer.Exit(status)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes; they share their state through the database, so any number works.")] = 1,
) -> None:
    """Run the HTTP service (FHIR $validate, CDS Hooks, /health, /metrics); migrates the database first."""
    import uvicorn

    try:
        default_profiles()
    except ProfileError as exc:
        Console(stderr=True).print(f"medval: profile error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    _upgrade_database()  # before any worker starts: workers then find the tables in place
    _prepare_metrics_dir()
    uvicorn.run("validator.http.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="warning")


def _upgrade_database() -> str:
    from .store import Store, StoreSettings, current_revision

    settings = StoreSettings()
    try:
        store = Store.open(settings)
    except Exception as exc:  # an unreachable or unwritable database stops the start, with one line saying why
        Console(stderr=True, markup=False).print(f"medval: database {_safe_url(settings.url())}: {type(exc).__name__}: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        return current_revision(store.engine) or "empty"
    finally:
        store.close()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _prepare_metrics_dir() -> None:
    """prometheus-client's multiprocess mode: every worker writes its counters to files in one empty folder."""
    import tempfile

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):  # counters of a previous run would be added to this one's
            stale.unlink()
    else:
        import atexit
        import shutil

        folder = tempfile.mkdtemp(prefix="medval-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, True)  # ours, so ours to remove when the server stops


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the tables to the newest revision (safe to run while workers start: it takes a lock)."""
    from .store import StoreSettings

    revision = _upgrade_database()
    Console(highlight=False).print(f"{_safe_url(StoreSettings().url())}: at revision {revision}")


@db_app.command("purge")
def db_purge() -> None:
    """Delete audit records older than MEDVAL_AUDIT_RETENTION_DAYS and expired token ids."""
    from .store import Store

    _upgrade_database()
    store = Store.open()
    try:
        deleted = store.purge()
    finally:
        store.close()
    Console(highlight=False).print(
        f"deleted {deleted['audit_events']} audit record(s) older than {store.settings.audit_retention_days} days "
        f"and {deleted['used_tokens']} expired token id(s)"
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
