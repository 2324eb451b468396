"""Renal function: Cockcroft-Gault, CKD-EPI 2021, KDIGO categories, dosing bands.

Drug dosing uses Cockcroft-Gault creatinine clearance (mL/min), never eGFR,
because the gabapentin and pregabalin labels are written in CrCl
(decision_crcl_for_dosing). eGFR by the race-free CKD-EPI 2021 equation is
reported alongside for information and KDIGO staging.

Example:
    >>> from cluneal import Patient, creatinine_clearance, egfr
    >>> p = Patient(age=55, sex="male", weight="72 kg", serum_creatinine="1.2 mg/dL")
    >>> creatinine_clearance(p)
    <Quantity(70.8333333, 'milliliter / minute')>
    >>> round(egfr(p).magnitude)
    71
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError, model_validator

from cluneal._base import FrozenModel, coerce_model
from cluneal._checks import knowledge_argument
from cluneal.alerts import SafetyAlert, Severity
from cluneal.errors import (
    InsufficientDataError,
    InvalidQuantityError,
    KnowledgeBaseError,
    UnknownTermError,
)
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria, matches, patient_facts
from cluneal.knowledge.parameters import ClinicalParameters, clinical_parameters
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
from cluneal.vocabulary import GfrCategory, RenalBand, WeightBasis

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.units import QuantityInput

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
    "parse_weight_basis",
    "renal_band",
]

_ML_MIN: Final = ureg.Unit("milliliter / minute")
_EGFR_UNIT: Final = ureg.Unit("milliliter / minute / standard_body_surface_area")
_KG: Final = ureg.Unit("kilogram")
_CM_PER_INCH: Final = 2.54
FEMALE_FACTOR: Final = 0.85
"""Cockcroft-Gault's factor for women (cockcroft_gault_1976)."""


class _BandRule(FrozenModel):
    band: RenalBand
    rule_id: str
    lower_ml_min: float = 0.0
    lower_inclusive: bool = True
    text: str
    citation: str


class _IdealBodyWeight(FrozenModel):
    rule_id: str
    citation: str
    min_height_cm: float
    male_base_kg: float
    female_base_kg: float
    kg_per_inch_over: float
    text: str


class _Obesity(FrozenModel):
    rule_id: str
    citation: str
    adjusted_above_ibw_ratio: float
    adjustment_factor: float
    text: str


class _AlertRule(FrozenModel):
    rule_id: str
    citation: str
    severity: Severity
    message: str
    action: str
    above_kg: float | None = None
    below_mg_dl: float | None = None
    # The patients it concerns (the one condition language; none: every patient).
    when: Criteria = Criteria()

    def alert(self) -> SafetyAlert:
        return SafetyAlert(
            severity=self.severity,
            message=self.message,
            rule_id=self.rule_id,
            citation=self.citation,
            action=self.action,
        )


class _GfrCategories(FrozenModel):
    rule_id: str
    citation: str
    # (category, lower bound in mL/min/1.73 m², inclusive), highest first; G5 below the last.
    lower_bounds: tuple[tuple[GfrCategory, float], ...]

    @model_validator(mode="after")
    def _descending(self) -> _GfrCategories:
        bounds = [b for _, b in self.lower_bounds]
        if bounds != sorted(bounds, reverse=True) or len(set(bounds)) != len(bounds):
            msg = "gfr_categories: lower bounds must fall strictly"
            raise ValueError(msg)
        return self


class _RenalTable(FrozenModel):
    gfr_categories: _GfrCategories
    bands: tuple[_BandRule, ...]
    dialysis: _BandRule
    unknown: _BandRule
    ideal_body_weight: _IdealBodyWeight
    obesity: _Obesity
    obesity_no_height: _AlertRule
    low_creatinine_older_adult: _AlertRule


@cache
def _table() -> _RenalTable:
    return _parse_table(read_toml("renal.toml"))


def _parse_table(raw: Mapping[str, Any]) -> _RenalTable:
    try:
        table = _RenalTable(
            gfr_categories=raw["gfr_categories"],
            bands=raw["band"],
            dialysis=raw["dialysis"],
            unknown=raw["unknown"],
            ideal_body_weight=raw["ideal_body_weight"],
            obesity=raw["obesity"],
            obesity_no_height=raw["obesity_no_height"],
            low_creatinine_older_adult=raw["low_creatinine_older_adult"],
        )
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError("renal.toml", str(exc)) from exc
    if tuple(b.band for b in table.bands) != tuple(RenalBand):
        raise KnowledgeBaseError(
            "renal.toml", "bands must be listed normal, moderate, severe, end_stage"
        )
    return table


def _band_rule(crcl_ml_min: float, table: _RenalTable | None = None) -> _BandRule:
    bands = (table or _table()).bands
    for rule in bands:
        lower = rule.lower_ml_min
        if crcl_ml_min > lower or (rule.lower_inclusive and crcl_ml_min == lower):
            return rule
    return bands[-1]


def renal_band(crcl: QuantityInput) -> RenalBand:
    """Return the renal dosing band of a Cockcroft-Gault clearance.

    A clearance exactly on a boundary goes to the more restrictive band, except
    60 mL/min, which the labels count as normal (decision_renal_band_boundaries).

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


def _ibw_kg(patient: Patient, table: _RenalTable | None = None) -> float | None:
    """Devine IBW in kg, or ``None`` when height is unknown or below 152.4 cm."""
    height_cm = patient.height_cm
    rule = (table or _table()).ideal_body_weight
    if height_cm is None or height_cm < rule.min_height_cm:
        return None
    base = rule.male_base_kg if patient.sex is Sex.MALE else rule.female_base_kg
    ibw: float = devine_kg(height_cm, base, rule)
    return round(ibw, 10)


def devine_kg(height_cm: Any, base_kg: Any, rule: _IdealBodyWeight) -> Any:
    """Devine ideal body weight, unrounded, for floats or numpy arrays alike.

    The one place of the formula: the scalar path and the cohort's vectorised
    path (:mod:`cluneal.cohort`) both call it, so they cannot drift apart.
    """
    inches_over = (height_cm - rule.min_height_cm) / _CM_PER_INCH
    return base_kg + rule.kg_per_inch_over * inches_over


def ideal_body_weight(patient: Patient) -> Quantity:
    """Devine (1974) ideal body weight: 50 kg (men) or 45.5 kg (women) + 2.3 kg per inch over 60 in.

    Defined from 152.4 cm (60 in) up (decision_ideal_body_weight_from_152_cm):
    below it the formula extrapolates to implausible or negative weights, so
    no IBW is computed.

    Args:
        patient: Needs ``height``.

    Returns:
        Ideal body weight in kg.

    Raises:
        InsufficientDataError: Height is unknown.
        InvalidQuantityError: Height is below 152.4 cm.

    References:
        devine_1974, decision_ideal_body_weight_from_152_cm

    Example:
        >>> from cluneal import Patient
        >>> ideal_body_weight(Patient(age=40, sex="male", height="70 in"))
        <Quantity(73.0, 'kilogram')>
        >>> ideal_body_weight(Patient(age=40, sex="female", height="150 cm"))
        Traceback (most recent call last):
        cluneal.errors.InvalidQuantityError: height: got '150 cm'; expected at least 152.4 cm ...
    """
    patient = coerce_model(patient, Patient, "patient")
    if patient.height is None:
        raise InsufficientDataError("Ideal body weight (Devine)", ["height"])
    table = _table()
    ibw = _ibw_kg(patient, table)
    if ibw is None:
        rule = table.ideal_body_weight
        raise InvalidQuantityError(
            "height",
            f"{patient.height_cm:g} cm",
            f"at least {rule.min_height_cm:g} cm (60 in): Devine ideal body weight is not "
            "defined below it",
        )
    return Q_(ibw, _KG)


class CreatinineClearanceEstimate(FrozenModel):
    """A Cockcroft-Gault creatinine clearance with the weight that produced it.

    Attributes:
        value: CrCl in mL/min (not indexed to body-surface area).
        weight_basis_requested: What the caller asked for (``None``: the package default).
        weight_basis_used: What was used (actual whenever it is below ideal or no
            IBW is defined; adjusted by default in obesity).
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
    weight_basis_requested: WeightBasis | None = None
    weight_basis_used: WeightBasis
    weight_used: BodyWeight
    explanation: str
    citations: tuple[str, ...] = ("cockcroft_gault_1976",)

    @property
    def ml_min(self) -> float:
        """The clearance in mL/min, as a float."""
        return magnitude_in(self.value, Kind.CLEARANCE)


def _adjusted(ibw: float, actual: float, table: _RenalTable) -> float:
    return ibw + table.obesity.adjustment_factor * (actual - ibw)


def _default_basis(
    patient: Patient, actual: float, table: _RenalTable
) -> tuple[float, WeightBasis, str]:
    """The package default: actual weight, adjusted in obesity (decision_obesity_weight_basis)."""
    ibw = _ibw_kg(patient, table)
    rule = table.obesity
    if ibw is not None and actual > rule.adjusted_above_ibw_ratio * ibw:
        adjusted = _adjusted(ibw, actual, table)
        return (
            adjusted,
            WeightBasis.ADJUSTED,
            (
                f"adjusted body weight {adjusted:.1f} kg = IBW {ibw:.1f} + "
                f"{rule.adjustment_factor:g} x ({actual:.1f} - {ibw:.1f}), the default because "
                f"actual weight is above {rule.adjusted_above_ibw_ratio * 100:g}% of IBW "
                f"({rule.rule_id})"
            ),
        )
    return actual, WeightBasis.ACTUAL, f"actual body weight {actual:.1f} kg"


def _weight_for(
    patient: Patient, basis: WeightBasis | None, table: _RenalTable
) -> tuple[float, WeightBasis, str]:
    actual = patient.weight_kg
    if actual is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["weight"])
    if basis is None:
        return _default_basis(patient, actual, table)
    if basis is WeightBasis.ACTUAL:
        return actual, basis, f"actual body weight {actual:.1f} kg"
    if patient.height is None:
        raise InsufficientDataError(f"Cockcroft-Gault with {basis.value} body weight", ["height"])
    ibw = _ibw_kg(patient, table)
    if ibw is None:
        rule = table.ideal_body_weight
        return (
            actual,
            WeightBasis.ACTUAL,
            (
                f"actual body weight {actual:.1f} kg, because no ideal body weight is defined "
                f"below {rule.min_height_cm:g} cm (height {patient.height_cm:g} cm; "
                f"{rule.rule_id})"
            ),
        )
    if actual < ibw:
        return (
            actual,
            WeightBasis.ACTUAL,
            (f"actual body weight {actual:.1f} kg, because it is below the ideal {ibw:.1f} kg"),
        )
    if basis is WeightBasis.IDEAL:
        return ibw, basis, f"ideal body weight (Devine) {ibw:.1f} kg"
    adjusted = _adjusted(ibw, actual, table)
    factor = table.obesity.adjustment_factor
    return (
        adjusted,
        basis,
        (
            f"adjusted body weight {adjusted:.1f} kg"
            f" = IBW {ibw:.1f} + {factor:g} x ({actual:.1f} - {ibw:.1f})"
        ),
    )


def parse_weight_basis(value: object) -> WeightBasis | None:
    """Turn a caller's weight basis into a :class:`WeightBasis` (the one parser for it).

    Args:
        value: A :class:`WeightBasis`, its value, or ``None`` for the package default.

    Returns:
        The basis, or ``None``.

    Raises:
        UnknownTermError: Anything else (never a ``TypeError`` for an odd type).

    Example:
        >>> parse_weight_basis("ideal")
        <WeightBasis.IDEAL: 'ideal'>
    """
    if value is None:
        return None
    if isinstance(value, str) and value in WeightBasis.__members__.values():
        return WeightBasis(value)
    raise UnknownTermError("weight_basis", value, [w.value for w in WeightBasis])


def cockcroft_gault_ml_min(age: Any, weight: Any, creatinine: Any, sex_factor: Any) -> Any:
    """Cockcroft-Gault, unrounded, for floats or numpy arrays alike (same operations, same order).

    The one place of the equation: the scalar path and the cohort's vectorised
    path (:mod:`cluneal.cohort`) both call it, so they give identical floats.

    Example:
        >>> cockcroft_gault_ml_min(40.0, 72.0, 1.0, 1.0)
        100.0
    """
    return (140.0 - age) * weight / (72.0 * creatinine) * sex_factor


def _cockcroft_gault(
    patient: Patient, basis: WeightBasis | None, table: _RenalTable | None = None
) -> tuple[float, WeightBasis, float, str]:
    """The equation in floats: (CrCl mL/min, basis used, weight kg, explanation)."""
    creatinine = patient.creatinine_mg_dl
    if creatinine is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["serum_creatinine"])
    weight, used, weight_text = _weight_for(patient, basis, table or _table())
    age = patient.age_years
    female = patient.sex is Sex.FEMALE
    value: float = cockcroft_gault_ml_min(age, weight, creatinine, FEMALE_FACTOR if female else 1.0)
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
    patient: Patient, weight_basis: WeightBasis | str | None = None
) -> CreatinineClearanceEstimate:
    """Cockcroft-Gault creatinine clearance, with the weight basis reported.

    CrCl = (140 - age) x weight / (72 x SCr in mg/dL), x 0.85 for women
    (cockcroft_gault_1976). Creatinine is used as measured: it is never rounded
    up, even in older adults.

    Weight (decision_obesity_weight_basis, decision_ideal_body_weight_from_152_cm):
    ``None`` is the package default, actual weight, or adjusted weight when
    height is known and actual weight is above 130% of ideal; an explicit basis
    is honoured exactly, except that actual weight is used whenever it is below
    ideal or no ideal weight is defined (height below 152.4 cm). The
    explanation says which.

    Args:
        patient: Needs ``weight`` and ``serum_creatinine`` (and ``height`` for
            the ideal or adjusted basis).
        weight_basis: ``None`` (package default), ``"actual"``, ``"ideal"`` or
            ``"adjusted"``.

    Returns:
        The estimate with its explanation.

    Raises:
        InsufficientDataError: A needed value is missing.
        UnknownTermError: ``weight_basis`` is not one of the three.

    References:
        cockcroft_gault_1976, devine_1974, decision_obesity_weight_basis

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
        >>> round(estimate_creatinine_clearance(p).ml_min, 1)
        33.8
        >>> obese = Patient(age=50, sex="male", weight="140 kg", height="175 cm",
        ...                 serum_creatinine="1.0 mg/dL")
        >>> e = estimate_creatinine_clearance(obese)
        >>> e.weight_basis_used.value, round(e.ml_min, 1)
        ('adjusted', 122.8)
        >>> estimate_creatinine_clearance(obese, "actual").weight_basis_used.value
        'actual'
    """
    patient = coerce_model(patient, Patient, "patient")
    basis = parse_weight_basis(weight_basis)
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
    patient: Patient, weight_basis: WeightBasis | str | None = None
) -> Quantity:
    """Cockcroft-Gault creatinine clearance in mL/min.

    See :func:`estimate_creatinine_clearance` for the same value with the
    weight basis that was used and an explanation.

    Args:
        patient: Needs ``weight`` and ``serum_creatinine``.
        weight_basis: ``None`` for the package default (actual weight, adjusted
            weight in obesity); ``"actual"``, ``"ideal"`` or ``"adjusted"`` are
            honoured exactly.

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
    female / male (inker_2021).

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


def gfr_category(egfr_value: QuantityInput) -> GfrCategory:
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


def _category(egfr_value: float, table: _RenalTable | None = None) -> GfrCategory:
    for category, lower in (table or _table()).gfr_categories.lower_bounds:
        if egfr_value >= lower:
            return category
    return GfrCategory.G5


class RenalAssessment(FrozenModel):
    """Everything the dosing rules need to know about a patient's kidneys.

    Attributes:
        band: The dosing band (the most restrictive when unknown or on dialysis).
        known: Whether CrCl could be computed; ``False`` means the band is a
            conservative default, not a measurement.
        on_dialysis: Haemodialysis.
        crcl: Cockcroft-Gault CrCl, when computable (never on dialysis).
        weight_basis: The weight basis CrCl used.
        egfr: CKD-EPI 2021 eGFR (information and staging only; never on dialysis).
        gfr_category: KDIGO category of the eGFR (``G5D`` on dialysis).
        reason: Why this band, in words.
        rule_id: The knowledge-base rule that chose the band.
        citation: The citation of that rule.
        missing: The patient fields that would make the assessment complete.
        alerts: What may make the estimate misleading (weight above 120 kg with
            height unknown; a low creatinine at 65 or over).

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
    alerts: tuple[SafetyAlert, ...] = ()

    @property
    def crcl_ml_min(self) -> float | None:
        """CrCl in mL/min as a float, or ``None`` when unknown."""
        return None if self.crcl is None else magnitude_in(self.crcl, Kind.CLEARANCE)


def assess_renal_function(
    patient: Patient,
    weight_basis: WeightBasis | str | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
) -> RenalAssessment:
    """Assess renal function for dosing: CrCl, band, eGFR and KDIGO category.

    Decisions (decision_dialysis_lowest_band, decision_unknown_renal_function,
    decision_obesity_weight_basis): a patient on haemodialysis is dosed in the
    lowest band, with no Cockcroft-Gault CrCl (KDIGO category G5D); unknown
    function (no creatinine or no weight) is dosed in the most restrictive band
    and says so, never as if it were normal.

    Alerts (decision_obesity_weight_basis, decision_low_creatinine_older_adult):
    a weight above 120 kg with height unknown (Cockcroft-Gault may overestimate
    clearance; record a height), and a serum creatinine below 0.7 mg/dL at 65
    or over (low muscle mass; the creatinine is never rounded up).

    Args:
        patient: The patient.
        weight_basis: The Cockcroft-Gault weight basis; ``None`` for the package
            default (see :func:`estimate_creatinine_clearance`).
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The assessment.

    Raises:
        UnknownTermError: Unknown ``weight_basis``.

    References:
        cockcroft_gault_1976, inker_2021, kdigo_2012, decision_dialysis_lowest_band

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
        >>> a = assess_renal_function(p)
        >>> a.band.value, round(a.crcl_ml_min, 1)
        ('moderate', 33.8)
        >>> d = assess_renal_function(Patient(age=60, sex="male", weight="70 kg",
        ...                                   serum_creatinine="8 mg/dL", on_dialysis=True))
        >>> d.band.value, d.crcl, d.gfr_category.value
        ('end_stage', None, 'G5D')
    """
    knowledge = knowledge_argument(knowledge)
    patient = coerce_model(patient, Patient, "patient")
    basis = parse_weight_basis(weight_basis)
    table = _table() if knowledge is None else knowledge.renal
    parameters = clinical_parameters() if knowledge is None else knowledge.parameters
    if patient.on_dialysis:
        # Cockcroft-Gault (and eGFR) are not valid on haemodialysis: no CrCl band.
        rule = table.dialysis
        return RenalAssessment(
            band=rule.band,
            known=True,
            on_dialysis=True,
            gfr_category=GfrCategory.G5D,
            reason=rule.text,
            rule_id=rule.rule_id,
            citation=rule.citation,
        )
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
            estimate = _cockcroft_gault(patient, basis, table)
        except InsufficientDataError as exc:
            missing = exc.missing  # height for the ideal/adjusted basis
    if estimate is None:
        rule = table.unknown
        known = False
        reason = f"{rule.text} (missing: {', '.join(missing)})"
    else:
        rule = _band_rule(estimate[0], table)
        known = True
        reason = f"{estimate[3]}; band {rule.band.value}: {rule.text}"
    return RenalAssessment(
        band=rule.band,
        known=known,
        on_dialysis=patient.on_dialysis,
        crcl=None if estimate is None else quantity_in(estimate[0], "mL/min"),
        weight_basis=None if estimate is None else estimate[1],
        egfr=None if egfr_value is None else quantity_in(egfr_value, "mL/min/{1.73_m2}"),
        gfr_category=None if egfr_value is None else _category(egfr_value, table),
        reason=reason,
        rule_id=rule.rule_id,
        citation=rule.citation,
        missing=missing,
        alerts=_estimate_alerts(patient, table, parameters),
    )


def _estimate_alerts(
    patient: Patient, table: _RenalTable, parameters: ClinicalParameters
) -> tuple[SafetyAlert, ...]:
    """Alerts that the Cockcroft-Gault estimate may mislead (not on dialysis)."""
    alerts: list[SafetyAlert] = []
    heavy = table.obesity_no_height
    weight = patient.weight_kg
    if (
        patient.height is None
        and weight is not None
        and heavy.above_kg is not None
        and weight > heavy.above_kg
    ):
        alerts.append(heavy.alert())
    low = table.low_creatinine_older_adult
    creatinine = patient.creatinine_mg_dl
    if (
        creatinine is not None
        and low.below_mg_dl is not None
        and matches(low.when, patient_facts(patient, parameters))
        and creatinine < low.below_mg_dl
    ):
        alerts.append(low.alert())
    return tuple(alerts)
