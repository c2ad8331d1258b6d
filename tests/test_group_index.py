"""The compiled group index answers exactly as the plain loop over groups does, for every code in the profile."""

from __future__ import annotations

from types import SimpleNamespace

from validator.context import facts
from validator.profile import default_profiles

ICD = "http://hl7.org/fhir/sid/icd-10-cm"


def _concept(system: str, code: str, text: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(coding=[SimpleNamespace(system=system, code=code, display=None)], text=text)


def _naive(concepts, groups, names="fallback"):
    for group in groups:
        if any(facts.concept_matches(c, group, names) for c in concepts):
            return group
    return None


def test_index_agrees_with_the_plain_loop_for_every_profile_code() -> None:
    profile = default_profiles().profiles[0]
    rules = [*profile.context.conditions, *profile.context.indications, *profile.context.interactions]
    checked = 0
    for rule in rules:
        groups = rule.groups
        for group in groups:
            samples = [_concept(s, c) for s, c in sorted(group.codes)]
            samples += [_concept(ICD, f"{p[:3]}.{p[3:]}A1" if len(p) > 3 else f"{p}.9") for p in group.icd10cm_prefixes]
            samples += [_concept("urn:local", "x", text=group.display)]  # the name fallback
            for concept in samples:
                for names in ("fallback", "always", "never"):
                    assert facts.first_match([concept], groups, names) is _naive([concept], groups, names)
                    checked += 1
    assert checked > 500
