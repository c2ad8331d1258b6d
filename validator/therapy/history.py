"""The drug's history: every order and statement for one profile's drug in a context, normalised once, sorted by time.

A Bundle of n orders then costs n normalisations, not n squared. MedicationStatements are read through
`MedicationUse.of`, which reads a statement's own elements (dosage, effective[x]) instead of posing as a
MedicationRequest.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..context import PatientContext
from ..context import facts as F
from ..context.from_bundle import contained_resolver
from ..lifecycle import Lifecycle, lifecycle_of
from ..normalise import NormalisedOrder
from ..normalise.dose import normalise_dosage
from ..normalise.medication import normalise_medication
from ..normalise.types import version_field
from ..profile import Profile, ProfileSet


def links_of(resource: Any) -> tuple[str, ...]:
    """The references an order gives to the orders it replaces (R4/R5 priorPrescription, a `replaces` where present)."""
    found = []
    for name in ("priorPrescription", "replaces"):
        value = version_field(resource, name)
        for reference in value if isinstance(value, list) else [value]:
            text = getattr(reference, "reference", None)
            if text:
                found.append(str(text))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class MedicationUse:
    """One MedicationRequest or MedicationStatement of the drug, as the titration and starting-dose checks compare it."""

    resource: Any  # the parsed model
    kind: str  # "MedicationRequest" or "MedicationStatement"
    when: datetime | None  # authoredOn, else the statement's effective start or dateAsserted
    daily_mg: dict[str, float]  # route id -> largest daily dose
    one_off: dict[str, float]  # route id -> largest single one-off dose (screening boluses)
    lifecycle: Lifecycle
    links: tuple[str, ...]  # references to the orders it replaces
    as_needed: bool = False  # any of its dosages is as needed (it adds to a schedule; it is no step of it)
    mg_per_ml: float | None = None  # a liquid's concentration, to say when a refill changes it
    unread: frozenset[str] = frozenset()  # coded routes of its dosages with no readable dose (fail safe: still on them)

    @property
    def routes(self) -> set[str]:
        return {*self.daily_mg, *self.one_off, *self.unread}

    @property
    def is_active_order(self) -> bool:
        """A current order (a statement records use; it is never an order to add or a continuation)."""
        return self.kind == "MedicationRequest" and self.lifecycle.active

    @property
    def label(self) -> str:
        """How messages name it: its id, else its kind and date."""
        own = getattr(self.resource, "id", None)
        if own:
            return str(own)
        return f"the {self.kind} of {self.when.date().isoformat()}" if self.when is not None else f"an undated {self.kind}"

    @classmethod
    def of(cls, resource: Any, profile: Profile, resolve: Any) -> MedicationUse:
        kind = resource.get_resource_type()
        # a request's dosageInstruction, a statement's dosage: the same Dosage datatype
        dosages = (resource.dosageInstruction if kind == "MedicationRequest" else getattr(resource, "dosage", None)) or []
        medication = normalise_medication(resource, ProfileSet([profile]), contained_resolver(resource, resolve))
        daily: dict[str, float] = {}
        one_off: dict[str, float] = {}
        as_needed = False
        unread: set[str] = set()
        if medication.profile is not None:
            for i, dosage in enumerate(dosages):
                dose = normalise_dosage(dosage, i, medication, profile)
                as_needed = as_needed or dose.timing.as_needed
                route = dose.route.route
                if route is None:
                    continue
                if dose.timing.one_off and dose.single_mg is not None:
                    one_off[route] = max(one_off.get(route, 0.0), dose.single_mg)
                elif dose.daily_mg is not None:
                    daily[route] = max(daily.get(route, 0.0), dose.daily_mg)
                else:
                    unread.add(route)
        return cls(
            resource,
            kind,
            F.order_time(resource),
            daily,
            one_off,
            lifecycle_of(resource),
            links_of(resource),
            as_needed,
            medication.strength.mg_per_ml if medication.strength is not None else None,
            frozenset(unread),
        )

    def is_the_order(self, resource: Any) -> bool:
        """The order being judged itself (by identity, or by the same type and id)."""
        own_id = getattr(resource, "id", None)
        return self.resource is resource or (
            own_id is not None and (getattr(self.resource, "id", None), self.kind) == (own_id, resource.get_resource_type())
        )


def _key(kind: str, resource_id: Any) -> tuple[str, str] | None:
    return (kind, str(resource_id)) if resource_id else None


@dataclass(frozen=True, slots=True)
class History:
    """Every order and statement of the drug in one context: dated ones oldest first, then the undated.

    Indexed once (by Type/id, by parsed model, and who replaces whom), so following an order's links costs the
    same in a Bundle of ten orders as in one of ten thousand.
    """

    dated: list[MedicationUse]
    times: list[datetime]  # of `dated`, for bisection
    undated: list[MedicationUse]
    resolve: Any = None  # reference -> parsed resource, to follow priorPrescription
    every: list[MedicationUse] = field(default_factory=list)  # dated, then undated
    by_key: dict[tuple[str, str], list[MedicationUse]] = field(default_factory=dict)  # (type, id) -> its entries
    by_model: dict[int, MedicationUse] = field(default_factory=dict)  # id() of the parsed model
    replacers: dict[int, list[MedicationUse]] = field(default_factory=dict)  # id() of an entry -> entries replacing it
    position: dict[int, int] = field(default_factory=dict)  # id() of an entry -> its index in `every`
    route_sets: Counter[frozenset[str]] = field(default_factory=Counter)  # entries with a daily dose on each set of routes

    @classmethod
    def build(cls, context: PatientContext, profile: Profile) -> History:
        found: list[MedicationUse] = []
        for resource in context.medications:
            if not lifecycle_of(resource).history:  # void, cancelled, not taken, do-not-perform: never history
                continue
            if not F.is_profile_drug(resource, profile, context.resolve):
                continue
            try:
                found.append(MedicationUse.of(resource, profile, context.resolve))
            except Exception:  # a malformed history entry never stops the check of the order itself
                continue
        dated = sorted((u for u in found if u.when is not None), key=lambda u: u.when)
        undated = [u for u in found if u.when is None]
        every = dated + undated
        by_key: dict[tuple[str, str], list[MedicationUse]] = {}
        for use in every:
            if (key := _key(use.kind, getattr(use.resource, "id", None))) is not None:
                by_key.setdefault(key, []).append(use)
        history = cls(
            dated,
            [u.when for u in dated],
            undated,
            context.resolve,
            every,
            by_key,
            {id(u.resource): u for u in every},
            position={id(u): i for i, u in enumerate(every)},
            route_sets=Counter(frozenset(u.daily_mg) for u in every),
        )
        for use in every:
            for reference in use.links:
                target = history.named(reference)
                if target is not None and target is not use:
                    history.replacers.setdefault(id(target), []).append(use)
        return history

    def before(self, order: NormalisedOrder) -> Sequence[MedicationUse]:
        """Earlier orders and statements, oldest first.

        'Earlier' means dated before the order (by authoredOn, else effective start or dateAsserted); when the
        order itself is undated, every other one counts.
        """
        now = F.order_time(order.resource)
        if now is not None:
            return self.dated[: bisect_left(self.times, now)]  # strictly before: the order, dated now, is never its own history
        own = self.entry_of(order.resource)
        # every other entry: a view, not a copy, so n undated orders cost n lookups, not n squared (issue 13)
        return self.every if own is None else _AllBut(self.every, self.position[id(own)])

    def count_with_daily_dose(self, on_route: Callable[[str], bool], order: NormalisedOrder) -> int:
        """How many entries other than the order have a daily dose on a route `on_route` accepts: O(distinct route sets)."""
        total = sum(n for routes, n in self.route_sets.items() if any(on_route(r) for r in routes))
        own = self.entry_of(order.resource)
        if own is not None and any(on_route(r) for r in own.daily_mg):
            total -= 1
        return total

    def named(self, reference: str) -> MedicationUse | None:
        """The entry a reference names (by resolving it in context, else by its Type/id)."""
        resolved = self.resolve(reference) if self.resolve is not None else None
        found = self.by_model.get(id(resolved)) if resolved is not None else None
        if found is None:
            tail = reference.rstrip("/").split("/")[-2:]
            same = self.by_key.get((tail[0], tail[1])) if len(tail) == 2 else None
            found = same[-1] if same else None
        return found

    def entry_of(self, resource: Any) -> MedicationUse | None:
        """The order's own entry in the history (the same model, or the same type and id)."""
        found = self.by_model.get(id(resource))
        if found is None:
            same = self.same_order(resource)
            found = same[-1] if same else None
        return found

    def same_order(self, resource: Any) -> list[MedicationUse]:
        """Every entry that is this order: the same type and id (an order sent twice is one order)."""
        key = _key(resource.get_resource_type(), getattr(resource, "id", None))
        return self.by_key.get(key, []) if key is not None else []

    def replaced_by(self, resource: Any) -> list[MedicationUse]:
        """The entries this order names as the ones it replaces."""
        found = (self.named(r) for r in links_of(resource))
        return [u for u in found if u is not None and not u.is_the_order(resource)]

    def replacing(self, resource: Any) -> list[MedicationUse]:
        """The entries that name this order as the one they replace."""
        entry = self.entry_of(resource)
        return list(self.replacers.get(id(entry), ())) if entry is not None else []


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
