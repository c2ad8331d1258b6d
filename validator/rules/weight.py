"""Weight-based doses: a dose per kg with neither a weight nor a calculated dose did not get checked; a calculated dose
that does not match the ordered dose per kg for the patient's weight is suspect."""

from __future__ import annotations

from collections.abc import Iterator

from ..context import RuleContext
from ..context import facts as F
from ..context.weight import NoWeight, patient_weight
from ..findings import Finding
from ..messages import FAIL_SAFE_SOURCE, say
from ..normalise import NormalisedOrder
from ..profile import Profile
from ..units import format_mass, format_number
from .registry import emits

# A calculated dose is rounded to something measurable (a whole or half tablet, 0.1 mL): within 10 % of the ordered
# dose per kg times the weight is rounding; beyond it the two numbers of one order say different things.
AGREEMENT = 0.10
_SOURCE = "HL7 dose-rate-type (ordered, calculated); medval: the two doses of one order must agree within rounding (10 %)"


@emits("weight-unavailable", "dose-unit-suspect", "patient-context-unavailable")
def weight_based_dose(order: NormalisedOrder, context: RuleContext, profile: Profile) -> Iterator[Finding]:
    """What it checks: a dose per kg of body weight (mg/kg, mg/kg/d). With a calculated dose sent beside it
    (dose-rate-type `calculated`) the dose checks use that amount, and this rule checks it is the ordered dose per kg
    times the patient's most recent weight (LOINC 29463-7, within 30 days) within 10 %; with only the weight, the
    dose checks use the dose per kg times the weight; with neither, the dose checks did not run.
    Why: a dose per kg cannot be compared with any limit until it is an amount; a calculated dose that does not match
    its own order (an old weight, a slip in the calculation) is given as calculated. Source: HL7 dose-rate-type;
    FHIR Body Weight profile (LOINC 29463-7); medval's fail-safe design.
    Example that fires: examples/sig/weight-based-no-weight.json examples/sig/weight-based-calculated-differs.json
    Example that does not fire: examples/sig/weight-based-with-weight.json examples/sig/weight-based-with-calculated.json
    Fix: record the patient's current weight, or send the calculated dose with the dose per kg (and recalculate it
    when it does not match the weight).
    """
    doses = [d for d in order.dosages if d.per_kg is not None]
    if not doses:
        return
    weight = patient_weight(context, profile, F.order_date(order))
    for dose in doses:
        per_kg = dose.per_kg
        dosing = profile.dosing.get(dose.route.route or "")
        unit = dosing.unit if dosing is not None else "mg"
        if per_kg.calculated_mg is None:
            if dose.weight_kg is None:
                why = weight.why if isinstance(weight, NoWeight) else "no weight was used"
                yield say("weight.unavailable", per_kg.location, FAIL_SAFE_SOURCE, written=per_kg.written, why=why)
            continue
        if isinstance(weight, NoWeight):
            yield say(
                "weight.uncheckable",
                per_kg.calculated_location,
                FAIL_SAFE_SOURCE,
                calculated=per_kg.calculated_written,
                ordered=per_kg.written,
                why=weight.why,
            )
            continue
        if per_kg.per_day != per_kg.calculated_per_day and dose.timing.per_day is None:
            continue  # one per day, the other per dose, and no timing to relate them: nothing to compare
        expected = per_kg.mg_per_kg * weight.kg
        calculated = per_kg.calculated_mg
        if per_kg.per_day and not per_kg.calculated_per_day:
            calculated = calculated * (dose.timing.per_day or 1.0)
        elif per_kg.calculated_per_day and not per_kg.per_day:
            expected = expected * (dose.timing.per_day or 1.0)
        if abs(calculated - expected) <= AGREEMENT * expected:
            continue
        yield say(
            "weight.calculated-differs",
            per_kg.calculated_location,
            _SOURCE,
            calculated=_shown(per_kg.calculated_written, format_mass(calculated, unit)),
            differs=f"{abs(calculated - expected) / expected * 100:.0f}%",
            ordered=per_kg.written,
            weight=f"{format_number(round(weight.kg, 1))} kg ({weight.when})",
            expected=format_mass(expected, unit),
        )


def _shown(written: str, amount: str) -> str:
    """ "1 tablet (10 mg)", or just "10 mg" when that is how it was written."""
    return written if written.replace(" ", "") == amount.replace(" ", "") else f"{written} ({amount})"
