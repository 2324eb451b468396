"""Renal function: Cockcroft-Gault, CKD-EPI 2021, KDIGO, bands (clinical.md 0.2, Part C)."""

from __future__ import annotations

import pytest

from cluneal import (
    Q_,
    ClunealError,
    GfrCategory,
    InsufficientDataError,
    Patient,
    RenalBand,
    Severity,
    UnknownTermError,
    WeightBasis,
    assess_renal_function,
    creatinine_clearance,
    egfr,
    estimate_creatinine_clearance,
    gfr_category,
    ideal_body_weight,
    renal_band,
)
from cluneal.errors import InvalidQuantityError


def _crcl(**kw: object) -> float:
    return float(creatinine_clearance(Patient.model_validate(kw)).m_as("mL/min"))


# Cockcroft-Gault worked by hand from clinical.md C1:
# CrCl = (140 - age) x weight / (72 x SCr), x 0.85 if female.
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # (140-40) x 72 / (72 x 1.0) = 100
        ({"age": 40, "sex": "male", "weight": "72 kg", "serum_creatinine": "1.0 mg/dL"}, 100.0),
        # female: 100 x 0.85 = 85
        ({"age": 40, "sex": "female", "weight": "72 kg", "serum_creatinine": "1.0 mg/dL"}, 85.0),
        # (140-68) x 72 / (72 x 1.2) = 60 exactly: the normal/moderate boundary
        ({"age": 68, "sex": "male", "weight": "72 kg", "serum_creatinine": "1.2 mg/dL"}, 60.0),
        # (140-68) x 72 / (72 x 2.4) = 30
        ({"age": 68, "sex": "male", "weight": "72 kg", "serum_creatinine": "2.4 mg/dL"}, 30.0),
        # (140-68) x 72 / (72 x 4.8) = 15
        ({"age": 68, "sex": "male", "weight": "72 kg", "serum_creatinine": "4.8 mg/dL"}, 15.0),
        # (140-80) x 60 x 0.85 / (72 x 1.5) = 28.333...
        (
            {"age": 80, "sex": "female", "weight": "60 kg", "serum_creatinine": "1.5 mg/dL"},
            3060 / 108,
        ),
        # 132.277 lb = 60 kg; 132.6 umol/L = 1.5 mg/dL: units convert before the equation
        (
            {
                "age": 80,
                "sex": "female",
                "weight": "132.27736 lb",
                "serum_creatinine": "132.6 umol/L",
            },
            3060 / 108,
        ),
    ],
)
def test_cockcroft_gault_worked_examples(kwargs: dict[str, object], expected: float) -> None:
    """clinical.md C1: Cockcroft-Gault in conventional units, 0.85 for women."""
    assert _crcl(**kwargs) == pytest.approx(expected, rel=1e-6)


def test_cockcroft_gault_si_form_agrees() -> None:
    """clinical.md C1: the SI form uses 1.23 ~ 88.4/72 with creatinine in umol/L."""
    value = _crcl(age=60, sex="male", weight="80 kg", serum_creatinine="100 umol/L")
    si = (140 - 60) * 80 * 1.23 / 100
    assert value == pytest.approx(si, rel=0.005)


def test_creatinine_is_never_rounded_up() -> None:
    """clinical.md C1: a low creatinine is used as measured, not rounded up to 1.0."""
    low = _crcl(age=85, sex="female", weight="50 kg", serum_creatinine="0.6 mg/dL")
    assert low == pytest.approx((140 - 85) * 50 * 0.85 / (72 * 0.6))


def test_devine_ideal_body_weight() -> None:
    """clinical.md C1: IBW men 50 kg + 2.3 kg per inch over 60 in; women 45.5 kg."""
    assert ideal_body_weight(Patient(age=40, sex="male", height="70 in")).m_as(
        "kg"
    ) == pytest.approx(73.0)
    assert ideal_body_weight(Patient(age=40, sex="female", height="70 in")).m_as(
        "kg"
    ) == pytest.approx(68.5)
    with pytest.raises(InsufficientDataError, match="height"):
        ideal_body_weight(Patient(age=40, sex="male"))


def test_weight_basis_choices_and_reporting() -> None:
    """clinical.md 0.2: actual; ideal (Devine) or adjusted with height; basis reported."""
    p = Patient(age=60, sex="male", weight="120 kg", height="70 in", serum_creatinine="1.0 mg/dL")
    actual = estimate_creatinine_clearance(p, weight_basis="actual")
    ideal = estimate_creatinine_clearance(p, weight_basis="ideal")
    adjusted = estimate_creatinine_clearance(p, weight_basis=WeightBasis.ADJUSTED)
    assert actual.weight_basis_used is WeightBasis.ACTUAL
    assert actual.ml_min == pytest.approx(80 * 120 / 72)
    assert ideal.weight_basis_used is WeightBasis.IDEAL
    assert ideal.ml_min == pytest.approx(80 * 73 / 72)
    # AdjBW = IBW + 0.4 x (TBW - IBW) = 73 + 0.4 x 47 = 91.8 kg
    assert adjusted.weight_used.m_as("kg") == pytest.approx(91.8)
    assert adjusted.ml_min == pytest.approx(80 * 91.8 / 72)
    assert "adjusted body weight" in adjusted.explanation
    assert "devine_1974" in adjusted.citations


def test_actual_weight_used_when_below_ideal() -> None:
    """clinical.md 0.2: when actual < ideal, actual is always used, and it says why."""
    p = Patient(age=60, sex="male", weight="60 kg", height="70 in", serum_creatinine="1.0 mg/dL")
    for basis in ("ideal", "adjusted"):
        e = estimate_creatinine_clearance(p, weight_basis=basis)
        assert e.weight_basis_requested == WeightBasis(basis)
        assert e.weight_basis_used is WeightBasis.ACTUAL
        assert e.ml_min == pytest.approx(80 * 60 / 72)
        assert "below the ideal" in e.explanation


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({"age": 60, "sex": "male", "serum_creatinine": "1 mg/dL"}, "weight"),
        ({"age": 60, "sex": "male", "weight": "70 kg"}, "serum_creatinine"),
    ],
)
def test_missing_inputs_are_named(kwargs: dict[str, object], missing: str) -> None:
    """Fail closed: a calculation without its inputs names what is missing."""
    with pytest.raises(InsufficientDataError, match=missing):
        creatinine_clearance(Patient.model_validate(kwargs))


def test_ideal_basis_without_height_is_an_error() -> None:
    """The ideal/adjusted basis needs height; no silent fallback to actual weight."""
    p = Patient(age=60, sex="male", weight="70 kg", serum_creatinine="1 mg/dL")
    with pytest.raises(InsufficientDataError, match="height"):
        creatinine_clearance(p, weight_basis="ideal")


def test_unknown_weight_basis_is_refused() -> None:
    """A closed vocabulary: actual, ideal, adjusted."""
    p = Patient(age=60, sex="male", weight="70 kg", serum_creatinine="1 mg/dL")
    with pytest.raises(UnknownTermError, match="weight_basis"):
        creatinine_clearance(p, weight_basis="lean")


@pytest.mark.parametrize(
    ("age", "sex", "creatinine", "expected"),
    [
        # clinical.md C2: male, 55 y, SCr 1.2 -> about 71 (kidney.org calculator)
        (55, "male", 1.2, 71.4),
        # Worked from the equation: female, 60, SCr 0.7 (= kappa): 142 x 0.9938^60 x 1.012
        (60, "female", 0.7, 142 * 0.9938**60 * 1.012),
        # male, 40, SCr 0.9 (= kappa): 142 x 0.9938^40
        (40, "male", 0.9, 142 * 0.9938**40),
        # male, 70, SCr 0.6 (< kappa): 142 x (0.6/0.9)^-0.302 x 0.9938^70
        (70, "male", 0.6, 142 * (0.6 / 0.9) ** -0.302 * 0.9938**70),
        # female, 70, SCr 2.0 (> kappa): 142 x (2/0.7)^-1.2 x 0.9938^70 x 1.012
        (70, "female", 2.0, 142 * (2.0 / 0.7) ** -1.2 * 0.9938**70 * 1.012),
    ],
)
def test_ckd_epi_2021(age: int, sex: str, creatinine: float, expected: float) -> None:
    """clinical.md C2: CKD-EPI 2021 race-free creatinine equation."""
    p = Patient(age=age, sex=sex, serum_creatinine=f"{creatinine} mg/dL")
    value = egfr(p)
    assert str(value.units) == "milliliter / minute / standard_body_surface_area"
    assert value.magnitude == pytest.approx(expected, abs=0.05)


def test_egfr_needs_creatinine() -> None:
    """Fail closed: no creatinine, no eGFR."""
    with pytest.raises(InsufficientDataError, match="serum_creatinine"):
        egfr(Patient(age=50, sex="male"))


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (120, GfrCategory.G1),
        (90, GfrCategory.G1),
        (89.9, GfrCategory.G2),
        (60, GfrCategory.G2),
        (59.9, GfrCategory.G3A),
        (45, GfrCategory.G3A),
        (44.9, GfrCategory.G3B),
        (30, GfrCategory.G3B),
        (29.9, GfrCategory.G4),
        (15, GfrCategory.G4),
        (14.9, GfrCategory.G5),
        (0, GfrCategory.G5),
    ],
)
def test_kdigo_categories(value: float, category: GfrCategory) -> None:
    """clinical.md C2: G1 >=90, G2 60-89, G3a 45-59, G3b 30-44, G4 15-29, G5 <15."""
    assert gfr_category(Q_(value, "mL/min/BSA_1_73")) is category


def test_kdigo_refuses_wrong_unit() -> None:
    """A clearance in mL/min is not an indexed eGFR."""
    with pytest.raises(InvalidQuantityError):
        gfr_category(Q_(60, "mL/min"))


@pytest.mark.parametrize(
    ("crcl", "band"),
    [
        (120, RenalBand.NORMAL),
        (60, RenalBand.NORMAL),
        (59.99, RenalBand.MODERATE),
        (30.01, RenalBand.MODERATE),
        (30, RenalBand.SEVERE),
        (29.99, RenalBand.SEVERE),
        (15.01, RenalBand.SEVERE),
        (15, RenalBand.END_STAGE),
        (14.99, RenalBand.END_STAGE),
        (0, RenalBand.END_STAGE),
    ],
)
def test_band_boundaries(crcl: float, band: RenalBand) -> None:
    """clinical.md 0.2: exactly on a boundary -> the more restrictive band, except 60 (normal)."""
    assert renal_band(Q_(crcl, "mL/min")) is band


@pytest.mark.parametrize(
    ("creatinine", "band"),
    [
        ("1.2 mg/dL", RenalBand.NORMAL),
        ("2.4 mg/dL", RenalBand.SEVERE),
        ("4.8 mg/dL", RenalBand.END_STAGE),
    ],
)
def test_band_boundaries_from_a_patient(creatinine: str, band: RenalBand) -> None:
    """A patient whose Cockcroft-Gault CrCl is exactly 60, 30 or 15 lands in the right band."""
    p = Patient(age=68, sex="male", weight="72 kg", serum_creatinine=creatinine)
    assert assess_renal_function(p).band is band


def test_dialysis_is_lowest_band() -> None:
    """clinical.md 0.2: a patient on haemodialysis is dosed in the lowest renal band."""
    p = Patient(age=60, sex="male", weight="70 kg", serum_creatinine="1.0 mg/dL", on_dialysis=True)
    a = assess_renal_function(p)
    assert a.band is RenalBand.END_STAGE
    assert a.on_dialysis and a.known
    assert a.rule_id == "renal.dialysis"


def test_unknown_renal_function_is_most_restrictive() -> None:
    """clinical.md 0.2: unknown function is never built as if it were normal."""
    a = assess_renal_function(Patient(age=30, sex="male", weight="70 kg"))
    assert a.band is RenalBand.END_STAGE
    assert not a.known
    assert a.missing == ("serum_creatinine",)
    assert a.crcl is None and a.crcl_ml_min is None
    assert "never assumed normal" in a.reason


def test_unknown_when_height_missing_for_ideal_basis() -> None:
    """A requested ideal basis without height leaves CrCl unknown, naming height."""
    p = Patient(age=30, sex="male", weight="70 kg", serum_creatinine="1.0 mg/dL")
    a = assess_renal_function(p, weight_basis="ideal")
    assert not a.known
    assert a.missing == ("height",)
    assert a.egfr is not None  # reported for information even so


def test_assessment_reports_everything() -> None:
    """Explain everything: the equation, the band rule, eGFR and category."""
    p = Patient(age=55, sex="male", weight="72 kg", serum_creatinine="1.2 mg/dL")
    a = assess_renal_function(p)
    assert a.known and a.band is RenalBand.NORMAL
    assert a.crcl_ml_min == pytest.approx(85 / 1.2)
    assert a.gfr_category is GfrCategory.G2
    assert a.rule_id == "renal.band.normal"
    assert "Cockcroft-Gault" in a.reason
    assert type(a).model_validate_json(a.model_dump_json()) == a


def test_band_severity_order() -> None:
    """Bands are ordered from normal (0) to end-stage (3)."""
    assert [b.severity for b in RenalBand] == [0, 1, 2, 3]


# --- clinical.md 0.10: body size, obesity, low creatinine; 0.9: dialysis --------------


@pytest.mark.parametrize(
    ("sex", "height", "ibw"),
    [
        ("male", "152.4 cm", 50.0),  # 0.10: Devine defined from 60 in: base weight
        ("female", "152.4 cm", 45.5),
        ("male", "70 in", 73.0),  # 50 + 2.3 x 10
        ("female", "65 in", 57.0),  # 45.5 + 2.3 x 5
    ],
)
def test_devine_from_152_cm(sex: str, height: str, ibw: float) -> None:
    """0.10: Devine IBW = 50 / 45.5 kg + 2.3 kg per inch over 60 in, from 152.4 cm up."""
    p = Patient(age=50, sex=sex, height=height)
    assert ideal_body_weight(p).m_as("kg") == pytest.approx(ibw)


@pytest.mark.parametrize("height", ["100 cm", "140 cm", "152.3 cm", "59 in"])
def test_no_ideal_body_weight_below_152_cm(height: str) -> None:
    """0.10: below 152.4 cm no IBW is computed (never a negative weight); the error names
    the height."""
    with pytest.raises(ClunealError, match="height"):
        ideal_body_weight(Patient(age=50, sex="female", height=height))


@pytest.mark.parametrize("basis", ["ideal", "adjusted"])
def test_short_patient_falls_back_to_actual_weight_and_says_so(basis: str) -> None:
    """0.10: below 152.4 cm an ideal or adjusted basis falls back to actual weight and says so
    (a valid 100 cm patient is never refused by an internal model)."""
    p = Patient(age=70, sex="female", weight="40 kg", height="100 cm", serum_creatinine="0.9 mg/dL")
    e = estimate_creatinine_clearance(p, weight_basis=basis)
    assert e.weight_basis_used is WeightBasis.ACTUAL
    assert e.weight_used.m_as("kg") == pytest.approx(40)
    assert "no ideal body weight is defined below 152.4 cm" in e.explanation
    # (140 - 70) x 40 / (72 x 0.9) x 0.85 (C1)
    assert e.ml_min == pytest.approx(70 * 40 / (72 * 0.9) * 0.85)


OBESITY = [
    # (weight kg, height, basis passed, basis used) -- 0.10 obesity default; IBW 73 kg at 70 in
    (94.9, "70 in", None, WeightBasis.ACTUAL),  # 130% of 73 = 94.9: not above
    (95.0, "70 in", None, WeightBasis.ADJUSTED),  # above 130%
    (120.0, "70 in", None, WeightBasis.ADJUSTED),
    (120.0, "70 in", "actual", WeightBasis.ACTUAL),  # explicit basis honoured exactly
    (120.0, "70 in", "ideal", WeightBasis.IDEAL),
    (120.0, None, None, WeightBasis.ACTUAL),  # height unknown: actual (plus an alert above 120)
    (120.0, "150 cm", None, WeightBasis.ACTUAL),  # no IBW below 152.4 cm
]


@pytest.mark.parametrize(("weight", "height", "basis", "used"), OBESITY)
def test_obesity_default_weight_basis(
    weight: float, height: str | None, basis: str | None, used: WeightBasis
) -> None:
    """0.10: height known and actual > 130% IBW -> adjusted body weight by default, said in the
    result; an explicit basis is honoured exactly (API: weight_basis=None is the default)."""
    p = Patient(
        age=60, sex="male", weight=f"{weight} kg", height=height, serum_creatinine="1.0 mg/dL"
    )
    e = estimate_creatinine_clearance(p, weight_basis=basis)
    assert e.weight_basis_used is used
    assert e.weight_basis_requested == (None if basis is None else WeightBasis(basis))
    if used is WeightBasis.ADJUSTED and basis is None:
        assert "the default because actual weight is above 130% of IBW" in e.explanation
        # AdjBW = 73 + 0.4 x (weight - 73)
        assert e.weight_used.m_as("kg") == pytest.approx(73 + 0.4 * (weight - 73))
    assert creatinine_clearance(p, weight_basis=basis) == e.value


@pytest.mark.parametrize(
    ("weight", "height", "alerted"),
    [("120 kg", None, False), ("120.5 kg", None, True), ("150 kg", "170 cm", False)],
)
def test_heavy_patient_without_height_gets_an_alert(
    weight: str, height: str | None, alerted: bool
) -> None:
    """0.10: height unknown and actual weight above 120 kg -> a moderate alert asking for a
    height."""
    p = Patient(age=50, sex="male", weight=weight, height=height, serum_creatinine="1.0 mg/dL")
    alerts = {a.rule_id: a for a in assess_renal_function(p).alerts}
    assert ("renal.alert.obesity_height_unknown" in alerts) is alerted
    if alerted:
        alert = alerts["renal.alert.obesity_height_unknown"]
        assert alert.severity is Severity.MODERATE
        assert "height" in (alert.action or "")


@pytest.mark.parametrize(
    ("age", "creatinine", "alerted"),
    [
        (65, "0.69 mg/dL", True),  # 0.10: below 0.7 mg/dL at 65 or over
        (65, "61 umol/L", True),  # 61 / 88.4 = 0.69 mg/dL
        (65, "0.7 mg/dL", False),  # not below
        (64.9, "0.5 mg/dL", False),  # under 65
        (80, "0.4 mg/dL", True),
    ],
)
def test_low_creatinine_in_older_adults(age: float, creatinine: str, alerted: bool) -> None:
    """0.10: creatinine below 0.7 mg/dL (62 umol/L) at 65 or more -> info alert; never rounded
    up (the CrCl uses the measured value)."""
    p = Patient(age=age, sex="female", weight="60 kg", serum_creatinine=creatinine)
    a = assess_renal_function(p)
    found = [x for x in a.alerts if x.rule_id == "renal.alert.low_creatinine_older_adult"]
    assert bool(found) is alerted
    if found:
        assert found[0].severity is Severity.INFO
    scr = p.creatinine_mg_dl or 0
    assert a.crcl_ml_min == pytest.approx((140 - age) * 60 / (72 * scr) * 0.85)


def test_dialysis_reports_g5d_and_no_cockcroft_gault_band() -> None:
    """0.9 Dialysis: no CrCl from Cockcroft-Gault, KDIGO category G5D, lowest band."""
    p = Patient(age=60, sex="male", weight="70 kg", serum_creatinine="8 mg/dL", on_dialysis=True)
    a = assess_renal_function(p)
    assert a.crcl is None
    assert a.egfr is None
    assert a.gfr_category is GfrCategory.G5D
    assert a.band is RenalBand.END_STAGE
    assert a.citation == "decision_dialysis_lowest_band"
    assert "mL/min" not in a.reason.replace("CrCl", "")
