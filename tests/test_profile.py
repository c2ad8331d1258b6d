"""validator.profile: the baclofen profile loads; broken profiles fail loudly; a made-up drug works unchanged.

"Zorbafen" is FICTIONAL: its codes live under https://example.org/fake-drug-codes and its numbers are
invented for the test (max 60 mg/day oral, 2 and 7 mg tablets, 3 mg/mL "intravitreal" solution).
"""

from __future__ import annotations

import io
import json
import shutil
import tokenize
from pathlib import Path
from typing import Any

import pytest

import validator
from validator.profile import SCHEMA_FILE, ProfileError, compile_profile, default_profiles, load_profiles

from .conftest import ROOT, SNOMED, UCUM, load_broken_profile, oral_order, rules_of

FAKE = "https://example.org/fake-drug-codes"
SOURCE = "Invented for the medval test suite (fictional drug)"
BACLOFEN = json.loads((ROOT / "validator" / "profiles" / "baclofen.json").read_text())


def zorbafen() -> dict[str, Any]:
    return {
        "id": "zorbafen",
        "version": "0.0.1-test",
        "title": "Zorbafen",
        "sources": {"fiction": {"title": "Nothing: zorbafen does not exist"}},
        "drug": {
            "names": ["zorbafen"],
            "brands": ["Zorbex"],
            "codes": [{"system": FAKE, "code": "ZRB", "source": SOURCE}],
            "source": SOURCE,
        },
        "routes": [
            {
                "id": "oral",
                "display": "oral",
                "permitted": True,
                "source": SOURCE,
                "codes": [{"system": SNOMED, "code": "26643006", "source": SOURCE}],
                "text": ["po", "by mouth"],
            },
            {
                "id": "intravitreal",
                "display": "intravitreal",
                "permitted": True,
                "source": SOURCE,
                "codes": [{"system": FAKE, "code": "ROUTE-IVT", "source": SOURCE}],
                "text": ["intravitreal"],
            },
            {
                "id": "intrathecal",
                "display": "intrathecal",
                "permitted": False,
                "reason": "Zorbafen must never reach the spinal canal (invented).",
                "source": SOURCE,
                "codes": [{"system": SNOMED, "code": "72607000", "source": SOURCE}],
            },
        ],
        "forms": [
            {
                "id": "caplet",
                "display": "caplet",
                "routes": ["oral"],
                "presentation": "unit",
                "unit_names": ["caplet", "caplets", "{caplet}"],
                "codes": [{"system": FAKE, "code": "FORM-CAPLET", "source": SOURCE}],
                "text": ["caplet"],
                "source": SOURCE,
            },
            {
                "id": "eye-solution",
                "display": "intravitreal solution",
                "routes": ["intravitreal"],
                "presentation": "liquid",
                "text": ["intravitreal solution"],
                "source": SOURCE,
            },
        ],
        "catalogue": [
            {
                "id": "cap-2",
                "form": "caplet",
                "display": "2 mg caplet",
                "strength": {"value": 2, "unit": "mg"},
                "per": {"value": 1, "unit": "caplet"},
                "source": SOURCE,
                "codes": [{"system": FAKE, "code": "ZRB-2", "source": SOURCE}],
            },
            {
                "id": "cap-7",
                "form": "caplet",
                "display": "7 mg caplet",
                "strength": {"value": 7, "unit": "mg"},
                "per": {"value": 1, "unit": "caplet"},
                "source": SOURCE,
                "codes": [{"system": FAKE, "code": "ZRB-7", "source": SOURCE}],
            },
            {
                "id": "ivt-3",
                "form": "eye-solution",
                "display": "3 mg/mL intravitreal solution",
                "strength": {"value": 3, "unit": "mg"},
                "per": {"value": 1, "unit": "mL"},
                "source": SOURCE,
            },
        ],
        "dosing": {
            "oral": {
                "unit": "mg",
                "maximum_daily": {"value": 60, "source": SOURCE},
                "usual_daily": {"low": 4, "high": 28, "source": SOURCE},
                "discontinuation": {"warning": "stopping zorbafen suddenly makes people sneeze (invented).", "source": SOURCE},
            },
            "intravitreal": {"unit": "mg", "screening_bolus": {"value": 0.3, "source": SOURCE}},
        },
    }


@pytest.fixture
def zorbafen_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "validator" / "profiles" / SCHEMA_FILE, tmp_path / SCHEMA_FILE)
    (tmp_path / "zorbafen.json").write_text(json.dumps(zorbafen()))
    return tmp_path


def zorbafen_order(code: str = "ZRB-7", value: float = 2, frequency: int = 3, **overrides: Any) -> dict[str, Any]:
    order = oral_order(frequency=frequency, medicationCodeableConcept={"coding": [{"system": FAKE, "code": code}], "text": "Zorbex"})
    order["dosageInstruction"][0]["doseAndRate"] = [
        {"doseQuantity": {"value": value, "unit": "caplet", "system": UCUM, "code": "{caplet}"}}
    ]
    order.update(overrides)
    return order


# --- the real profile --------------------------------------------------------------------------------------


def test_baclofen_profile_loads_with_the_monograph_numbers() -> None:
    (profile,) = default_profiles().profiles
    assert profile.id == "baclofen"
    assert profile.dosing["oral"].maximum_daily is not None and profile.dosing["oral"].maximum_daily.value == 80  # mg
    assert profile.dosing["oral"].usual_daily is not None
    assert (profile.dosing["oral"].usual_daily.low, profile.dosing["oral"].usual_daily.high) == (40, 80)
    intrathecal = profile.dosing["intrathecal"]
    assert intrathecal.unit == "ug"
    assert intrathecal.screening_bolus is not None and intrathecal.screening_bolus.value == pytest.approx(0.05)  # 50 mcg, in mg
    assert intrathecal.usual_daily is not None and intrathecal.usual_daily.high == pytest.approx(0.8)  # 800 mcg
    assert intrathecal.usual_daily_by_origin["cerebral"].high == pytest.approx(0.703)
    assert {r for r, route in profile.routes.items() if not route.permitted} >= {"intravenous", "subcutaneous", "intramuscular", "epidural"}
    assert profile.minimum_age is not None and profile.minimum_age.value == 12


def test_every_baclofen_fact_cites_a_source() -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if {"value"} <= node.keys() and "unit" not in node or {"low", "high"} <= node.keys():
                assert node.get("source"), f"{path} has no source"
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(BACLOFEN["dosing"], "dosing")
    for section in ("routes", "forms", "catalogue"):
        for item in BACLOFEN[section]:
            assert item.get("source"), f"{section} {item['id']} has no source"


# --- broken profiles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda p: p["dosing"]["oral"]["maximum_daily"].pop("source"), "dosing.oral.maximum_daily"),
        (lambda p: p["dosing"]["oral"]["maximum_daily"].update(value=-80), "dosing.oral.maximum_daily.value"),
        (lambda p: p["routes"][0].update(permitted="yes"), "routes.0.permitted"),
        (lambda p: p.pop("catalogue"), "catalogue"),
        (lambda p: p["drug"].update(names=[]), "drug.names"),
        (lambda p: p["routes"][3].pop("reason"), "routes.3"),  # a forbidden route must say why
    ],
)
def test_profile_breaking_the_schema_names_the_field(tmp_path: Path, break_it: Any, field: str) -> None:
    error = load_broken_profile(tmp_path, break_it)
    assert "baclofen.json" in str(error)
    assert field in str(error)


def test_profile_that_is_not_json(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ProfileError, match=r"bad\.json: not valid JSON"):
        load_profiles(tmp_path)


def test_profile_with_an_unknown_form_in_its_catalogue(tmp_path: Path) -> None:
    data = zorbafen()
    data["catalogue"][0]["form"] = "lozenge"
    with pytest.raises(ProfileError, match=r"catalogue\[0\]\.form"):
        compile_profile(data, tmp_path / "zorbafen.json")


def test_profile_with_a_dose_unit_that_is_no_mass(tmp_path: Path) -> None:
    data = zorbafen()
    data["dosing"]["oral"]["unit"] = "mL"
    with pytest.raises(ProfileError, match=r"dosing\.oral\.unit"):
        compile_profile(data, tmp_path / "zorbafen.json")


def test_empty_profile_folder(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no profiles"):
        load_profiles(tmp_path)


# --- a second, made-up drug through the unchanged engine -------------------------------------------------------------


def test_made_up_drug_loads(zorbafen_dir: Path) -> None:
    (profile,) = load_profiles(zorbafen_dir).profiles
    assert profile.id == "zorbafen"
    assert profile.products[1].mg_per_unit == 7


def test_made_up_drug_clean_order(zorbafen_dir: Path) -> None:
    # 2 x 7 mg caplets three times a day = 42 mg, under the invented 60 mg maximum but above the usual 28
    report = validator.check(zorbafen_order(), profiles=load_profiles(zorbafen_dir))
    assert rules_of(report) == ["daily-dose-above-usual", "patient-context-unavailable"]
    assert report.profiles_applied == ["medval zorbafen profile 0.0.1-test"]


def test_made_up_drug_limits_come_from_its_profile(zorbafen_dir: Path) -> None:
    profiles = load_profiles(zorbafen_dir)
    # 3 x 7 mg x 4 = 84 mg: above zorbafen's 60 mg (it would be within nothing baclofen says about a caplet)
    findings = validator.check(zorbafen_order(value=3, frequency=4), profiles=profiles).findings
    exceeds = [f for f in findings if f.rule == "daily-dose-exceeds-maximum"]
    assert len(exceeds) == 1
    assert exceeds[0].text == "Daily dose 84 mg exceeds the 60 mg/day oral maximum (21 mg x 4/day)."
    # 1 x 2 mg x 2 = 4 mg: nothing to say but the missing patient
    assert rules_of(validator.check(zorbafen_order("ZRB-2", 1, 2), profiles=profiles)) == ["patient-context-unavailable"]


def test_made_up_drug_routes_forms_and_stop(zorbafen_dir: Path) -> None:
    profiles = load_profiles(zorbafen_dir)
    intrathecal = zorbafen_order()
    intrathecal["dosageInstruction"][0]["route"] = {"coding": [{"system": SNOMED, "code": "72607000"}]}
    report = validator.check(intrathecal, profiles=profiles)
    assert "route-not-permitted" in rules_of(report)
    assert any("spinal canal" in f.text for f in report.findings)
    eye = zorbafen_order()
    eye["dosageInstruction"][0]["route"] = {"coding": [{"system": FAKE, "code": "ROUTE-IVT"}]}
    assert "route-form-mismatch" in rules_of(validator.check(eye, profiles=profiles))
    stopped = validator.check(zorbafen_order(status="stopped"), profiles=profiles)
    assert [f.text for f in stopped.findings if f.rule == "abrupt-discontinuation"] == [
        "This oral order is stopped and no other oral Zorbafen order continues it: stopping zorbafen suddenly makes people "
        "sneeze (invented)."
    ]


def test_made_up_drug_profile_set_knows_no_baclofen(zorbafen_dir: Path) -> None:
    assert rules_of(validator.check(oral_order(), profiles=load_profiles(zorbafen_dir))) == ["not-in-scope"]


def test_two_profiles_side_by_side(zorbafen_dir: Path) -> None:
    shutil.copy(ROOT / "validator" / "profiles" / "baclofen.json", zorbafen_dir / "baclofen.json")
    profiles = load_profiles(zorbafen_dir)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            {"resource": oral_order(30, frequency=4)},
            {"resource": zorbafen_order("ZRB-2", 1, 2)},
        ],
    }
    found = [(f.rule, f.expression) for f in validator.check(bundle, profiles=profiles).findings]
    assert ("daily-dose-exceeds-maximum", "Bundle.entry[1].resource.dosageInstruction[0]") in found
    assert ("no-issues", "Bundle.entry[2].resource") in found


# --- the engine knows no drug --------------------------------------------------------------------------------------

# Names, codes and numbers that are baclofen's and belong in profiles/baclofen.json only.
FORBIDDEN_WORDS = ("baclofen", "lioresal", "gablofen", "ozobax", "fleqsuvy", "lyvispah", "kemstro", "statpearls")
FORBIDDEN_CODES = ("1292", "197391", "197392", "430902", "1666613", "1300890", "1047437", "2593376")
FORBIDDEN_NUMBERS = {80.0, 800.0, 703.0, 90.0, 300.0, 20000.0, 40000.0}


def _code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    """NAME, STRING and NUMBER tokens of a module, without comments and docstrings."""
    tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
    kept = []
    previous = tokenize.NEWLINE
    for token in tokens:
        is_docstring = token.type == tokenize.STRING and previous in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
        if token.type in (tokenize.NAME, tokenize.STRING, tokenize.NUMBER) and not is_docstring:
            kept.append(token)
        if token.type not in (tokenize.COMMENT, tokenize.NL):
            previous = token.type
    return kept


ENGINE_FILES = sorted((ROOT / "validator").rglob("*.py"))


def test_the_engine_scan_sees_code() -> None:
    # the scan is meaningful: it finds ordinary engine constants, and comments/docstrings are left out
    tokens = [t.string for f in ENGINE_FILES for t in _code_tokens(f)]
    assert "1000.0" in tokens and "'microgram'" in "".join(tokens).replace('"', "'")
    assert len(ENGINE_FILES) > 10
    assert not any("StatPearls" in t for t in tokens)  # only ever in docstrings/comments, if at all


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_source_has_no_drug_specific_name_code_or_number(path: Path) -> None:
    for token in _code_tokens(path):
        where = f"{path.relative_to(ROOT)}:{token.start[0]}"
        if token.type == tokenize.NUMBER:
            assert float(token.string.replace("_", "")) not in FORBIDDEN_NUMBERS, f"{where}: drug number {token.string}"
            continue
        text = token.string.lower()
        for word in FORBIDDEN_WORDS:
            assert word not in text, f"{where}: {token.string}"
        for code in FORBIDDEN_CODES:
            assert f'"{code}"' not in text and f"'{code}'" not in text, f"{where}: drug code {token.string}"
