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

from typing import TYPE_CHECKING, Final

from cluneal._base import FrozenModel, coerce_model
from cluneal._renal_assess import RenalAssessment, assess
from cluneal._renal_weight import (
    Body,
    cockcroft_gault,
    ibw_kg,
    parse_weight_basis,
)
from cluneal._unit_table import UNITS_BY_UCUM
from cluneal.errors import InsufficientDataError, InvalidQuantityError
from cluneal.knowledge.base import knowledge_base, resolved
from cluneal.patient import Patient
from cluneal.renal_equations import (
    CM_PER_INCH,
    FEMALE_FACTOR,
    ckd_epi_2021,
    cockcroft_gault_ml_min,
    devine_kg,
)
from cluneal.units import (
    Q_,
    BodyWeight,
    Clearance,
    Kind,
    Quantity,
    magnitude_in,
    parse_quantity,
)
from cluneal.vocabulary import GfrCategory, RenalBand, Sex, WeightBasis

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.units import QuantityInput

__all__ = [
    "FEMALE_FACTOR",
    "CreatinineClearanceEstimate",
    "GfrCategory",
    "RenalAssessment",
    "RenalBand",
    "WeightBasis",
    "assess_renal_function",
    "cockcroft_gault_ml_min",
    "creatinine_clearance",
    "devine_kg",
    "egfr",
    "egfr_ckd_epi_2021",
    "estimate_creatinine_clearance",
    "gfr_category",
    "ideal_body_weight",
    "parse_weight_basis",
    "renal_band",
]


# The unit table's own units (no string parsed by Pint at import).
_ML_MIN: Final = UNITS_BY_UCUM["mL/min"]
_EGFR_UNIT: Final = UNITS_BY_UCUM["mL/min/{1.73_m2}"]
_KG: Final = UNITS_BY_UCUM["kg"]


def renal_band(crcl: QuantityInput) -> RenalBand:
    """Return the renal dosing band of a Cockcroft-Gault clearance.

    The bands and their lower CrCl bounds are the knowledge base's (``renal.band.*``
    in ``renal.toml``). A clearance exactly on a boundary goes to the more
    restrictive band, except the normal band's lower bound, which the labels count
    as normal (decision_renal_band_boundaries).

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
    return knowledge_base().renal.band_rule(magnitude_in(value, Kind.CLEARANCE)).band


def ideal_body_weight(patient: Patient) -> Quantity:
    """Devine (1974) ideal body weight: a base weight by sex plus kilograms per inch over a height.

    The constants and the height it starts from are the knowledge base's
    (``renal.ibw.devine``). Below that height (decision_ideal_body_weight_from_152_cm)
    the formula extrapolates to implausible or negative weights, so no IBW is
    computed.

    Args:
        patient: Needs ``height``.

    Returns:
        Ideal body weight in kg.

    Raises:
        InsufficientDataError: Height is unknown.
        InvalidQuantityError: Height is below the height the rule starts from.

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
    table = knowledge_base().renal
    ibw = ibw_kg(_body(patient), table)
    if ibw is None:
        rule = table.ideal_body_weight
        raise InvalidQuantityError(
            "height",
            f"{patient.height_cm:g} cm",
            f"at least {rule.min_height_cm:g} cm ({rule.min_height_cm / CM_PER_INCH:g} in): "
            "Devine ideal body weight is not "
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


def _body(patient: Patient) -> Body:
    return Body(
        age_years=patient.age_years,
        female=patient.sex is Sex.FEMALE,
        weight_kg=patient.weight_kg,
        height_cm=patient.height_cm,
        creatinine_mg_dl=patient.creatinine_mg_dl,
    )


def estimate_creatinine_clearance(
    patient: Patient, weight_basis: WeightBasis | str | None = None
) -> CreatinineClearanceEstimate:
    """Cockcroft-Gault creatinine clearance, with the weight basis reported.

    CrCl = (140 - age) x weight / (72 x SCr in mg/dL), x 0.85 for women
    (cockcroft_gault_1976). Creatinine is used as measured: it is never rounded
    up, even in older adults.

    Weight (decision_obesity_weight_basis, decision_ideal_body_weight_from_152_cm):
    ``None`` is the package default, actual weight, or adjusted weight when
    height is known and actual weight is above the obesity rule's share of ideal
    (``renal.weight_basis.obesity``); an explicit basis is honoured exactly,
    except that actual weight is used whenever it is below ideal or no ideal
    weight is defined (height below the start of ``renal.ibw.devine``). The
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
    found = cockcroft_gault(_body(patient), basis, knowledge_base().renal)
    citations = (
        ("cockcroft_gault_1976",)
        if found.basis is WeightBasis.ACTUAL
        else ("cockcroft_gault_1976", "devine_1974")
    )
    return CreatinineClearanceEstimate(
        value=Q_(found.ml_min, _ML_MIN),
        weight_basis_requested=basis,
        weight_basis_used=found.basis,
        weight_used=Q_(round(found.weight_kg, 10), _KG),
        explanation=found.explanation,
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
    value = ckd_epi_2021(creatinine, patient.age_years, female=patient.sex is Sex.FEMALE)
    return Q_(value, _EGFR_UNIT)


egfr = egfr_ckd_epi_2021
"""Alias of :func:`egfr_ckd_epi_2021`, the only eGFR equation cluneal uses."""


def gfr_category(egfr_value: QuantityInput) -> GfrCategory:
    """KDIGO GFR category of an eGFR, by the bounds of ``renal.kdigo.gfr_category``.

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
    value = magnitude_in(parse_quantity(egfr_value, "egfr", Kind.GFR), Kind.GFR)
    return knowledge_base().renal.gfr_categories.category(value)


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
    a weight above the threshold of ``renal.alert.obesity_height_unknown`` with
    height unknown (Cockcroft-Gault may overestimate clearance; record a height),
    and a serum creatinine below the threshold of
    ``renal.alert.low_creatinine_older_adult`` in an older adult (the age of
    ``population.older_adult``; low muscle mass; the creatinine is never rounded
    up). Their messages name the knowledge base's values.

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
    kb = resolved(knowledge)
    patient = coerce_model(patient, Patient, "patient")
    basis = parse_weight_basis(weight_basis)
    # The patient's facts are read only by the low-creatinine alert: computed then, not always.
    return assess(patient, basis, kb.renal, kb)
