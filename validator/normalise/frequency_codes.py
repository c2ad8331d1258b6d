"""SNOMED CT frequency concepts EHRs send in Timing.code, as administrations a day (the most the concept allows).

Each code was checked against two public sources:
  [Q] OpenEMR QRDA frequency map (src/Services/Qrda/Helpers/Frequency.php, GPL-3, itself the eCQM/Cypress
      direct-reference-code table): code, display and period in hours;
  [NZ] HL7 New Zealand SACT IG value set sact-dose-administration-frequency
      (github HL7NZ/cca input/fsh/terminology/doseTiming.fsh @ d9e5ee397114e5388815ef0717d904bc0d562b59);
  [MRS] OpenMRS order-frequency "oneTime" = SNOMED CT 307486002 (openmrs-module-ebolaexample), and an HL7 FHIR IG
      instance coding 307486002 "Single event (qualifier value)".
A code only one source named is listed with that one source in its row. At bedtime has no code here: no
public source was found to verify one, so a bedtime concept is read from its text (the sig reader), not its code.
"""

from __future__ import annotations

from typing import NamedTuple


class FrequencyConcept(NamedTuple):
    per_day_low: float
    per_day_high: float
    one_time: bool
    display: str
    source: str


def _every(hours_low: float, hours_high: float | None = None) -> tuple[float, float]:
    return (24 / (hours_high or hours_low), 24 / hours_low)


SNOMED_FREQUENCIES: dict[str, FrequencyConcept] = {
    "229797004": FrequencyConcept(1, 1, False, "Once daily", "[Q] 24 h; [NZ] Once daily"),
    "229799001": FrequencyConcept(2, 2, False, "Twice a day", "[Q] 12 h; [NZ] Twice daily"),
    "229798009": FrequencyConcept(3, 3, False, "Three times daily", "[Q] 8 h; [NZ] Three times daily"),
    "307439001": FrequencyConcept(4, 4, False, "Four times daily", "[Q] 6 h; [NZ] Four times daily"),
    "307440004": FrequencyConcept(5, 5, False, "Five times daily", "[NZ]"),
    "307441000": FrequencyConcept(6, 6, False, "Six times daily", "[NZ]"),
    "307442007": FrequencyConcept(7, 7, False, "Seven times daily", "[NZ]"),
    "307443002": FrequencyConcept(8, 8, False, "Eight times daily", "[NZ]"),
    "396107007": FrequencyConcept(1, 2, False, "One to two times a day", "[Q] 12-24 h"),
    "396108002": FrequencyConcept(1, 3, False, "One to three times a day", "[Q] 8-24 h"),
    "396109005": FrequencyConcept(1, 4, False, "One to four times a day", "[Q] 6-24 h"),
    "396111001": FrequencyConcept(2, 4, False, "Two to four times a day", "[Q] 6-12 h"),
    "225768006": FrequencyConcept(*_every(1), False, "Every hour", "[NZ]"),
    "225750008": FrequencyConcept(*_every(2), False, "Every two hours", "[NZ]"),
    "225753005": FrequencyConcept(*_every(3), False, "Every three hours", "[NZ]"),
    "225756002": FrequencyConcept(*_every(4), False, "Every four hours", "[Q] 4 h; [NZ] Every four hours"),
    "307468000": FrequencyConcept(*_every(6), False, "Every six hours", "[Q] 6 h"),
    "307469008": FrequencyConcept(*_every(8), False, "Every eight hours", "[Q] 8 h"),
    "307470009": FrequencyConcept(*_every(12), False, "Every twelve hours", "[Q] 12 h"),
    "396125000": FrequencyConcept(*_every(24), False, "Every twenty four hours", "[Q] 24 h"),
    "396126004": FrequencyConcept(*_every(36), False, "Every thirty six hours", "[Q] 36 h"),
    "396131002": FrequencyConcept(*_every(48), False, "Every forty eight hours", "[Q] 48 h"),
    "396143001": FrequencyConcept(*_every(72), False, "Every seventy two hours", "[Q] 72 h"),
    "225752000": FrequencyConcept(*_every(2, 4), False, "Every two to four hours", "[Q] 2-4 h"),
    "225754004": FrequencyConcept(*_every(3, 4), False, "Every three to four hours", "[Q] 3-4 h"),
    "396127008": FrequencyConcept(*_every(3, 6), False, "Every three to six hours", "[Q] 3-6 h"),
    "396139000": FrequencyConcept(*_every(6, 8), False, "Every six to eight hours", "[Q] 6-8 h"),
    "396140003": FrequencyConcept(*_every(8, 12), False, "Every eight to twelve hours", "[Q] 8-12 h"),
    "307486002": FrequencyConcept(1, 1, True, "Once only (single event)", "[NZ] Once per one time; [MRS] oneTime"),
}
