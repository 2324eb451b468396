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

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._base import FrozenModel, coerce_model
from cluneal._lazy_text import Deferred, TextOnRead
from cluneal._renal_weight import (
    AGE,
    CLEARANCE,
    CREATININE,
    HEIGHT,
    WEIGHT,
    Body,
    actual_weight_reason,
    clearance,
    cockcroft_gault,
    ibw_kg,
    parse_weight_basis,
)
from cluneal.alerts import SafetyAlert
from cluneal.errors import InsufficientDataError, InvalidQuantityError
from cluneal.knowledge.base import knowledge_base, resolved
from cluneal.knowledge.criteria import PatientFacts, facts_for, matches
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
    GlomerularFiltrationRate,
    Kind,
    Quantity,
    magnitude_in,
    parse_quantity,
    quantity_in,
    ureg,
)
from cluneal.vocabulary import GfrCategory, RenalBand, Sex, WeightBasis

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.renal import RenalAlertRule, RenalTable
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


_ML_MIN: Final = ureg.Unit("milliliter / minute")
_EGFR_UNIT: Final = ureg.Unit("milliliter / minute / standard_body_surface_area")
_KG: Final = ureg.Unit("kilogram")


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
        alerts: What may make the estimate misleading (a heavy patient with height
            unknown; a low creatinine in an older adult: ``renal.alert.*``).

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
    # Rendered when read or serialised (cluneal._lazy_text): the engine rarely reads it.
    reason: TextOnRead
    rule_id: str
    citation: str
    missing: tuple[str, ...] = ()
    alerts: tuple[SafetyAlert, ...] = ()

    @property
    def crcl_ml_min(self) -> float | None:
        """CrCl in mL/min as a float, or ``None`` when unknown."""
        return None if self.crcl is None else CLEARANCE(self.crcl)


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
    return _assess(patient, basis, kb.renal, kb)


def assess(
    patient: Patient,
    basis: WeightBasis | None,
    table: RenalTable,
    facts: PatientFacts | KnowledgeBase,
) -> RenalAssessment:
    """The assessment from checked arguments (the engine's entry point: once per care plan).

    Args:
        patient: The patient.
        basis: The weight basis, parsed (``None``: the package default).
        table: The renal table of the knowledge base applied.
        facts: The patient's facts in that knowledge base, or the knowledge base
            itself (the facts are then computed only if the low-creatinine
            alert needs them).

    Returns:
        The assessment, built from values already validated.

    Example:
        >>> from cluneal import Patient, knowledge_base
        >>> from cluneal.knowledge.criteria import facts_for
        >>> p = Patient(age=78, sex="female", weight="60 kg", serum_creatinine="1.3 mg/dL")
        >>> kb = knowledge_base()
        >>> assess(p, None, kb.renal, facts_for(p, kb)) == assess_renal_function(p)
        True
    """
    return _assess(patient, basis, table, facts)


# The fields each kind of assessment sets: its ``model_fields_set``, as ``trusted`` gives it.
_DIALYSIS_SET: Final = frozenset(
    ("band", "known", "on_dialysis", "gfr_category", "reason", "rule_id", "citation")
)
_FULL_SET: Final = frozenset(RenalAssessment.model_fields)
_new_assessment = RenalAssessment.__new__
_set = object.__setattr__


def _built(values: dict[str, object], fields_set: frozenset[str]) -> RenalAssessment:
    """An assessment from a complete, ordered dict of trusted values (what ``trusted`` builds)."""
    instance = _new_assessment(RenalAssessment)
    _set(instance, "__dict__", values)
    _set(instance, "__pydantic_fields_set__", set(fields_set))
    _set(instance, "__pydantic_extra__", None)
    _set(instance, "__pydantic_private__", None)
    return instance


@lru_cache(maxsize=64)
def _band_reason(band: RenalBand, text: str) -> str:
    """The band's part of the reason (a pure function of the band rule's words)."""
    return f"; band {band.value}: {text}"


@lru_cache(maxsize=64)
def _unknown_reason(text: str, missing: tuple[str, ...]) -> str:
    """The reason when CrCl cannot be computed (a pure function of the rule and what is missing)."""
    return f"{text} (missing: {', '.join(missing)})"


def _dialysis(table: RenalTable) -> RenalAssessment:
    """The assessment on haemodialysis: the same value for every patient (one per table)."""
    found = _DIALYSIS.get(id(table))
    if found is not None and found[0] is table:
        return found[1]
    # Cockcroft-Gault (and eGFR) are not valid on haemodialysis: no CrCl band.
    rule = table.dialysis
    assessment = _built(
        {
            "band": rule.band,
            "known": True,
            "on_dialysis": True,
            "crcl": None,
            "weight_basis": None,
            "egfr": None,
            "gfr_category": GfrCategory.G5D,
            "reason": rule.text,
            "rule_id": rule.rule_id,
            "citation": rule.citation,
            "missing": (),
            "alerts": (),
        },
        _DIALYSIS_SET,
    )
    if len(_DIALYSIS) >= _BOUND:
        _DIALYSIS.clear()
    _DIALYSIS[id(table)] = (table, assessment)
    return assessment


def _rule_alert(rule: RenalAlertRule) -> SafetyAlert:
    """A renal alert rule's alert: the same value whenever it fires (one per rule)."""
    found = _ALERTS.get(id(rule))
    if found is not None and found[0] is rule:
        return found[1]
    alert = rule.alert()
    if len(_ALERTS) >= _BOUND:
        _ALERTS.clear()
    _ALERTS[id(rule)] = (rule, alert)
    return alert


# Values that depend on a knowledge base's renal table alone, one entry per table or
# rule seen (each entry holds its key's object, so an id is never another object's),
# bounded (emptied when full) for a program that makes many knowledge bases.
_BOUND: Final = 64
_DIALYSIS: dict[int, tuple[RenalTable, RenalAssessment]] = {}
_ALERTS: dict[int, tuple[RenalAlertRule, SafetyAlert]] = {}


def _assess(
    patient: Patient,
    basis: WeightBasis | None,
    table: RenalTable,
    facts: PatientFacts | KnowledgeBase,
) -> RenalAssessment:
    """The assessment in floats; ``facts``: the patient's, or the knowledge base to compute them."""
    if patient.on_dialysis:
        return _dialysis(table)
    female = patient.sex is Sex.FEMALE
    age = facts.age_years if isinstance(facts, PatientFacts) else AGE(patient.age)
    # The patient's numbers in canonical units, each read once.
    weight = None if patient.weight is None else WEIGHT(patient.weight)
    height = None if patient.height is None else HEIGHT(patient.height)
    creatinine = None if patient.serum_creatinine is None else CREATININE(patient.serum_creatinine)
    explanation: str | None
    if creatinine is None:
        egfr_value = None
        crcl, used, explanation = None, None, ""
        missing: tuple[str, ...] = (
            ("serum_creatinine",) if weight is not None else ("serum_creatinine", "weight")
        )
    else:
        egfr_value = ckd_epi_2021(creatinine, age, female=female)
        crcl, used, explanation, missing = clearance(
            age, female, weight, height, creatinine, basis, table
        )
    reason: str | Deferred
    if crcl is None:
        rule = table.unknown
        known = False
        reason = _unknown_reason(rule.text, missing)
    else:
        rule = table.band_rule(crcl)
        known = True
        band = _band_reason(rule.band, rule.text)
        if explanation is None and weight is not None and creatinine is not None:
            reason = Deferred(actual_weight_reason, age, weight, creatinine, crcl, female, band)
        else:
            reason = f"{explanation}{band}"
    alerts: tuple[SafetyAlert, ...] = ()
    heavy = table.obesity_no_height
    if (
        height is None
        and weight is not None
        and heavy.above_kg is not None
        and weight > heavy.above_kg
    ):
        alerts = (_rule_alert(heavy),)
    low = table.low_creatinine_older_adult
    if creatinine is not None and low.below_mg_dl is not None and creatinine < low.below_mg_dl:
        if not isinstance(facts, PatientFacts):
            # Only the knowledge-base entry point leaves the facts to compute, and only here.
            facts = facts_for(patient, facts, age_years=age)
        if matches(low.when, facts):
            alerts = (*alerts, _rule_alert(low))
    return _built(
        {
            "band": rule.band,
            "known": known,
            "on_dialysis": False,
            "crcl": None if crcl is None else quantity_in(crcl, "mL/min"),
            "weight_basis": used,
            "egfr": None if egfr_value is None else quantity_in(egfr_value, "mL/min/{1.73_m2}"),
            "gfr_category": None
            if egfr_value is None
            else table.gfr_categories.category(egfr_value),
            "reason": reason,
            "rule_id": rule.rule_id,
            "citation": rule.citation,
            "missing": missing,
            "alerts": alerts,
        },
        _FULL_SET,
    )
