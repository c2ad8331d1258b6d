"""The drug's history: every order and statement for one profile's drug in a context, normalised once, sorted by time.

A Bundle of n orders then costs n normalisations, not n squared. MedicationStatements are read through
`MedicationUse.of`, which reads a statement's own elements (dosage, effective[x]) instead of posing as a
MedicationRequest.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..context import PatientContext
from ..context import facts as F
from ..context.from_bundle import contained_resolver
from ..normalise import NormalisedOrder
from ..normalise.dose import normalise_dosage
from ..normalise.medication import normalise_medication
from ..profile import Profile, ProfileSet

HISTORY_STATUSES = F.MEDICATION_HISTORY


@dataclass(frozen=True, slots=True)
class MedicationUse:
    """One MedicationRequest or MedicationStatement of the drug, as the titration and starting-dose checks compare it."""

    resource: Any  # the parsed model
    kind: str  # "MedicationRequest" or "MedicationStatement"
    when: datetime | None  # authoredOn, else the statement's effective start or dateAsserted
    daily_mg: dict[str, float]  # route id -> largest daily dose
    one_off: dict[str, float]  # route id -> largest single one-off dose (screening boluses)

    @classmethod
    def of(cls, resource: Any, profile: Profile, resolve: Any) -> MedicationUse:
        kind = resource.get_resource_type()
        # a request's dosageInstruction, a statement's dosage: the same Dosage datatype
        dosages = (resource.dosageInstruction if kind == "MedicationRequest" else getattr(resource, "dosage", None)) or []
        medication = normalise_medication(resource, ProfileSet([profile]), contained_resolver(resource, resolve))
        daily: dict[str, float] = {}
        one_off: dict[str, float] = {}
        if medication.profile is not None:
            for i, dosage in enumerate(dosages):
                dose = normalise_dosage(dosage, i, medication, profile)
                route = dose.route.route
                if route is None:
                    continue
                if dose.timing.one_off and dose.single_mg is not None:
                    one_off[route] = max(one_off.get(route, 0.0), dose.single_mg)
                elif dose.daily_mg is not None:
                    daily[route] = max(daily.get(route, 0.0), dose.daily_mg)
        return cls(resource, kind, F.order_time(resource), daily, one_off)

    def is_the_order(self, resource: Any) -> bool:
        """The order being judged itself (by identity, or by the same type and id)."""
        own_id = getattr(resource, "id", None)
        return self.resource is resource or (
            own_id is not None and (getattr(self.resource, "id", None), self.kind) == (own_id, resource.get_resource_type())
        )


@dataclass(frozen=True, slots=True)
class History:
    """Every order and statement of the drug in one context: dated ones oldest first, then the undated."""

    dated: list[MedicationUse]
    times: list[datetime]  # of `dated`, for bisection
    undated: list[MedicationUse]
    everyone: list[MedicationUse]  # undated + dated: an undated order's history is all of it but itself
    position: dict[Any, int]  # where each resource sits in `everyone`, by object identity and by (type, id)
    route_sets: Counter[frozenset[str]]  # how many entries have a daily dose on each set of routes (a handful)

    @classmethod
    def build(cls, context: PatientContext, profile: Profile) -> History:
        found: list[MedicationUse] = []
        for resource in context.medications:
            if F.status_code(getattr(resource, "status", None)) not in HISTORY_STATUSES:
                continue
            if not F.is_profile_drug(resource, profile, context.resolve):
                continue
            try:
                found.append(MedicationUse.of(resource, profile, context.resolve))
            except Exception:  # a malformed history entry never stops the check of the order itself
                continue
        dated = sorted((u for u in found if u.when is not None), key=lambda u: u.when)
        undated = [u for u in found if u.when is None]
        everyone = undated + dated
        position: dict[Any, int] = {}
        for i, use in enumerate(everyone):
            position.setdefault(id(use.resource), i)
            if getattr(use.resource, "id", None) is not None:
                position.setdefault((use.kind, use.resource.id), i)
        route_sets = Counter(frozenset(u.daily_mg) for u in everyone)
        return cls(dated, [u.when for u in dated], undated, everyone, position, route_sets)

    def _own_position(self, resource: Any) -> int | None:
        found = self.position.get(id(resource))
        if found is None and getattr(resource, "id", None) is not None:
            found = self.position.get((resource.get_resource_type(), resource.id))
        return found

    def before(self, order: NormalisedOrder) -> Sequence[MedicationUse]:
        """Earlier orders and statements, oldest first.

        'Earlier' means dated before the order (by authoredOn, else effective start or dateAsserted); when the
        order itself is undated, every other one counts.
        """
        now = F.order_time(order.resource)
        if now is not None:
            return self.dated[: bisect_left(self.times, now)]  # strictly before: the order, dated now, is never its own history
        own = self._own_position(order.resource)
        # every other entry: a view, not a copy, so n undated orders cost n lookups, not n squared (issue 13)
        return self.everyone if own is None else _AllBut(self.everyone, own)

    def count_with_daily_dose(self, on_route: Callable[[str], bool], order: NormalisedOrder) -> int:
        """How many entries other than the order have a daily dose on a route `on_route` accepts: O(distinct route sets)."""
        total = sum(n for routes, n in self.route_sets.items() if any(on_route(r) for r in routes))
        own = self._own_position(order.resource)
        if own is not None and any(on_route(r) for r in self.everyone[own].daily_mg):
            total -= 1
        return total


class _AllBut(Sequence[MedicationUse]):
    """A list without one of its items, in O(1) space and time."""

    def __init__(self, items: list[MedicationUse], skip: int) -> None:
        self._items = items
        self._skip = skip

    def __len__(self) -> int:
        return len(self._items) - 1

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._items[index + (index >= self._skip)]
