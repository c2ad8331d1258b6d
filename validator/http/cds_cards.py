"""medval findings -> CDS Hooks cards (CDS Hooks 2.0 "CDS Service Response"), with suggestions where the fix is unambiguous.

Knows no drug: route codes, maxima and units come from the loaded profile.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from .. import Report
from ..findings import RULE_CATALOGUE, RULE_SYSTEM, SEVERITY_RANK, Finding, Location, effective_severity, fhirpath
from ..messages import FAIL_SAFE_SOURCE
from ..messages import summary_of as message_summary
from ..normalise import NormalisedOrder
from ..profile import Profile, ProfileSet
from ..units import UnitKind, format_mass, format_number, parse_unit

OVERRIDE_SYSTEM = "https://medval.dev/fhir/CodeSystem/cds-override-reason"
OVERRIDE_REASONS = [
    {"system": OVERRIDE_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk for this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "tolerated-previously", "display": "Patient has tolerated this before"},
    {"system": OVERRIDE_SYSTEM, "code": "will-monitor", "display": "Patient will be monitored closely"},
    {"system": OVERRIDE_SYSTEM, "code": "specialist-directed", "display": "Directed by a specialist"},
    {"system": OVERRIDE_SYSTEM, "code": "data-incorrect", "display": "Patient data in the record is incorrect"},
]

INDICATOR = {"fatal": "critical", "error": "critical", "warning": "warning", "information": "info"}
SUMMARY_LIMIT = 139  # CDS Hooks: "<140-character summary"


@dataclass(slots=True)
class DraftOrder:
    entry: int  # index in the Bundle that was checked (the same as in context.draftOrders)
    reference: str  # "MedicationRequest/id", as context.selections names it
    resource: dict[str, Any]
    facts: NormalisedOrder | None = None  # as the engine normalised it (Report.order_at), never normalised again here

    @property
    def location(self) -> Location:
        return ("Bundle", "entry", self.entry, "resource")


@dataclass(slots=True)
class ContextGap:
    """Patient data the request asked medval to use but that could not be had."""

    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Fix:
    rule: str
    label: str
    description: str
    apply: Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class CardRecord:
    """What the feedback endpoint needs to know about a card it handed out."""

    service: str
    rule: str
    order: str
    suggestions: dict[str, str]  # suggestion uuid -> label


def entry_of(location: Location) -> tuple[int, Location] | None:
    """(entry index, location inside the entry's resource) of a finding on a Bundle entry."""
    if len(location) < 3 or location[:2] != ("Bundle", "entry") or not isinstance(location[2], int):
        return None
    inside = location[3:]
    return location[2], inside[1:] if inside[:1] == ("resource",) else inside


def _dosage_index(relative: Location, *allowed_tails: Location) -> int | None:
    """k when `relative` is ("dosageInstruction", k) followed by one of `allowed_tails`."""
    if len(relative) >= 2 and relative[0] == "dosageInstruction" and isinstance(relative[1], int) and relative[2:] in allowed_tails:
        return relative[1]
    return None


def attach_facts(report: Report, orders: list[DraftOrder]) -> None:
    """Each draft order's normalised form, as the engine made it while checking (None: not valid FHIR)."""
    for order in orders:
        order.facts = report.order_at(order.location)


def mentions_profiled_drug(resource: Any, profiles: ProfileSet) -> bool:
    """Does anything in the resource (codings, texts) name a drug a loaded profile covers?"""
    stack = [resource]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("code"), str) and profiles.by_code(node.get("system"), node["code"]):
                return True
            for key in ("text", "display"):
                if isinstance(node.get(key), str) and profiles.by_text(node[key]):
                    return True
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return False


def summary_of(finding: Finding, prefix: str = "") -> str:
    """Under 140 characters: the finding's sentence when it fits, else its message's summary template (messages.py)."""
    candidates = [" ".join(finding.text.split())]
    if (short := message_summary(finding)) is not None:
        candidates.append(" ".join(short.split()))
    for candidate in candidates:
        if len(prefix) + len(candidate) <= SUMMARY_LIMIT:
            return prefix + candidate
    room = SUMMARY_LIMIT - len(prefix) - 1
    cut = candidates[-1][:room].rsplit(" ", 1)[0]
    return f"{prefix}{cut}…"


# --- suggestions ---------------------------------------------------------------------------------


def route_fix(finding: Finding, relative: Location, order: DraftOrder, profile: Profile) -> Fix | None:
    """A forbidden or mismatched route on a product that can only go one permitted way: use that way."""
    k = _dosage_index(relative, (), ("route",))
    facts = order.facts
    if k is None or facts is None or facts.medication.form is None:
        return None
    form = profile.forms[facts.medication.form]
    permitted = [r for r in form.routes if profile.routes[r].permitted]
    if len(permitted) != 1:
        return None
    target = permitted[0]
    dosages = order.resource.get("dosageInstruction")
    if not isinstance(dosages, list) or k >= len(dosages) or not isinstance(dosages[k], dict):
        return None
    old = dosages[k].get("route") if isinstance(dosages[k].get("route"), dict) else {}
    systems = [c.get("system") for c in old.get("coding") or [] if isinstance(c, dict) and c.get("system")]
    coding = profile.routes[target].coding(systems)
    if coding is None:
        return None
    display = profile.routes[target].display

    def apply(resource: dict[str, Any]) -> None:
        dosage = resource["dosageInstruction"][k]
        dosage["route"] = {"coding": [coding], "text": display}
        dosage.pop("text", None)  # free text written for the old route would now contradict the order

    return Fix(
        finding.rule,
        f"Give by the {display} route",
        f"Set dosageInstruction[{k}].route to {display} ({coding['code']}): "
        f"the only permitted route for the product's form ({form.display}).",
        apply,
    )


def dose_fix(finding: Finding, relative: Location, order: DraftOrder, profile: Profile) -> Fix | None:
    """A daily dose above the route maximum, from one dose quantity on one schedule: the same schedule at the maximum."""
    if finding.message != "dose.above-maximum":
        return None  # a combined total or an age-band limit: scaling this order to the route maximum would not fix it
    k = _dosage_index(relative, ())
    facts = order.facts
    if k is None or facts is None:
        return None
    dose = next((d for d in facts.dosages if d.index == k), None)
    if dose is None or dose.is_rate or not dose.daily_mg or dose.route.route is None:
        return None
    dosing = profile.dosing.get(dose.route.route)
    if dosing is None or dosing.maximum_daily is None:
        return None
    dosages = order.resource.get("dosageInstruction")
    if not isinstance(dosages, list) or k >= len(dosages) or not isinstance(dosages[k], dict):
        return None
    dose_and_rate = dosages[k].get("doseAndRate")
    if not isinstance(dose_and_rate, list) or len(dose_and_rate) != 1 or not isinstance(dose_and_rate[0], dict):
        return None
    quantity = dose_and_rate[0].get("doseQuantity")
    if not isinstance(quantity, dict) or not isinstance(quantity.get("value"), int | float) or quantity["value"] <= 0:
        return None
    unit = quantity.get("code") or quantity.get("unit")
    parsed = parse_unit(unit, profile.count_units) if isinstance(unit, str) else None
    if parsed is None:
        return None
    value = float(quantity["value"])
    scaled = value * dosing.maximum_daily.value / dose.daily_mg
    # counted units (tablets, packets) in whole units; amounts to two decimals; always rounded down
    new = math.floor(scaled + 1e-9) if parsed.kind is UnitKind.COUNT else math.floor(scaled * 100 + 1e-9) / 100
    if new <= 0 or new >= value:
        return None
    new_daily = dose.daily_mg * new / value
    route = profile.routes[dose.route.route].display
    written_unit = quantity.get("unit") or unit
    new_text = f"{format_number(new)} {written_unit}"
    limit = format_mass(dosing.maximum_daily.value, dosing.unit)
    schedule = f"{format_number(round(dose.times_a_day, 3))}/day" if dose.times_a_day is not None else dose.timing.description

    def apply(resource: dict[str, Any]) -> None:
        dosage = resource["dosageInstruction"][k]
        dosage["doseAndRate"][0]["doseQuantity"]["value"] = int(new) if float(new).is_integer() else new
        dosage.pop("text", None)  # free text written for the old dose would now contradict the order

    return Fix(
        finding.rule,
        f"Reduce to {new_text} ({format_mass(new_daily, dosing.unit)}/day)",
        f"Keep the schedule ({schedule}) and give {new_text} each time: "
        f"{format_mass(new_daily, dosing.unit)}/day, within the {limit}/day {route} maximum.",
        apply,
    )


FIXERS: dict[str, Callable[[Finding, Location, DraftOrder, Profile], Fix | None]] = {
    "route-not-permitted": route_fix,
    "route-form-mismatch": route_fix,
    "daily-dose-exceeds-maximum": dose_fix,
}


def _suggestion(fixes: list[Fix], resource: dict[str, Any], recommended: bool) -> dict[str, Any]:
    corrected = copy.deepcopy(resource)
    for fix in fixes:
        fix.apply(corrected)
    label = fixes[0].label if len(fixes) == 1 else "Apply all corrections: " + "; ".join(f.label for f in fixes)
    suggestion: dict[str, Any] = {
        "label": label[:200],
        "uuid": str(uuid.uuid4()),
        "actions": [
            {
                "type": "update",
                "description": " ".join(f.description for f in fixes),
                "resource": corrected,
            }
        ],
    }
    if recommended:
        suggestion["isRecommended"] = True
    return suggestion


# --- cards ---------------------------------------------------------------------------------------


# A suggestion's update action carries the whole corrected order (CDS Hooks replaces the resource), so an order
# with hundreds of dosages repeated in every card's suggestions made responses of tens of MB: capped per response.
MAX_SUGGESTION_BYTES = 256_000


@dataclass(slots=True)
class CardBuilder:
    service: str
    hook: str
    profiles: ProfileSet
    source_url: str | None = None
    records: dict[str, CardRecord] = field(default_factory=dict)  # card uuid -> record, for feedback
    suggestion_bytes_left: int = MAX_SUGGESTION_BYTES

    def _source(self, label: str, rule: str) -> dict[str, Any]:
        source: dict[str, Any] = {
            "label": label,
            "topic": {"system": RULE_SYSTEM, "code": rule, "display": RULE_CATALOGUE[rule].summary},
        }
        if self.source_url:
            source["url"] = self.source_url
        return source

    def _wanted(self, finding: Finding, order: DraftOrder, severity: str) -> bool:
        info = RULE_CATALOGUE[finding.rule]
        if info.card == "never":
            return False
        if info.card == "if-profiled-drug":
            return mentions_profiled_drug(order.resource, self.profiles)
        if self.hook == "order-select" and info.issue_type == "incomplete":
            return False  # order-select: the order is still being written; missing details are expected
        if severity == "information":
            return info.card == "always"
        return True

    def build(self, report: Report, orders: list[DraftOrder], judged: set[int], gap: ContextGap) -> list[dict[str, Any]]:
        by_entry = {o.entry: o for o in orders}
        raised = {(f.rule, e[0]) for f in report.findings if (e := entry_of(f.location))}
        grouped: dict[int, list[tuple[Finding, Location, str]]] = {}
        engine_gaps: list[str] = []
        seen: set[tuple[str, Location, str]] = set()
        for finding in report.findings:
            located = entry_of(finding.location)
            if located is None or located[0] not in judged or located[0] not in by_entry:
                continue
            if (finding.rule, finding.location, finding.text) in seen:
                continue
            seen.add((finding.rule, finding.location, finding.text))
            severity = effective_severity(finding)
            superseded_by = RULE_CATALOGUE[finding.rule].superseded_by
            if superseded_by and (superseded_by, located[0]) in raised:
                continue  # e.g. judged against a route the order must not use; the route card says what matters
            if finding.rule == "patient-context-unavailable":
                engine_gaps.append(finding.text)
            elif self._wanted(finding, by_entry[located[0]], severity):
                grouped.setdefault(located[0], []).append((finding, located[1], severity))
        in_scope = [o for o in orders if o.entry in judged and o.facts is not None and o.facts.medication.profile is not None]
        several = len(in_scope) > 1
        cards: list[dict[str, Any]] = []
        for entry in sorted(grouped):
            order = by_entry[entry]
            items = sorted(grouped[entry], key=lambda item: -SEVERITY_RANK[item[2]])
            cards += self._order_cards(order, items, several, report)
        if in_scope and (gap.reasons or engine_gaps):
            cards.append(self._context_card(gap, engine_gaps, report, in_scope))
        return cards

    def _label(self, order: DraftOrder, report: Report) -> str:
        profile = order.facts.medication.profile if order.facts is not None else None
        if profile is not None:
            return profile.label
        return report.profiles_applied[0] if len(report.profiles_applied) == 1 else "medval"

    def _order_cards(
        self, order: DraftOrder, items: list[tuple[Finding, Location, str]], several: bool, report: Report
    ) -> list[dict[str, Any]]:
        profile = order.facts.medication.profile if order.facts is not None else None
        fixes: dict[int, Fix] = {}
        if profile is not None:
            for i, (finding, relative, _severity) in enumerate(items):
                fixer = FIXERS.get(finding.rule)
                fix = fixer(finding, relative, order, profile) if fixer else None
                if fix is not None:
                    fixes[i] = fix
        prefix = ""
        if several and order.facts is not None and order.facts.medication.description:
            prefix = f"{order.facts.medication.description[:40]}: "
        label = self._label(order, report)
        order_size = 0  # the order's JSON size, measured once when a suggestion is first wanted
        cards = []
        for i, (finding, relative, severity) in enumerate(items):
            indicator = INDICATOR[severity]
            card: dict[str, Any] = {
                "uuid": str(uuid.uuid4()),
                "summary": summary_of(finding, prefix),
                "indicator": indicator,
                "detail": self._detail(finding, relative, severity, order, fixes.get(i)),
                "source": self._source(label, finding.rule),
            }
            suggestions = []
            if i in fixes:
                wanted = [([fixes[i]], len(fixes) == 1)] + ([([fixes[j] for j in sorted(fixes)], True)] if len(fixes) > 1 else [])
                order_size = order_size or len(orjson.dumps(order.resource))
                for chosen, recommended in wanted:
                    if order_size > self.suggestion_bytes_left:
                        card["detail"] += (
                            f"\n\n_No corrected order is attached: it would pass medval's limit of "
                            f"{MAX_SUGGESTION_BYTES // 1000} kB of suggestions per response. Make the change in the order itself._"
                        )
                        break
                    self.suggestion_bytes_left -= order_size
                    suggestions.append(_suggestion(chosen, order.resource, recommended=recommended))
            if suggestions:
                card["selectionBehavior"] = "at-most-one"
                card["suggestions"] = suggestions
            if indicator == "warning":
                card["overrideReasons"] = OVERRIDE_REASONS
            labels = {s["uuid"]: s["label"] for s in suggestions}
            self.records[card["uuid"]] = CardRecord(self.service, finding.rule, order.reference, labels)
            cards.append(card)
        return cards

    def _detail(self, finding: Finding, relative: Location, severity: str, order: DraftOrder, fix: Fix | None) -> str:
        description = order.facts.medication.description if order.facts is not None else ""
        lines = [
            f"**{finding.text}**",
            "",
            f"- Order: `{order.reference}`" + (f" ({description})" if description else ""),
        ]
        if relative:
            lines.append(f"- Element: `{fhirpath(relative)}`")
        lines.append(f"- Rule: `{finding.rule}` ({RULE_CATALOGUE[finding.rule].summary}); severity {severity}")
        if finding.source:
            lines.append(f"- Source: {finding.source}")
        if fix is not None:
            lines += ["", f"Suggested correction: {fix.description}"]
        return "\n".join(lines)

    def _context_card(self, gap: ContextGap, engine_gaps: list[str], report: Report, in_scope: list[DraftOrder]) -> dict[str, Any]:
        indicator = "warning" if gap.reasons else "info"
        labels = sorted({self._label(o, report) for o in in_scope})
        lines = ["**Patient data needed by some checks was not available, so those checks did not run.**", ""]
        lines += [f"- {reason}" for reason in gap.reasons]
        if engine_gaps:
            lines += ["", engine_gaps[0]]
        lines += ["", "- Rule: `patient-context-unavailable`", f"- Source: {FAIL_SAFE_SOURCE}"]
        card: dict[str, Any] = {
            "uuid": str(uuid.uuid4()),
            "summary": (
                "Patient data could not be obtained: patient-dependent checks (age, kidney function, allergies...) did not run."
                if gap.reasons
                else "No patient data was supplied: patient-dependent checks (age, kidney function, allergies...) did not run."
            ),
            "indicator": indicator,
            "detail": "\n".join(lines),
            "source": self._source(", ".join(labels), "patient-context-unavailable"),
        }
        if indicator == "warning":
            card["overrideReasons"] = OVERRIDE_REASONS
        self.records[card["uuid"]] = CardRecord(self.service, "patient-context-unavailable", "", {})
        return card
