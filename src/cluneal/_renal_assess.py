"""The renal assessment: its model and the engine that builds it in plain floats.

:func:`cluneal.renal.assess_renal_function` is the public entry point;
:func:`assess` is the engine's, called once per care plan with checked
arguments. Values that depend only on a knowledge base's renal table (the
dialysis assessment, each alert) are built once per table.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._base import FrozenModel, assembled
from cluneal._lazy_text import Deferred, TextOnRead
from cluneal._renal_weight import (
    AGE,
    CLEARANCE,
    CREATININE,
    HEIGHT,
    WEIGHT,
    actual_weight_reason,
    clearance,
)
from cluneal.alerts import SafetyAlert
from cluneal.knowledge.criteria import PatientFacts, facts_for, matches
from cluneal.renal_equations import ckd_epi_2021
from cluneal.units import Clearance, GlomerularFiltrationRate, quantity_in
from cluneal.vocabulary import GfrCategory, RenalBand, Sex, WeightBasis

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.renal import RenalAlertRule, RenalTable
    from cluneal.patient import Patient

__all__ = ["RenalAssessment", "assess"]


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
        >>> from cluneal import Patient, assess_renal_function
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
        >>> from cluneal import Patient, assess_renal_function, knowledge_base
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
    assessment = assembled(
        RenalAssessment,
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
    return assembled(
        RenalAssessment,
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
