"""parse -> normalise -> context -> rules: findings for every MedicationRequest in a document.

Two sources (a lone order, a Bundle's orders) each produce `OrderInput`s; one job, `_check_order`,
checks each against a `Run` (profiles, reference resolver, patient context) and prepends the order's
place in the document to its findings. The engine writes no prose: its findings come from messages.py.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .conformance.as_findings import reconciled, structural_findings
from .context import ContextUnavailable, RuleContext
from .context.from_bundle import BundleIndex, contained_resolver
from .context.weight import weigh_order
from .findings import Finding, Location, Unavailable, effective_severity
from .limits import CappedText, Deadline, cap_free_text, may_hold_long_text
from .messages import PROFILES_SOURCE, say
from .normalise import NormalisedOrder, normalise_order
from .parse import ACCEPTED_TYPES, ParseFailure, detect_version, load_document, parse_resource, strip_non_finite
from .profile import ProfileSet, default_profiles
from .rules import run_rules

# Looks up patient context for a lone order (e.g. from the hospital's FHIR server).
ContextProvider = Callable[[Any], RuleContext]


@dataclass(frozen=True, slots=True)
class OrderInput:
    """One order to check, as both sources produce it."""

    resource: dict[str, Any]  # its JSON, NaN and Infinity already removed
    model: Any | None  # its fhir.resources model when the source already built one; None: parse it here
    notes: tuple[Unavailable, ...]  # values dropped while reading it (NaN, Infinity)
    said: tuple[Finding, ...]  # what the source already had to say of it (over-long text not read), relative to it
    location: Location  # its place in the document: ("MedicationRequest",) or ("Bundle", "entry", 3, "resource")


@dataclass(frozen=True, slots=True)
class Run:
    """What every order of one document is checked with."""

    version: str
    profiles: ProfileSet
    resolve: Callable[[str], Any]  # reference -> parsed resource, beyond the order's contained ones
    context: RuleContext


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    """An order as the rules saw it: later layers (CDS Hooks suggestions) read it instead of normalising again."""

    location: Location
    normalised: NormalisedOrder | None  # None: not valid FHIR, so not normalised


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)  # locations are absolute (from the document's root)
    version: str = "4.0"
    rejected: ParseFailure | None = None  # input that is no acceptable FHIR resource at all
    resource_type: str = ""
    profiles_applied: list[str] = field(default_factory=list)
    profiles_requested: list[str] = field(default_factory=list)  # Parameters.parameter named "profile" ($validate)
    checked: list[CheckedOrder] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return len(self.checked)

    def order_at(self, location: Location) -> NormalisedOrder | None:
        return next((c.normalised for c in self.checked if c.location == location), None)


def _parameters(document: dict[str, Any]) -> list[Any]:
    parameters = document.get("parameter")
    return parameters if isinstance(parameters, list) else []  # a malformed Parameters is judged by what it lacks, never crashed on


def _unwrap_parameters(document: dict[str, Any]) -> dict[str, Any] | ParseFailure:
    for parameter in _parameters(document):
        if isinstance(parameter, dict) and parameter.get("name") == "resource" and isinstance(parameter.get("resource"), dict):
            return parameter["resource"]
    return ParseFailure("The Parameters resource has no 'resource' parameter holding the resource to validate.")


def _requested_profiles(document: dict[str, Any]) -> list[str]:
    values = []
    for parameter in _parameters(document):
        if isinstance(parameter, dict) and parameter.get("name") == "profile":
            value = parameter.get("valueUri") or parameter.get("valueCanonical") or parameter.get("valueString")
            if isinstance(value, str):
                values.append(value)
    return values


def _rejected(report: Report, failure: ParseFailure, location: Location) -> Report:
    report.rejected = failure
    report.findings.append(say("input.unreadable", location, reason=failure.message))
    return report


def _findings_for(order: NormalisedOrder, item: OrderInput, run: Run, report: Report) -> list[Finding]:
    """What the rules say of a normalised order, relative to the order (the engine itself decides nothing)."""
    profile = order.medication.profile
    if profile is None:
        if order.medication.described:
            found = say("order.not-in-scope", order.medication.location, PROFILES_SOURCE, medication=order.medication.description)
        else:
            found = say("order.medication-unidentified", order.medication.location, "medval")
        return [found, *item.said]
    if profile.label not in report.profiles_applied:
        report.profiles_applied.append(profile.label)
    findings = [*run_rules(order, run.context, profile), *item.said] or [_nothing_to_report(order, profile.label)]
    return [f.raised(effective_severity(f, profile.severity)) for f in findings]


def _nothing_to_report(order: NormalisedOrder, profile: str) -> Finding:
    """`no-issues`, saying which checks ran: an order that will not be given (completed, stopped, cancelled,
    do-not-perform) met only the checks about stopping therapy, never the dose and route checks."""
    if order.lifecycle.judged:
        return say("order.no-issues", (), profile, profile=profile)
    status = "marked do-not-perform" if order.lifecycle.do_not_perform else order.lifecycle.status
    return say("order.no-issues-not-given", (), profile, profile=profile, status=status)


def _check_order(item: OrderInput, run: Run, report: Report) -> None:
    model, problems = (item.model, []) if item.model is not None else parse_resource(item.resource, run.version)
    if model is None:
        report.checked.append(CheckedOrder(item.location, None))
        report.findings += [f.descend(*item.location) for f in [*problems, *item.said]]
        return
    order = normalise_order(model, run.profiles, contained_resolver(model, run.resolve), list(item.notes))
    order = weigh_order(order, run.context)  # a dose per kg becomes an amount with the patient's weight, when known
    report.checked.append(CheckedOrder(item.location, order))
    report.findings += [f.descend(*item.location) for f in _findings_for(order, item, run, report)]


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """How one document is checked (validator.check's keyword options)."""

    fhir_version: str | None = None  # None: recognised by the document's shape
    profiles: ProfileSet | None = None  # None: the packaged profiles
    context_provider: ContextProvider | None = None  # a lone order's patient lookup; None: none
    expected_type: str | None = None  # "MedicationRequest" or "Bundle" when the caller needs one of them
    budget_s: float | None = None  # CPU seconds for the whole document; orders not reached get `check-not-finished`
    requested_profiles: tuple[str, ...] = ()  # profiles named outside the body ($validate's ?profile=), beside Parameters'


def check_document(data: bytes | str | dict[str, Any], options: CheckOptions) -> Report:
    """Findings for a MedicationRequest, a Bundle of them, or a Parameters wrapping either."""
    fhir_version, context_provider, expected_type, budget_s = (
        options.fhir_version,
        options.context_provider,
        options.expected_type,
        options.budget_s,
    )
    profiles = options.profiles or default_profiles()
    document, non_finite = load_document(data)
    if isinstance(document, ParseFailure):
        return _rejected(Report(), document, ())
    report = Report()
    envelope = document if document.get("resourceType") == "Parameters" else None
    if envelope is not None:
        report.profiles_requested = _requested_profiles(document)
        document = _unwrap_parameters(document)
        if isinstance(document, ParseFailure):
            return _rejected(report, document, ("Parameters",))
    kind = document.get("resourceType")
    report.version = detect_version(document, fhir_version)
    report.resource_type = str(kind)
    report.profiles_requested += [p for p in options.requested_profiles if p not in report.profiles_requested]
    if kind not in ACCEPTED_TYPES or (expected_type and kind != expected_type):
        wanted = expected_type or "a MedicationRequest or a Bundle"
        return _rejected(report, ParseFailure(f"A {kind} was sent where {wanted} was expected."), (str(kind),))
    # over-long free text is never read (bounded work), and says so; a C-speed scan of the raw JSON skips the walk
    capped = cap_free_text(document) if may_hold_long_text(data) else []
    # --- conformance (issue 17): structural issues first; the clinical layer reads only trusted values ---
    structural, document = structural_findings(document, report.version, report.profiles_requested, envelope)
    report.findings += structural
    if kind == "MedicationRequest":
        item = _lone_order(document, non_finite, tuple(c.finding() for c in capped))
        run = Run(report.version, profiles, lambda _ref: None, _provided_context(context_provider, document))
        _check_order(item, run, report)
    else:
        with _collector_paused():
            _check_bundle(document, profiles, report, non_finite, (capped, Deadline(budget_s)))
    report.findings = reconciled(report.findings, structural)
    return report


def _lone_order(document: dict[str, Any], non_finite: bool, said: tuple[Finding, ...]) -> OrderInput:
    notes = tuple(strip_non_finite(document)) if non_finite else ()
    return OrderInput(document, None, notes, said, ("MedicationRequest",))


def _bundle_orders(index: BundleIndex, entries: list[Any], non_finite: bool, said: dict[int | None, list[Finding]]) -> Iterator[OrderInput]:
    """A Bundle's orders. A clean Bundle's orders were parsed once already, as context: reuse those models (an
    invalid one is parsed again, for its input-invalid findings). Otherwise stripping NaN/Infinity first changes the input."""
    for i in index.by_type.get("MedicationRequest", []):
        resource = entries[i]["resource"]
        notes = tuple(strip_non_finite(resource)) if non_finite else ()
        model = None if non_finite else index.model(i)
        yield OrderInput(resource, model, notes, tuple(said.get(i, ())), ("Bundle", "entry", i, "resource"))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a Bundle is checked.

    A Bundle keeps every parsed model alive until its last order is judged, so each full collection
    walks an ever larger heap: measured, 10,000 orders cost 1.2x per order what 100 do with it on, the
    same with it off. Reference counting still frees everything acyclic; whoever paused it resumes it,
    so concurrent callers leave it on.
    """
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _provided_context(provider: ContextProvider | None, document: dict[str, Any]) -> RuleContext:
    """The provider's context for a lone order; a provider that breaks is a failed source, never an exception."""
    if provider is None:
        return None
    try:
        return provider(document)
    except Exception as exc:
        return ContextUnavailable(f"looking up the patient's data failed ({type(exc).__name__})", configured=True)


def _check_bundle(
    document: dict[str, Any], profiles: ProfileSet, report: Report, non_finite: bool, bounds: tuple[list[CappedText], Deadline]
) -> None:
    entries = document.get("entry") or []
    if not isinstance(entries, list):
        report.findings.append(say("bundle.entry-not-list", ("Bundle", "entry")))
        return
    index = BundleIndex(entries, report.version)
    if not index.by_type.get("MedicationRequest"):
        report.findings.append(say("bundle.no-orders", ("Bundle",)))
        return
    capped, deadline = bounds
    run = Run(report.version, profiles, index.resolve, index.context())
    said = _capped_by_entry(capped)
    order_entries = set(index.by_type.get("MedicationRequest", []))
    for i, entry_said in said.items():  # over-long text in the context entries: said once, where it was
        if i not in order_entries:
            report.findings += [f.descend("Bundle", "entry", i, "resource") if i is not None else f.descend("Bundle") for f in entry_said]
    items = list(_bundle_orders(index, entries, non_finite, said))
    for n, item in enumerate(items):
        if deadline.passed:
            report.findings += _not_finished(items[n:], deadline)
            return
        _check_order(item, run, report)


def _capped_by_entry(capped: list[CappedText]) -> dict[int | None, list[Finding]]:
    """Over-long texts as findings by Bundle entry index, located inside that entry's resource (None: outside any resource)."""
    by_entry: dict[int | None, list[Finding]] = {}
    for c in capped:
        where = c.location
        inside = len(where) > 3 and where[0] == "entry" and isinstance(where[1], int) and where[2] == "resource"
        key, finding = (c.location[1], c.finding(c.location[3:])) if inside else (None, c.finding())
        by_entry.setdefault(key, []).append(finding)
    return by_entry


def _not_finished(items: list[OrderInput], deadline: Deadline) -> list[Finding]:
    """Orders never reached: each says so (never a silent pass), naming the checks that did not run."""
    return [say("order.not-finished", item.location, budget=f"{deadline.budget_s:g}", orders=len(items)) for item in items]
