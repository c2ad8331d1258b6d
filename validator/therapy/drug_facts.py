"""What one profile's rules derive from one patient context, each computed on first use and kept with the context."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ..context import PatientContext
from ..context import facts as F
from ..profile import Profile, RouteDosing
from .course import Course
from .history import History


class DrugFacts:
    """The facts about this patient that one drug's rules read: its history, the origin of the treated condition,
    the other active drugs. Built once per (context, profile) by `drug_facts`."""

    def __init__(self, context: PatientContext, profile: Profile) -> None:
        self.context = context
        self.profile = profile
        self._courses: dict[int, Course] = {}

    @cached_property
    def history(self) -> History:
        return History.build(self.context, self.profile)

    def course(self, dosing: RouteDosing) -> Course:
        """The drug on one route (one dosing block), as the therapy rules follow it; built once per block."""
        found = self._courses.get(id(dosing))
        if found is None:
            found = self._courses[id(dosing)] = Course(self.history, self.profile, dosing)
        return found

    @cached_property
    def condition_origin(self) -> str | None:
        """One of the profile's origins ("spinal", "cerebral") when the active conditions point one way only; None when unknown or mixed."""
        if not self.context.has_record:
            return None
        found = {origin for origin, groups in self.profile.context.origin.items() if F.matching_conditions(self.context, groups)}
        return found.pop() if len(found) == 1 else None

    @cached_property
    def active_other_drugs(self) -> list[Any]:
        """Active medications in context that are not the profile's drug (candidates for interactions)."""
        resolve = self.context.resolve
        return [m for m in self.context.medications if F.medication_active(m) and not F.is_profile_drug(m, self.profile, resolve)]


def drug_facts(context: PatientContext, profile: Profile) -> DrugFacts:
    """The one DrugFacts of this context for this profile."""
    found = context.derived.get(profile.id)
    if found is None:
        found = context.derived[profile.id] = DrugFacts(context, profile)
    return found


def condition_origin(context: Any, profile: Profile) -> str | None:
    """drug_facts(...).condition_origin for a rule's context, which may be no PatientContext at all."""
    return drug_facts(context, profile).condition_origin if isinstance(context, PatientContext) else None


def course_of(context: Any, profile: Profile, dosing: RouteDosing) -> Course | None:
    """The course of the drug on a route for a rule's context; None when the history could not be read (no context,
    or its MedicationRequest/MedicationStatement search failed)."""
    if not isinstance(context, PatientContext):
        return None
    if any(f.startswith(("MedicationRequest", "MedicationStatement")) for f in context.failures):
        return None
    return drug_facts(context, profile).course(dosing)
