"""Titration schedules with renal, age and hepatic adjustment.

:func:`titration_schedule` builds a day-by-day schedule for one of the six
drugs from its monograph (``knowledge/monographs/<drug>.toml``): the protocol
(standard or start low: decision_start_low, decision_default_protocols), the
caps (the lowest that applies wins, and is named: decision_lowest_cap_wins),
the renal bands (decision_renal_band_boundaries), the regimens of the dose
composer (:mod:`cluneal._compose`), and the safety alerts. A contraindicated
drug (decision_contraindications_refuse) raises
:class:`~cluneal.errors.ContraindicatedError`.

The package, one concept a module: the result models (``_models``), the
knowledge base compiled into plain tables once per base (``_tables``), the
words of every explanation (``_text``) and the engine (``_engine``), which
this module's function checks its arguments for. Results keep doses as floats
in fixed units (``dose_mg``) and build Pint quantities only when read
(``.dose``, ``.daily_dose``); JSON carries quantities as
``{"value": 300, "unit": "mg"}``. ``nox -s bench`` measures the engine
against plain-float code of the same rules (docs/performance.md).

Example:
    >>> from cluneal import Patient
    >>> p = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
    >>> s = titration_schedule("gabapentin", p)
    >>> [(st.day, st.daily_dose_mg) for st in s.steps][:4]
    [(0, 300.0), (1, 600.0), (2, 900.0), (9, 1200.0)]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluneal._checks import calendar_date
from cluneal.errors import ExcludedDrugError, UnknownTermError
from cluneal.knowledge.base import resolved
from cluneal.knowledge.drugs import ProtocolName, Timing, parse_drug
from cluneal.patient import Patient
from cluneal.renal import parse_weight_basis
from cluneal.titration._engine import prepare, schedule_for, screened_for
from cluneal.titration._models import (
    Adjustment,
    SupplementalInstruction,
    TitrationSchedule,
    TitrationStep,
)
from cluneal.units import Kind, magnitude_in, parse_quantity

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import WeightBasis

__all__ = [
    "Adjustment",
    "ProtocolName",
    "SupplementalInstruction",
    "Timing",
    "TitrationSchedule",
    "TitrationStep",
    "titration_schedule",
]


def _parse_protocol(value: object) -> ProtocolName | None:
    if value is None:
        return None
    if isinstance(value, str) and value in ProtocolName.__members__.values():
        return ProtocolName(value)
    raise UnknownTermError("protocol", value, [p.value for p in ProtocolName])


def titration_schedule(
    drug: Drug | str,
    patient: Patient | Mapping[str, Any],
    target_daily_dose: object = None,
    *,
    start_date: dt.date | str | None = None,
    protocol: ProtocolName | str | None = None,
    weight_basis: WeightBasis | str | None = None,
    knowledge: KnowledgeBase | None = None,
) -> TitrationSchedule:
    """Build a titration schedule for one drug and one patient.

    Rules (decision_start_low, decision_lowest_cap_wins,
    decision_renal_band_boundaries, decision_doses_per_day_never_fall and after):

    * Protocol: the standard protocol, or start low for an older adult (the
      older-adult age of the knowledge base's parameters), any renal band below
      normal, or any hepatic impairment (cirrhosis and acute hepatitis count).
      A caller may ask for either; asking for the standard one when start low
      applies adds an alert.
    * Caps: the adult cap, the age, cardiac, renal and hepatic caps and the
      renal band's cap; the lowest that applies wins and is named. A target
      above it is lowered to it. No step exceeds it.
    * Renal function: Cockcroft-Gault CrCl and the bands of
      decision_renal_band_boundaries. Tramadol's label threshold is read
      conservatively as the severe or end-stage band, so a CrCl exactly on it
      is restricted (decision_tramadol_crcl_30_restricted). Unknown renal
      function for a renally cleared drug (gabapentin, pregabalin, tramadol)
      is scheduled in the most restrictive band with an alert asking for a
      creatinine. Haemodialysis uses the lowest band; the post-dialysis
      supplement is a separate instruction. Gabapentin below its end-stage
      band's threshold is scaled in proportion to CrCl and may need the oral
      solution.
    * Every dose is made of marketed strengths and rounded down, never up.

    Args:
        drug: A :class:`~cluneal.Drug` or its name.
        patient: The patient.
        target_daily_dose: The daily dose to reach (``"1200 mg/d"``, a quantity or
            a mapping); ``None`` for the protocol's default.
        start_date: The calendar date of day 0, for dated steps.
        protocol: ``"standard"`` or ``"start_low"``; ``None`` chooses by the rules.
        weight_basis: The Cockcroft-Gault weight basis; ``None`` for the package
            default (actual weight, adjusted weight in obesity).
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`. The schedule reports its version.

    Returns:
        The schedule, with its adjustments, alerts and the renal assessment used.

    Raises:
        ContraindicatedError: The drug must not be started
            (decision_contraindications_refuse); ``alerts`` carries the
            reasons. There is no override.
        ExcludedDrugError: The local protocol of ``knowledge`` excludes the drug.
        UnknownTermError: Unknown drug, protocol or weight basis.
        InvalidQuantityError: ``target_daily_dose`` or ``start_date`` is not valid.
        ValidationError: ``patient`` is not a valid :class:`~cluneal.Patient`.

    References:
        gabapentin_label, pregabalin_label, tramadol_label, carbamazepine_label,
        nortriptyline_label, bruun_plesner_2020, beers_2023, decision_start_low,
        decision_lowest_cap_wins, decision_doses_per_day_never_fall,
        decision_largest_single_dose, decision_first_step_day_0

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL")
        >>> s = titration_schedule("tramadol", p)
        >>> str(s.max_daily_dose), s.max_daily_dose_rule
        ('300 milligram / day', 'tramadol.cap.age_over_75')
        >>> [(st.day, st.dose_mg, st.doses_per_day) for st in s.steps][:3]
        [(0, 25.0, 1), (7, 25.0, 2), (14, 25.0, 3)]
    """
    kb = resolved(knowledge)
    chosen = parse_drug(drug)
    local = kb.protocol
    if local is not None and chosen in local.excluded_drugs:
        raise ExcludedDrugError(chosen.value, kb.version)
    if not isinstance(patient, Patient):
        patient = Patient.model_validate(patient)
    target = (
        None
        if target_daily_dose is None
        else magnitude_in(
            parse_quantity(target_daily_dose, "target_daily_dose", Kind.DAILY_DOSE),
            Kind.DAILY_DOSE,
        )
    )
    requested = _parse_protocol(protocol)
    day0 = calendar_date(start_date, "start_date")
    inputs = prepare(patient, kb, weight_basis=parse_weight_basis(weight_basis))
    return schedule_for(
        inputs,
        chosen,
        screened_for(inputs, chosen),
        target_mg_day=target,
        protocol=requested,
        day0=day0,
    )
