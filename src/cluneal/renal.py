"""Renal function: Cockcroft-Gault, CKD-EPI 2021, KDIGO categories, dosing bands.

Drug dosing uses Cockcroft-Gault creatinine clearance (mL/min), never eGFR,
because the gabapentin and pregabalin labels are written in CrCl (clinical.md
Part 0.2). eGFR by the race-free CKD-EPI 2021 equation is reported alongside
for information and KDIGO staging.

Example:
    >>> from cluneal import Patient, creatinine_clearance, egfr
    >>> p = Patient(age=55, sex="male", weight="72 kg", serum_creatinine="1.2 mg/dL")
    >>> creatinine_clearance(p)
    <Quantity(70.8333333, 'milliliter / minute')>
    >>> round(egfr(p).magnitude)
    71
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Final

from pydantic import ValidationError

from cluneal._base import FrozenModel, coerce_model
from cluneal.errors import InsufficientDataError, KnowledgeBaseError, UnknownTermError
from cluneal.knowledge import read_toml
from cluneal.patient import Patient, Sex
from cluneal.units import (
    Q_,
    BodyWeight,
    Clearance,
    GlomerularFiltrationRate,
    Kind,
    Quantity,
    magnitude_in,
    parse_quantity,
    quantity_in,
    ureg,
)

__all__ = [
    "CreatinineClearanceEstimate",
    "GfrCategory",
    "RenalAssessment",
    "RenalBand",
    "WeightBasis",
    "assess_renal_function",
    "creatinine_clearance",
    "egfr",
    "egfr_ckd_epi_2021",
    "estimate_creatinine_clearance",
    "gfr_category",
    "ideal_body_weight",
    "renal_band",
]

_ML_MIN: Final = ureg.Unit("milliliter / minute")
_EGFR_UNIT: Final = ureg.Unit("milliliter / minute / standard_body_surface_area")
_KG: Final = ureg.Unit("kilogram")
_CM_PER_INCH: Final = 2.54


class WeightBasis(StrEnum):
    """Which body weight Cockcroft-Gault uses (clinical.md Part C1)."""

    ACTUAL = "actual"
    """Total body weight, as in the original paper: the default."""
    IDEAL = "ideal"
    """Devine ideal body weight (needs height)."""
    ADJUSTED = "adjusted"
    """IBW + 0.4 x (actual - IBW), often used in obesity (needs height)."""


class RenalBand(StrEnum):
    """The renal dosing band, from Cockcroft-Gault CrCl (clinical.md Part 0.2).

    Example:
        >>> renal_band(Q_(30, "mL/min"))
        <RenalBand.SEVERE: 'severe'>
    """

    NORMAL = "normal"
    """CrCl >= 60 mL/min."""
    MODERATE = "moderate"
    """30 < CrCl < 60 mL/min."""
    SEVERE = "severe"
    """15 < CrCl <= 30 mL/min."""
    END_STAGE = "end_stage"
    """CrCl <= 15 mL/min, haemodialysis, or renal function unknown."""

    @property
    def severity(self) -> int:
        """0 for normal up to 3 for end-stage: higher is more restrictive."""
        return _BAND_ORDER.index(self)


_BAND_ORDER: Final = (RenalBand.NORMAL, RenalBand.MODERATE, RenalBand.SEVERE, RenalBand.END_STAGE)


class GfrCategory(StrEnum):
    """KDIGO GFR categories (unchanged in 2021), from eGFR in mL/min/1.73 m²."""

    G1 = "G1"
    G2 = "G2"
    G3A = "G3a"
    G3B = "G3b"
    G4 = "G4"
    G5 = "G5"


_GFR_LOWER_BOUNDS: Final = (
    (90.0, GfrCategory.G1),
    (60.0, GfrCategory.G2),
    (45.0, GfrCategory.G3A),
    (30.0, GfrCategory.G3B),
    (15.0, GfrCategory.G4),
    (0.0, GfrCategory.G5),
)


class _BandRule(FrozenModel):
    band: RenalBand
    rule_id: str
    lower_ml_min: float = 0.0
    lower_inclusive: bool = True
    text: str
    citation: str


class _RenalTable(FrozenModel):
    bands: tuple[_BandRule, ...]
    dialysis: _BandRule
    unknown: _BandRule


@cache
def _table() -> _RenalTable:
    try:
        raw = read_toml("renal.toml")
        table = _RenalTable(bands=raw["band"], dialysis=raw["dialysis"], unknown=raw["unknown"])
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError("renal.toml", str(exc)) from exc
    if tuple(b.band for b in table.bands) != _BAND_ORDER:
        raise KnowledgeBaseError(
            "renal.toml", "bands must be listed normal, moderate, severe, end_stage"
        )
    return table


def _band_rule(crcl_ml_min: float) -> _BandRule:
    for rule in _table().bands:
        lower = rule.lower_ml_min
        if crcl_ml_min > lower or (rule.lower_inclusive and crcl_ml_min == lower):
            return rule
    return _table().bands[-1]


def renal_band(crcl: Quantity) -> RenalBand:
    """Return the renal dosing band of a Cockcroft-Gault clearance.

    A clearance exactly on a boundary goes to the more restrictive band, except
    60 mL/min, which the labels count as normal (clinical.md Part 0.2).

    Args:
        crcl: Creatinine clearance (volume per time).

    Returns:
        The band.

    Raises:
        InvalidQuantityError: Not a clearance.

    Example:
        >>> [renal_band(Q_(v, "mL/min")).value for v in (60, 59.9, 30.1, 30, 15.1, 15)]
        ['normal', 'moderate', 'moderate', 'severe', 'severe', 'end_stage']
    """
    value = parse_quantity(crcl, "crcl", Kind.CLEARANCE)
    return _band_rule(magnitude_in(value, Kind.CLEARANCE)).band


def ideal_body_weight(patient: Patient) -> Quantity:
    """Devine (1974) ideal body weight: 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 60 in.

    Heights under 60 in are not clamped: the formula is applied as written, and
    Cockcroft-Gault then uses the actual weight whenever it is the lower one.

    Args:
        patient: Needs ``height``.

    Returns:
        Ideal body weight in kg.

    Raises:
        InsufficientDataError: Height is unknown.

    References:
        devine_1974

    Example:
        >>> from cluneal import Patient
        >>> ideal_body_weight(Patient(age=40, sex="male", height="70 in"))
        <Quantity(73.0, 'kilogram')>
    """
    patient = coerce_model(patient, Patient, "patient")
    height_cm = patient.height_cm
    if height_cm is None:
        raise InsufficientDataError("Ideal body weight (Devine)", ["height"])
    base = 50.0 if patient.sex is Sex.MALE else 45.5
    return Q_(round(base + 2.3 * (height_cm / _CM_PER_INCH - 60.0), 10), _KG)


class CreatinineClearanceEstimate(FrozenModel):
    """A Cockcroft-Gault creatinine clearance with the weight that produced it.

    Attributes:
        value: CrCl in mL/min (not indexed to body-surface area).
        weight_basis_requested: What the caller asked for.
        weight_basis_used: What was used (actual whenever it is below ideal).
        weight_used: The weight put into the equation.
        explanation: How the value was computed, in words.
        citations: The citation ids behind it.

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=60, sex="female", weight="50 kg", height="165 cm",
        ...             serum_creatinine="0.9 mg/dL")
        >>> e = estimate_creatinine_clearance(p, weight_basis="ideal")
        >>> e.weight_basis_used.value
        'actual'
    """

    value: Clearance
    weight_basis_requested: WeightBasis
    weight_basis_used: WeightBasis
    weight_used: BodyWeight
    explanation: str
    citations: tuple[str, ...] = ("cockcroft_gault_1976",)

    @property
    def ml_min(self) -> float:
        """The clearance in mL/min, as a float."""
        return magnitude_in(self.value, Kind.CLEARANCE)


def _weight_for(patient: Patient, basis: WeightBasis) -> tuple[float, WeightBasis, str]:
    actual = patient.weight_kg
    if actual is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["weight"])
    if basis is WeightBasis.ACTUAL:
        return actual, basis, f"actual body weight {actual:.1f} kg"
    if patient.height is None:
        raise InsufficientDataError(f"Cockcroft-Gault with {basis.value} body weight", ["height"])
    ibw = float(ideal_body_weight(patient).m_as(_KG))
    if actual < ibw:
        return (
            actual,
            WeightBasis.ACTUAL,
            (f"actual body weight {actual:.1f} kg, because it is below the ideal {ibw:.1f} kg"),
        )
    if basis is WeightBasis.IDEAL:
        return ibw, basis, f"ideal body weight (Devine) {ibw:.1f} kg"
    adjusted = ibw + 0.4 * (actual - ibw)
    return (
        adjusted,
        basis,
        (
            f"adjusted body weight {adjusted:.1f} kg"
            f" = IBW {ibw:.1f} + 0.4 x ({actual:.1f} - {ibw:.1f})"
        ),
    )


def _parse_basis(weight_basis: WeightBasis | str) -> WeightBasis:
    try:
        return WeightBasis(weight_basis)
    except ValueError:
        raise UnknownTermError(
            "weight_basis", weight_basis, [w.value for w in WeightBasis]
        ) from None


def _cockcroft_gault(patient: Patient, basis: WeightBasis) -> tuple[float, WeightBasis, float, str]:
    """The equation in floats: (CrCl mL/min, basis used, weight kg, explanation)."""
    creatinine = patient.creatinine_mg_dl
    if creatinine is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["serum_creatinine"])
    weight, used, weight_text = _weight_for(patient, basis)
    age = patient.age_years
    female = patient.sex is Sex.FEMALE
    value = (140.0 - age) * weight / (72.0 * creatinine) * (0.85 if female else 1.0)
    # Rounded to 10 decimals so that a clearance exactly on a band boundary
    # (e.g. 72 x 72 / 86.4 = 60) is not pushed across it by float error.
    value = round(value, 10)
    sex_text = " x 0.85 (female)" if female else ""
    explanation = (
        f"Cockcroft-Gault: (140 - {age:g}) x {weight:.1f} kg / (72 x {creatinine:.4g} mg/dL)"
        f"{sex_text} = {value:.1f} mL/min, using {weight_text}"
    )
    return value, used, weight, explanation


def estimate_creatinine_clearance(
    patient: Patient, weight_basis: WeightBasis | str = WeightBasis.ACTUAL
) -> CreatinineClearanceEstimate:
    """Cockcroft-Gault creatinine clearance, with the weight basis reported.

    CrCl = (140 - age) x weight / (72 x SCr in mg/dL), x 0.85 for women
    (clinical.md Part C1). Creatinine is used as measured: it is never rounded
    up, even in older adults.

    Args:
        patient: Needs ``weight`` and ``serum_creatinine`` (and ``height`` for
            the ideal or adjusted basis).
        weight_basis: ``"actual"`` (default), ``"ideal"`` or ``"adjusted"``.

    Returns:
        The estimate with its explanation.

    Raises:
        InsufficientDataError: A needed value is missing.
        UnknownTermError: ``weight_basis`` is not one of the three.

    References:
        cockcroft_gault_1976, devine_1974

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
        >>> round(estimate_creatinine_clearance(p).ml_min, 1)
        33.8
    """
    patient = coerce_model(patient, Patient, "patient")
    basis = _parse_basis(weight_basis)
    value, used, weight, explanation = _cockcroft_gault(patient, basis)
    citations = (
        ("cockcroft_gault_1976",)
        if used is WeightBasis.ACTUAL
        else ("cockcroft_gault_1976", "devine_1974")
    )
    return CreatinineClearanceEstimate(
        value=Q_(value, _ML_MIN),
        weight_basis_requested=basis,
        weight_basis_used=used,
        weight_used=Q_(round(weight, 10), _KG),
        explanation=explanation,
        citations=citations,
    )


def creatinine_clearance(
    patient: Patient, weight_basis: WeightBasis | str = WeightBasis.ACTUAL
) -> Quantity:
    """Cockcroft-Gault creatinine clearance in mL/min.

    See :func:`estimate_creatinine_clearance` for the same value with the
    weight basis that was used and an explanation.

    Args:
        patient: Needs ``weight`` and ``serum_creatinine``.
        weight_basis: ``"actual"`` (default), ``"ideal"`` or ``"adjusted"``.

    Returns:
        CrCl in mL/min.

    Raises:
        InsufficientDataError: A needed value is missing.
        UnknownTermError: Unknown ``weight_basis``.

    References:
        cockcroft_gault_1976

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=40, sex="male", weight="72 kg", serum_creatinine="1.0 mg/dL")
        >>> creatinine_clearance(p)
        <Quantity(100.0, 'milliliter / minute')>
    """
    return estimate_creatinine_clearance(patient, weight_basis).value


def _ckd_epi_2021_value(creatinine_mg_dl: float, age_years: float, sex: Sex) -> float:
    female = sex is Sex.FEMALE
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    value = float(142.0 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age_years)
    return value * 1.012 if female else value


def egfr_ckd_epi_2021(patient: Patient) -> Quantity:
    """EGFR by the race-free CKD-EPI 2021 creatinine equation, in mL/min/1.73 m².

    eGFR = 142 x min(SCr/k, 1)^a x max(SCr/k, 1)^-1.200 x 0.9938^age
    x 1.012 (female), with k = 0.7 / 0.9 and a = -0.241 / -0.302 for
    female / male (clinical.md Part C2).

    Args:
        patient: Needs ``serum_creatinine``.

    Returns:
        eGFR in mL/min/1.73 m².

    Raises:
        InsufficientDataError: Creatinine is unknown.

    References:
        inker_2021

    Example:
        >>> from cluneal import Patient
        >>> round(egfr_ckd_epi_2021(Patient(age=55, sex="male", serum_creatinine="1.2 mg/dL")).m)
        71
    """
    patient = coerce_model(patient, Patient, "patient")
    creatinine = patient.creatinine_mg_dl
    if creatinine is None:
        raise InsufficientDataError("CKD-EPI 2021 eGFR", ["serum_creatinine"])
    return Q_(_ckd_epi_2021_value(creatinine, patient.age_years, patient.sex), _EGFR_UNIT)


egfr = egfr_ckd_epi_2021
"""Alias of :func:`egfr_ckd_epi_2021`, the only eGFR equation cluneal uses."""


def gfr_category(egfr_value: Quantity) -> GfrCategory:
    """KDIGO GFR category of an eGFR (G1 >= 90 ... G5 < 15 mL/min/1.73 m²).

    Args:
        egfr_value: eGFR in mL/min/1.73 m².

    Returns:
        The category.

    Raises:
        InvalidQuantityError: Not an eGFR.

    References:
        kdigo_2012

    Example:
        >>> gfr_category(Q_(59.9, "mL/min/BSA_1_73"))
        <GfrCategory.G3A: 'G3a'>
    """
    return _category(magnitude_in(parse_quantity(egfr_value, "egfr", Kind.GFR), Kind.GFR))


def _category(egfr_value: float) -> GfrCategory:
    for lower, category in _GFR_LOWER_BOUNDS:
        if egfr_value >= lower:
            return category
    return GfrCategory.G5  # pragma: no cover - the last bound is 0 and eGFR is never negative


class RenalAssessment(FrozenModel):
    """Everything the dosing rules need to know about a patient's kidneys.

    Attributes:
        band: The dosing band (the most restrictive when unknown or on dialysis).
        known: Whether CrCl could be computed; ``False`` means the band is a
            conservative default, not a measurement.
        on_dialysis: Haemodialysis.
        crcl: Cockcroft-Gault CrCl, when computable.
        weight_basis: The weight basis CrCl used.
        egfr: CKD-EPI 2021 eGFR (information and staging only).
        gfr_category: KDIGO category of the eGFR.
        reason: Why this band, in words.
        rule_id: The knowledge-base rule that chose the band.
        citation: The citation of that rule.
        missing: The patient fields that would make the assessment complete.

    Example:
        >>> from cluneal import Patient
        >>> a = assess_renal_function(Patient(age=70, sex="male"))
        >>> a.band.value, a.known, a.missing
        ('end_stage', False, ('serum_creatinine', 'weight'))
    """

    band: RenalBand
    known: bool
    on_dialysis: bool = False
    crcl: Clearance | None = None
    weight_basis: WeightBasis | None = None
    egfr: GlomerularFiltrationRate | None = None
    gfr_category: GfrCategory | None = None
    reason: str
    rule_id: str
    citation: str
    missing: tuple[str, ...] = ()

    @property
    def crcl_ml_min(self) -> float | None:
        """CrCl in mL/min as a float, or ``None`` when unknown."""
        return None if self.crcl is None else magnitude_in(self.crcl, Kind.CLEARANCE)


def assess_renal_function(
    patient: Patient, weight_basis: WeightBasis | str = WeightBasis.ACTUAL
) -> RenalAssessment:
    """Assess renal function for dosing: CrCl, band, eGFR and KDIGO category.

    Decisions (clinical.md Part 0.2): a patient on haemodialysis is dosed in the
    lowest band; unknown function (no creatinine or no weight) is dosed in the
    most restrictive band and says so, never as if it were normal.

    Args:
        patient: The patient.
        weight_basis: The Cockcroft-Gault weight basis.

    Returns:
        The assessment.

    Raises:
        UnknownTermError: Unknown ``weight_basis``.

    References:
        cockcroft_gault_1976, inker_2021, gabapentin_label

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
        >>> a = assess_renal_function(p)
        >>> a.band.value, round(a.crcl_ml_min, 1)
        ('moderate', 33.8)
    """
    patient = coerce_model(patient, Patient, "patient")
    basis = _parse_basis(weight_basis)
    creatinine = patient.creatinine_mg_dl
    egfr_value = (
        None
        if creatinine is None
        else _ckd_epi_2021_value(creatinine, patient.age_years, patient.sex)
    )
    missing = tuple(
        name
        for name, value in (
            ("serum_creatinine", patient.serum_creatinine),
            ("weight", patient.weight),
        )
        if value is None
    )
    estimate = None
    if not missing:
        try:
            estimate = _cockcroft_gault(patient, basis)
        except InsufficientDataError as exc:
            missing = exc.missing  # height for the ideal/adjusted basis
    table = _table()
    if patient.on_dialysis:
        rule = table.dialysis
        known = True
        reason = rule.text
    elif estimate is None:
        rule = table.unknown
        known = False
        reason = f"{rule.text} (missing: {', '.join(missing)})"
    else:
        rule = _band_rule(estimate[0])
        known = True
        reason = f"{estimate[3]}; band {rule.band.value}: {rule.text}"
    return RenalAssessment(
        band=rule.band,
        known=known,
        on_dialysis=patient.on_dialysis,
        crcl=None if estimate is None else quantity_in(estimate[0], "mL/min"),
        weight_basis=None if estimate is None else estimate[1],
        egfr=None if egfr_value is None else quantity_in(egfr_value, "mL/min/{1.73_m2}"),
        gfr_category=None if egfr_value is None else _category(egfr_value),
        reason=reason,
        rule_id=rule.rule_id,
        citation=rule.citation,
        missing=missing,
    )
