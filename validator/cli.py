"""`medval validate` and `medval serve`: the command line edge.

Imports the public API, the outcome writer and the settings tree. `validate` contacts no FHIR server unless
asked to (--patient-context): the library reads no environment, and this edge opts in explicitly.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn, TimeRemainingColumn

from . import ContextProvider, __version__, check
from .cli_formats import compact_lines, issue_rule, ndjson_record, sarif_log, sarif_results
from .fhir_xml import NotFhirXml, XmlInputError, xml_to_json
from .outcome import outcome_dict
from .parse import ACCEPTED_TYPES
from .profile import PROFILE_DIR_VARIABLE, ProfileError, ProfileSettings, default_profiles

app = typer.Typer(add_completion=False, help="medval: FHIR MedicationRequest validator.")
db_app = typer.Typer(no_args_is_help=True, help="The service's database (MEDVAL_DATABASE_URL): migrations and retention.")
app.add_typer(db_app, name="db")
STYLE = {"fatal": "bold white on red", "error": "bold red", "warning": "yellow", "information": "cyan"}
EXIT_OK, EXIT_ISSUES, EXIT_USAGE = 0, 1, 2


_PROFILES_HELP = f"A folder of drug profiles to add, or to replace packaged ones with the same id (as {PROFILE_DIR_VARIABLE})."


def _use_profile_dir(folder: Path | None) -> None:
    """Through the environment, so worker processes (serve --workers build their settings from it) load the same
    profiles; the CLI reads it back with ProfileSettings and passes the profiles to the library."""
    if folder is not None:
        current = os.environ.get(PROFILE_DIR_VARIABLE)
        os.environ[PROFILE_DIR_VARIABLE] = os.pathsep.join(filter(None, [current, str(folder)]))


@app.callback(invoke_without_command=True)
def _main(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Print the version and the loaded profiles, then exit.")] = False,
    profiles: Annotated[Path | None, typer.Option("--profiles", help=_PROFILES_HELP)] = None,
) -> None:
    _use_profile_dir(profiles)
    if version:
        print(f"medval {__version__}")
        try:
            for profile in ProfileSettings().load().profiles:
                print(f"  profile {profile.id} {profile.version}: {profile.title} ({profile.path})")
        except ProfileError as exc:
            print(f"medval: profile error: {exc}", file=sys.stderr)
            raise typer.Exit(EXIT_USAGE) from None
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(EXIT_USAGE)


class InputFileError(Exception):
    """A file medval cannot read or parse; the message is one line."""


FORMATS = ("text", "json", "sarif", "compact")
SUFFIXES = (".json", ".ndjson", ".xml")
STDIN = "-"


@dataclass(frozen=True, slots=True)
class _Document:
    file: str  # as written, "<stdin>" for standard input
    line: int | None  # 1-based line of an NDJSON document; None for a whole file
    raw: bytes
    skippable: bool  # found by walking a folder or in NDJSON: another resource type is counted, not an error


def _files(paths: list[Path]) -> list[tuple[Path, bool]]:
    """(file, found by walking a folder) for every file to check."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            found += [(p, True) for p in sorted(path.rglob("*")) if p.suffix in SUFFIXES and p.is_file()]
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


def _ndjson(file: str, raw: bytes) -> Iterator[_Document]:
    for n, line in enumerate(raw.splitlines(), 1):
        if line.strip():
            yield _Document(file, n, line, True)


def _stdin_documents(raw: bytes) -> Iterator[_Document]:
    """Standard input: one JSON or XML document, or NDJSON (one resource per line)."""
    stripped = raw.strip()
    if stripped.startswith(b"<") or b"\n" not in stripped:
        yield _Document("<stdin>", None, raw, False)
        return
    try:
        orjson.loads(stripped)
    except orjson.JSONDecodeError:
        yield from _ndjson("<stdin>", raw)
        return
    yield _Document("<stdin>", None, raw, False)


def _documents(path: Path, in_folder: bool, no_type: list[Path]) -> Iterator[_Document]:
    """Each resource in a file: the file itself, or each line of an NDJSON file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.suffix == ".ndjson":
        yield from _ndjson(str(path), raw)
    elif in_folder and path.suffix == ".json" and _is_other_json(raw):
        no_type.append(path)
    else:
        yield _Document(str(path), None, raw, in_folder)


@dataclass(frozen=True, slots=True)
class _Result:
    """One resource's verdict, made small in the worker: the parent only counts and writes."""

    file: str
    line: int | None
    size: int
    rejected: str | None = None
    skipped: str | None = None  # the resource type of a resource that is not ours to check
    severities: frozenset[str] = frozenset()
    encoded: bytes | None = None  # json, compact: the output, encoded in the worker
    outcome: dict | None = None  # text: the OperationOutcome for the report
    sarif: list | None = None  # sarif: this document's results


@dataclass(frozen=True, slots=True)
class _Job:
    """How every resource of one run is checked and written (sent to each worker process)."""

    version: str | None
    mode: str  # text, json-one, json, compact, sarif
    context_provider: ContextProvider | None
    profile_dirs: str | None = None  # MEDVAL_PROFILE_DIR as the CLI read it; each worker loads (and caches) the profiles


def _check_one(item: tuple[_Document, _Job]) -> _Result:
    document, job = item
    version, mode = job.version, job.mode
    raw, size = document.raw, len(document.raw)
    rejected: str | None = None
    if raw.lstrip()[:1] == b"<":  # FHIR XML: read into the same JSON the engine judges
        try:
            raw, version = xml_to_json(raw, version)
        except NotFhirXml as exc:
            if document.skippable:
                return _Result(document.file, document.line, size, skipped="XML document not in the FHIR namespace")
            rejected = str(exc)
        except XmlInputError as exc:
            rejected = str(exc)
    profiles = default_profiles(extra_dirs=job.profile_dirs)  # once per process (cached)
    report = None if rejected else check(raw, fhir_version=version, profiles=profiles, context_provider=job.context_provider)
    if report is not None and report.rejected:
        kind = report.resource_type
        if document.skippable and kind and kind not in ACCEPTED_TYPES and kind != "None":
            return _Result(document.file, document.line, size, skipped=kind)
        rejected = report.rejected.message
    outcome = None if rejected else outcome_dict(report.findings)  # type: ignore[union-attr]
    severities = frozenset(i["severity"] for i in outcome["issue"]) if outcome else frozenset()
    result = _Result(document.file, document.line, size, rejected, None, severities)
    if mode == "json-one":
        encoded = None if rejected else orjson.dumps(outcome, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        return dataclasses.replace(result, encoded=encoded)
    if mode == "json":
        return dataclasses.replace(result, encoded=ndjson_record(document.file, document.line, outcome, rejected))
    if mode == "compact":
        return dataclasses.replace(result, encoded=compact_lines(document.file, document.line, outcome, rejected))
    if mode == "sarif":
        return dataclasses.replace(result, sarif=sarif_results(document.file, document.line, outcome, rejected))
    return dataclasses.replace(result, outcome=outcome)


def _results(documents: Iterator[_Document], job: _Job, jobs: int) -> Iterator[_Result]:
    items = ((document, job) for document in documents)
    if jobs <= 1:
        yield from map(_check_one, items)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_check_one, items, chunksize=256)


def _print_report(console: Console, label: str, outcome: dict, shown: set[tuple[str, str]]) -> None:
    """One document's issues; a sentence already printed in this run (the patient-context paragraph) is not repeated."""
    issues = outcome["issue"]
    worst = issues[0]["severity"] if issues else "information"
    console.print(f"[bold]{escape(label)}[/bold]  [{STYLE[worst]}]{worst}[/]")
    for issue in issues:
        code = issue_rule(issue)
        where = (issue.get("expression") or [""])[0]
        console.print(f"  [{STYLE[issue['severity']]}]{issue['severity']:<11}[/] [bold]{code}[/bold]  [dim]{escape(where)}[/dim]")
        text = issue["details"]["text"]
        if (code, text) in shown:
            console.print("      [dim](as above)[/dim]")
            continue
        shown.add((code, text))
        console.print(f"      {escape(text)}", highlight=False)
        if issue.get("diagnostics"):
            console.print(f"      [dim]source: {escape(issue['diagnostics'])}[/dim]", highlight=False)


def _progress(errors: Console, total: int | None, show: bool) -> Progress:
    columns = (
        SpinnerColumn(),
        TextColumn("{task.fields[read]} read"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=errors, transient=True, disable=not show)


def _skip_summary(skipped: Counter[str], no_type: list[Path]) -> str:
    parts = []
    if skipped:
        common = skipped.most_common()
        kinds = ", ".join(f"{n} {kind}" for kind, n in common[:12]) + (f", {len(common) - 12} other types" if len(common) > 12 else "")
        parts.append(f"{sum(skipped.values())} document(s) that are not MedicationRequest, Bundle or Parameters ({kinds})")
    if no_type:
        names = ", ".join(str(p) for p in no_type[:10]) + (f" and {len(no_type) - 10} more" if len(no_type) > 10 else "")
        parts.append(f"{len(no_type)} JSON file(s) in folders that are not FHIR resources (no resourceType): {names}")
    return "medval: skipped " + "; and ".join(parts)


@app.command()
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(help="MedicationRequest, Bundle or Parameters files (JSON or XML), NDJSON files, folders, or - for stdin."),
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="text (a readable report), json (one input: its OperationOutcome; several: NDJSON, one {file, line, outcome} "
            "per input), sarif (SARIF 2.1.0) or compact (file:line: severity rule-code expression: text).",
        ),
    ] = "text",
    fhir_version: Annotated[
        str | None, typer.Option("--fhir-version", help="4.0 (default) or 5.0; by default read from each resource's shape.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes (0: every core).")] = 1,
    profiles: Annotated[Path | None, typer.Option("--profiles", help=_PROFILES_HELP)] = None,
    patient_context: Annotated[
        bool,
        typer.Option(
            "--patient-context",
            help="Look each lone order's patient up on the FHIR server MEDVAL_FHIR_BASE_URL names (MEDVAL_FHIR_TOKEN, "
            "MEDVAL_CONTEXT_TIMEOUT_S apply). Off by default: no server is contacted.",
        ),
    ] = False,
) -> None:
    """Validate orders and print a report; exit 0 (no error), 1 (an error or fatal issue) or 2 (bad usage or input).

    In folders and NDJSON, resources of other types (Patient, Observation...) are counted in one line on stderr, not
    checked and not an error.
    """
    _use_profile_dir(profiles)
    console = Console(highlight=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)  # one line per error, paths as written
    if format not in FORMATS:
        errors.print(f"medval: unknown --format {format!r} (use {', '.join(FORMATS)})")
        raise typer.Exit(EXIT_USAGE)
    profile_settings = ProfileSettings()  # the edge reads MEDVAL_PROFILE_DIR (with --profiles added) and passes it down
    try:
        loaded = profile_settings.load()
    except ProfileError as exc:
        errors.print(f"medval: profile error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    provider = None
    if patient_context:  # the edge reads the environment, on request; httpx and the settings machinery only then
        from .context.from_server import ContextSettings

        provider = ContextSettings().provider(loaded)
    if patient_context and provider is None:
        errors.print("medval: --patient-context needs MEDVAL_FHIR_BASE_URL (the FHIR server's base URL)")
        raise typer.Exit(EXIT_USAGE)
    from_stdin = [p for p in paths if str(p) == STDIN]
    files = _files([p for p in paths if str(p) != STDIN])
    missing = [p for p in paths if str(p) != STDIN and not p.exists()]
    if missing or not (files or from_stdin):
        errors.print(f"medval: {missing[0] if missing else paths[0]}: no such file, or no *.json / *.ndjson / *.xml in it")
        raise typer.Exit(EXIT_USAGE)
    stdin_documents = list(_stdin_documents(sys.stdin.buffer.read())) if from_stdin else []
    one_document = len(paths) == 1 and (
        (len(stdin_documents) == 1 and stdin_documents[0].line is None)
        or (not from_stdin and not paths[0].is_dir() and paths[0].suffix != ".ndjson")
    )
    mode = "json-one" if format == "json" and one_document else format
    jobs = os.cpu_count() or 1 if jobs == 0 else max(1, jobs)
    no_type: list[Path] = []
    documents = itertools.chain(stdin_documents, (d for f, in_folder in files for d in _documents(f, in_folder, no_type)))
    total = sum(f.stat().st_size for f, _ in files) + sum(len(d.raw) for d in stdin_documents)
    # the bar goes to stderr, so it shows whenever stderr is a terminal, even with the report going to a file
    show_progress = errors.is_terminal and not one_document
    status, counts, skipped = EXIT_OK, {"orders": 0, "error": 0, "warning": 0}, Counter[str]()
    shown: set[tuple[str, str]] = set()
    sarif: list[dict] = []
    out = sys.stdout.buffer
    started = time.monotonic()
    try:
        with _progress(errors, total, show_progress) as progress:
            task = progress.add_task("validating", total=total or None, read=0, rate=0.0)
            for read, result in enumerate(_results(documents, _Job(fhir_version, mode, provider, profile_settings.profile_dir), jobs), 1):
                progress.update(task, advance=result.size, read=read, rate=read / max(time.monotonic() - started, 1e-6))
                if result.skipped:
                    skipped[result.skipped] += 1
                    continue
                if result.rejected:
                    label = result.file if result.line is None else f"{result.file}:{result.line}"
                    errors.print(f"medval: {label}: {result.rejected}")
                    status = EXIT_USAGE
                else:
                    counts["orders"] += 1
                    if result.severities & {"error", "fatal"}:
                        counts["error"] += 1
                        status = max(status, EXIT_ISSUES)
                    elif "warning" in result.severities:
                        counts["warning"] += 1
                if result.encoded is not None:
                    out.write(result.encoded)
                elif result.sarif is not None:
                    sarif += result.sarif
                elif result.outcome is not None:
                    label = result.file if result.line is None else f"{result.file}:{result.line}"
                    _print_report(console, label, result.outcome, shown)
        if format == "sarif":
            out.write(orjson.dumps(sarif_log(sarif), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
        out.flush()
    except InputFileError as exc:
        errors.print(f"medval: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    if skipped or no_type:
        errors.print(_skip_summary(skipped, no_type))
    if format == "text":
        console.print(f"\n{counts['orders']} checked: {counts['error']} with errors, {counts['warning']} with warnings only.")
    raise typer.Exit(status)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes; they share their state through the database, so any number works.")] = 1,
    profiles: Annotated[Path | None, typer.Option("--profiles", help=_PROFILES_HELP)] = None,
) -> None:
    """Run the HTTP service (FHIR $validate, CDS Hooks, the web page at /, /docs, /health, /metrics); migrates the
    database first."""
    from .http.server import run

    _use_profile_dir(profiles)
    try:
        ProfileSettings().load()  # each worker loads them again, from the same environment (create_app's settings)
    except ProfileError as exc:
        Console(stderr=True).print(f"medval: profile error: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    _upgrade_database()  # before any worker starts: workers then find the tables in place
    _prepare_metrics_dir()
    print(f"medval {__version__} listening on http://{host}:{port}/ (API docs at /docs)", flush=True)
    run(host, port, workers)  # with header/body timeouts and a connection limit (MEDVAL_* settings)


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
