"""Clinical reasoning over the patient's context, where the rules find it.

`context/` says what is known about the patient (resources, their statuses, dates, units); this package
derives what one drug's rules need from it, once per context: the drug's history over time (history.py)
and the facts about the patient that decide which limits apply (drug_facts.py: the origin of the
treated condition, the other active drugs).
"""

from __future__ import annotations

from .course import Course
from .drug_facts import DrugFacts, drug_facts
from .history import History, MedicationUse

__all__ = ["Course", "DrugFacts", "History", "MedicationUse", "drug_facts"]
