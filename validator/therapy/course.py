"""One drug on one route, seen from one order: the record it follows, the orders running beside it, whether
therapy continues past it (docs/therapy-implementation-notes.md, 0.2 and 0.4).

Routes that share a dosing block (enteral tube = oral) count as one route here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..normalise import NormalisedOrder
from ..profile import Profile, RouteDosing
from .history import History, MedicationUse


@dataclass(frozen=True, slots=True)
class Course:
    history: History
    profile: Profile
    dosing: RouteDosing

    def on_route(self, use: MedicationUse) -> bool:
        return any(self.profile.dosing.get(r) is self.dosing for r in use.routes)

    def daily(self, use: MedicationUse) -> float | None:
        """The entry's largest regular daily dose on this route (None: only one-off doses, or none readable)."""
        found = [mg for r, mg in use.daily_mg.items() if self.profile.dosing.get(r) is self.dosing]
        return max(found) if found else None

    def bolus(self, use: MedicationUse) -> float | None:
        found = [mg for r, mg in use.one_off.items() if self.profile.dosing.get(r) is self.dosing]
        return max(found) if found else None

    def _linked(self, order: NormalisedOrder) -> set[int]:
        """Entries the order replaces or that replace it (by identity)."""
        return {id(u) for u in (*self.history.replaced_by(order.resource), *self.history.replacing(order.resource))}

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

    def concurrent(self, order: NormalisedOrder) -> list[MedicationUse]:
        """Other current orders on the route, other than the ones the order replaces or that replace it."""
        linked = self._linked(order)
        return [
            u
            for u in self.history.every
            if u.is_active_order and self.on_route(u) and not u.is_the_order(order.resource) and id(u) not in linked
        ]

    def continued_by(self, order: NormalisedOrder) -> MedicationUse | None:
        """An order that continues the therapy past this one: any current order on the route (linked or not)."""
        return next((u for u in self.history.every if u.is_active_order and self.on_route(u) and not u.is_the_order(order.resource)), None)
