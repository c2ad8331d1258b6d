"""One drug on one route, seen from one order: the record it follows, the orders running beside it, whether
therapy continues past it (docs/therapy-implementation-notes.md, 0.2 and 0.4).

Routes that share a dosing block (enteral tube = oral) count as one route here. A Course is built once per
context, profile and dosing block (DrugFacts.course), so the current orders are listed and summed once.
"""

from __future__ import annotations

from functools import cached_property

from ..normalise import NormalisedOrder
from ..profile import Profile, RouteDosing
from ..units import format_mass
from .history import History, MedicationUse

SHOWN = 3  # concurrent orders named in a message; the rest are counted


class Course:
    def __init__(self, history: History, profile: Profile, dosing: RouteDosing) -> None:
        self.history = history
        self.profile = profile
        self.dosing = dosing

    def on_route(self, use: MedicationUse) -> bool:
        return any(self.profile.dosing.get(r) is self.dosing for r in use.routes)

    def daily(self, use: MedicationUse) -> float | None:
        """The entry's largest regular daily dose on this route (None: only one-off doses, or none readable)."""
        found = [mg for r, mg in use.daily_mg.items() if self.profile.dosing.get(r) is self.dosing]
        return max(found) if found else None

    def unreadable(self, use: MedicationUse) -> bool:
        """The entry has a dosage on this route whose dose could not be read (its daily amount is unknown)."""
        return any(self.profile.dosing.get(r) is self.dosing for r in use.unread)

    def bolus(self, use: MedicationUse) -> float | None:
        found = [mg for r, mg in use.one_off.items() if self.profile.dosing.get(r) is self.dosing]
        return max(found) if found else None

    @cached_property
    def active(self) -> list[MedicationUse]:
        """The current orders on the route (active or unknown status; never a statement, a draft or on hold)."""
        return [u for u in self.history.every if u.is_active_order and self.on_route(u)]

    @cached_property
    def _active_mg(self) -> float:
        return sum(self.daily(u) or 0.0 for u in self.active)

    def _excluded(self, order: NormalisedOrder) -> list[MedicationUse]:
        """The order itself and the orders it replaces or that replace it: never beside it."""
        own = self.history.entry_of(order.resource)
        same = [*([own] if own is not None else []), *self.history.same_order(order.resource)]
        linked = [*self.history.replaced_by(order.resource), *self.history.replacing(order.resource)]
        found: dict[int, MedicationUse] = {id(u): u for u in same + linked}
        return [u for u in found.values() if u.is_active_order and self.on_route(u)]

    def concurrent(self, order: NormalisedOrder) -> tuple[list[MedicationUse], int, float]:
        """Other current orders on the route: (the first few, to name; how many in all; their daily mg together)."""
        excluded = self._excluded(order)
        skip = {id(u) for u in excluded}
        count = len(self.active) - len(excluded)
        shown: list[MedicationUse] = []
        for use in self.active:
            if len(shown) == SHOWN:
                break
            if id(use) not in skip and not use.is_the_order(order.resource):
                shown.append(use)
        total = self._active_mg - sum(self.daily(u) or 0.0 for u in excluded)
        return shown, max(count, len(shown)), max(total, 0.0)

    @cached_property
    def _active_unreadable(self) -> list[MedicationUse]:
        return [u for u in self.active if self.unreadable(u)]

    def concurrent_unreadable(self, order: NormalisedOrder) -> list[MedicationUse]:
        """Other current orders on the route with a dose that could not be read: their sum is unknown (fail safe)."""
        if not self._active_unreadable:
            return []
        skip = {id(u) for u in self._excluded(order)}
        return [u for u in self._active_unreadable if id(u) not in skip and not u.is_the_order(order.resource)]

    def previous(self, order: NormalisedOrder) -> MedicationUse | None:
        """The record the order's dose follows: the one it names as replaced, else the latest earlier record on the
        route, other than a current as-needed order beside a schedule (or a schedule beside this as-needed order):
        those add up, they are no step. An earlier current scheduled order is a step (two unlinked pump orders
        cannot both run: the newer one changes the rate), and also a duplicate (duplicate-therapy)."""
        named = [u for u in self.history.replaced_by(order.resource) if self.on_route(u) and self.daily(u)]
        if named:
            return max(named, key=lambda u: (u.when is not None, u.when or 0))
        as_needed = any(d.timing.as_needed for d in order.dosages)
        for use in reversed(self.history.before(order)):
            additive = use.is_active_order and (use.as_needed or as_needed)
            if self.on_route(use) and self.daily(use) and not additive:
                return use
        return None

    def has_record_before(self, order: NormalisedOrder) -> bool:
        """Any earlier order or statement on this route."""
        return any(self.on_route(u) for u in self.history.before(order))

    def continued_by(self, order: NormalisedOrder) -> MedicationUse | None:
        """An order that continues the therapy past this one: any current order on the route (linked or not)."""
        return next((u for u in self.active if not u.is_the_order(order.resource)), None)


def describe_orders(course: Course, shown: list[MedicationUse], count: int) -> str:
    """'rx-po-prn (30 mg/day)', 'a (60 mg/day), b (dose not readable) and 12 more current orders'."""
    named = [f"{u.label} ({_daily_text(course, u)})" for u in shown]
    rest = count - len(shown)
    if rest > 0:
        return ", ".join(named) + f" and {rest} more current order{'s' if rest > 1 else ''}"
    return " and ".join(named) if len(named) <= 2 else ", ".join(named[:-1]) + " and " + named[-1]


def _daily_text(course: Course, use: MedicationUse) -> str:
    if course.unreadable(use):
        return "dose not readable"
    return f"{format_mass(course.daily(use) or 0.0, course.dosing.unit)}/day"
