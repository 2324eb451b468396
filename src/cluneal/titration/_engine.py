"""The titration engine: one schedule from a compiled knowledge base and a patient's facts.

The public entry is :func:`cluneal.titration.titration_schedule`. Its work is
split so that a care plan pays for the patient once, not once per drug:

* :func:`prepare` computes what every drug's schedule reads about the
  patient: the renal assessment, the age and the criteria facts (plain values);
* :func:`schedule_for` builds one drug's schedule from those, the drug's
  screening alerts and the compiled tables (:mod:`cluneal.titration._tables`).

The rules, in order (decision_start_low, decision_lowest_cap_wins,
decision_renal_band_boundaries, decision_doses_per_day_never_fall and
after): protocol, caps, renal band and scaling, target, composed steps
(memoised: they depend on the knowledge base and a few scalars, never on the
patient directly), then the adjustments and alerts that explain them.
Results are built from values already checked, with the schedule's
invariants run once (:func:`~cluneal.titration._models.check_invariants`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._compose import ComposedStep, Regimen, compose_steps
from cluneal._numbers import clinical_number
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import ContraindicatedError, ExcludedDrugError
from cluneal.knowledge.criteria import PatientFacts, patient_facts
from cluneal.knowledge.drugs import ProtocolName, Timing
from cluneal.renal import RenalAssessment, RenalBand, WeightBasis, assess_renal_function
from cluneal.titration import _text
from cluneal.titration._models import (
    SupplementalInstruction,
    TitrationSchedule,
    TitrationStep,
    check_invariants,
    trusted,
)
from cluneal.titration._tables import DrugTable, Tables, fact_mask, rule_adjustment, tables
from cluneal.units import quantity_in

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.drugs import CapRule, KnowledgeRule, Protocol, RenalBandRule
    from cluneal.patient import Patient
    from cluneal.titration._models import Adjustment

__all__ = ["PatientInputs", "prepare", "schedule_for"]

_EPS: Final = 1e-9


@dataclass(frozen=True, slots=True)
class PatientInputs:
    """What every drug's schedule reads about one patient, computed once.

    Attributes:
        tables: The compiled knowledge base.
        patient: The patient (validated).
        renal: The renal assessment (done once).
        age: The age in years.
        default_basis: The caller left the weight basis to the package default.
        facts: The criteria facts with the assessment's renal band.
        facts_normal: The facts with the normal band (a drug that is not
            renally cleared, when renal function is unknown).
        mask: The yes/no facts as bits (:func:`~cluneal.titration._tables.fact_mask`).
        mask_normal: Those of ``facts_normal``.
    """

    tables: Tables
    patient: Patient
    renal: RenalAssessment
    age: float
    default_basis: bool
    facts: PatientFacts
    facts_normal: PatientFacts
    mask: int
    mask_normal: int


def prepare(
    patient: Patient,
    knowledge: KnowledgeBase | None,
    *,
    weight_basis: WeightBasis | None = None,
    renal: RenalAssessment | None = None,
) -> PatientInputs:
    """Compute a patient's inputs to the engine once (renal assessment and facts).

    Args:
        patient: A validated patient.
        knowledge: The knowledge base (``None``: built-in), already checked.
        weight_basis: The parsed weight basis (``None``: the package default).
        renal: The renal assessment, when the caller has done it with the same
            patient, weight basis and knowledge base.

    Returns:
        The inputs :func:`schedule_for` takes.
    """
    compiled = tables(knowledge)
    if renal is None:
        renal = assess_renal_function(patient, weight_basis, knowledge=knowledge)
    age = patient.age_years
    facts = patient_facts(patient, compiled.params, renal.band.value, age_years=age)
    if renal.band is RenalBand.NORMAL:
        normal = facts
    else:
        # The same patient with a normal band: only the renal facts differ.
        restricted = RenalBand.NORMAL.value in compiled.params.renal_restricted.bands
        normal = replace(facts, renal_restricted=restricted, renal_below_normal=False)
    mask = fact_mask(facts)
    return PatientInputs(
        compiled, patient, renal, age, weight_basis is None, facts, normal, mask, fact_mask(normal)
    )


def _alert(  # noqa: PLR0917 - one alert, every part named
    severity: Severity,
    drug: str,
    message: str,
    rule: KnowledgeRule,
    action: str | None,
    citation: str | None = None,
) -> SafetyAlert:
    return trusted(
        SafetyAlert,
        {
            "severity": severity,
            "drugs": (drug,),
            "message": message,
            "rule_id": rule.rule_id,
            "citation": rule.citation if citation is None else citation,
            "action": action,
        },
    )


def _choose_protocol(  # noqa: PLR0917 - private helper, every argument is needed
    table: DrugTable,
    inputs: PatientInputs,
    facts: PatientFacts,
    mask: int,
    band: RenalBand,
    requested: ProtocolName | None,
    adjustments: list[Adjustment],
    alerts: list[SafetyAlert],
) -> Protocol:
    compiled = inputs.tables
    fired = [rule for rule, when in compiled.triggers if when.holds(mask, facts)]
    if requested is ProtocolName.STANDARD and fired:
        args = _trigger_args(inputs, compiled, band)
        why = "; ".join(rule.reason.format(**args) for rule in fired)
        rule = compiled.rules["titration.protocol.caller_standard"]
        alerts.append(
            _alert(
                Severity.MODERATE,
                table.name,
                _text.CALLER_STANDARD.format(why=why),
                rule,
                _text.CALLER_STANDARD_ACTION,
            )
        )
        return table.standard
    if requested is not None:
        return table.protocol(requested)
    if not fired:
        return table.standard
    args = _trigger_args(inputs, compiled, band)
    adjustments.extend(
        rule_adjustment(rule, f"{table.protocol_change}{rule.reason.format(**args)}")
        for rule in fired
    )
    return table.start_low


def _trigger_args(inputs: PatientInputs, compiled: Tables, band: RenalBand) -> dict[str, object]:
    return {
        "age": inputs.age,
        "older_adult_age": compiled.params.older_adult.age_years,
        "band": band.value,
    }


def _renal_adjustments(
    table: DrugTable,
    inputs: PatientInputs,
    band_rule: RenalBandRule | None,
    adjustments: list[Adjustment],
    alerts: list[SafetyAlert],
) -> None:
    renal = inputs.renal
    rules = inputs.tables.rules
    drug = table.name
    if table.renally_cleared and not renal.known:
        rule = rules["titration.renal.unknown"]
        missing = ", ".join(renal.missing) or "serum_creatinine"
        adjustments.append(rule_adjustment(rule, _text.RENAL_UNKNOWN.format(missing=missing)))
        alerts.append(
            _alert(
                Severity.MAJOR,
                drug,
                _text.RENAL_UNKNOWN_ALERT.format(missing=missing, drug=drug),
                rule,
                _text.RENAL_UNKNOWN_ACTION,
            )
        )
    if renal.on_dialysis:
        adjustments.append(
            rule_adjustment(
                rules["titration.renal.dialysis"],
                _text.DIALYSIS.format(drug=drug),
                citation=table.mono.citation,
            )
        )
    if band_rule is not None and band_rule.band is not RenalBand.NORMAL:
        crcl = renal.crcl_ml_min
        if renal.on_dialysis:
            where = _text.WHERE_DIALYSIS
        elif crcl is not None:
            where = _text.WHERE_CRCL.format(crcl=crcl)
        else:
            where = _text.WHERE_UNKNOWN
        adjustments.append(
            rule_adjustment(
                band_rule,
                _text.RENAL_BAND.format(
                    band=band_rule.band.value,
                    where=where,
                    cap=band_rule.cap_mg_day,
                    count=band_rule.max_doses_per_day,
                    normal=table.bands[RenalBand.NORMAL].cap_mg_day,
                    text=band_rule.text,
                ),
            )
        )


def _largest_single_dose(
    table: DrugTable, band_rule: RenalBandRule | None, caps: list[CapRule]
) -> tuple[float, KnowledgeRule] | None:
    """The smallest of the largest single doses that apply, with its rule."""
    found: list[tuple[float, KnowledgeRule]] = [
        (c.max_single_dose_mg, c) for c in caps if c.max_single_dose_mg is not None
    ]
    if band_rule is not None and band_rule.max_single_dose_mg is not None:
        found.append((band_rule.max_single_dose_mg, band_rule))
    single = table.mono.max_single_dose
    if single is not None:
        found.append((single.max_mg, single))
    return min(found, key=lambda item: item[0], default=None)


def _raw_steps(proto: Protocol, goal: float) -> list[tuple[int, float]]:
    """The protocol's (day, daily dose) sequence up to the goal, before rounding."""
    steps: list[tuple[int, float]] = []
    day = 0
    current = 0.0
    for value in proto.start_mg_day:
        current = min(value, goal)
        steps.append((day, current))
        if current >= goal - _EPS:
            return steps
        day += proto.start_interval_days
    day -= proto.start_interval_days
    above = proto.increment_above_mg_day
    larger = proto.increment_above
    while current < goal - _EPS:
        step = (
            larger
            if above is not None and larger is not None and current >= above - _EPS
            else proto.increment_mg_day
        )
        current = min(current + step, goal)
        day += proto.interval_days
        steps.append((day, current))
    return steps


def _timing(count: int, once: Timing, *, spaced: bool) -> Timing:
    # Two doses under a cap that limits doses a day are evenly spaced (every 12 h).
    if count == 1:
        return once
    if count == 2:
        return Timing.EVERY_12_H if spaced else Timing.TWICE_DAILY
    return Timing.THREE_TIMES_DAILY if count == 3 else Timing.FOUR_TIMES_DAILY


def _reason(proto: Protocol, index: int, c: ComposedStep) -> str:
    intended = clinical_number(c.intended_mg_day, down=True)
    reason = (
        _text.STEP_START.format(text=proto.text)
        if index == 0
        else _text.STEP_INCREASE.format(intended=intended)
    )
    daily = c.daily_mg
    if c.smallest:
        reason += _text.STEP_SMALLEST.format(intended=intended, dose=c.dose_mg)
    elif daily < c.intended_mg_day - _EPS:
        reason += _text.STEP_ROUNDED.format(daily=daily, count=c.doses_per_day)
    if c.held_days:
        reason += _text.STEP_HELD.format(days=", ".join(str(d) for d in c.held_days))
    return reason


# The steps depend only on knowledge-base data and these few scalars, never on
# the patient directly, so they are memoised: a pure function, a bounded LRU
# (thread-safe), and frozen results that schedules can share. A service sees
# few distinct keys (drug x protocol x cap x band), so this removes the
# composing work from most calls without changing any answer.
@lru_cache(maxsize=2048)
def _plan_steps(  # noqa: PLR0917 - private, memoised on exactly these arguments
    table: DrugTable,
    protocol: ProtocolName,
    goal: float,
    cap: float,
    band: RenalBand | None,
    max_doses: int | None,
    max_single: float | None,
    spaced: bool,  # noqa: FBT001 - a cache key, not a flag argument
    scale: float,
    use_solution: bool,  # noqa: FBT001 - a cache key, not a flag argument
    day0: dt.date | None,
) -> tuple[tuple[TitrationStep, ...], bool, tuple[ComposedStep, ...]]:
    proto = table.protocol(protocol)
    band_rule = None if band is None else table.bands[band]
    form = table.formulary_solution if use_solution else table.formulary
    splits = tuple(
        (None if s.upto_mg_day is None else s.upto_mg_day * scale + _EPS, s.min_doses, s.max_doses)
        for s in table.mono.dose_splits
    )

    def counts(intended: float) -> tuple[int, int]:
        low, high = next((lo, hi) for upto, lo, hi in splits if upto is None or intended <= upto)
        if max_doses is not None:
            high = min(high, max_doses)
        if band_rule is not None:
            high = min(high, band_rule.max_doses_per_day)
            if band_rule.min_doses_per_day is not None:
                low = band_rule.min_doses_per_day
        return min(low, high), high

    regimen = Regimen(
        counts=counts,
        max_single_mg=max_single,
        ramp_mg=None if proto.ramp_dose_mg is None else proto.ramp_dose_mg * scale,
        starts_once_daily=proto.starts_once_daily,
    )
    intended = [(day, daily * scale) for day, daily in _raw_steps(proto, goal)]
    composed = compose_steps(intended, form, regimen, cap * scale)
    steps = tuple(
        trusted(
            TitrationStep,
            {
                "day": c.day,
                "dose_mg": c.dose_mg,
                "doses_per_day": c.doses_per_day,
                "timing": _timing(c.doses_per_day, proto.once_daily_timing, spaced=spaced),
                "composition": form.compose(c.dose_mg),
                "date": None if day0 is None else day0 + dt.timedelta(days=c.day),
                "reason": _reason(proto, index, c),
            },
        )
        for index, c in enumerate(composed)
    )
    used_solution = any("solution" in st.composition for st in steps)
    return steps, used_solution, composed


def _supplements(
    table: DrugTable,
    renal: RenalAssessment,
    steps: tuple[TitrationStep, ...],
    cap_mg: float,
    rules: Mapping[str, KnowledgeRule],
) -> tuple[SupplementalInstruction, ...]:
    """Post-haemodialysis supplements that follow the maintenance dose, step by step.

    Each step takes the label row with the largest maintenance dose not above
    its daily dose (decision_dialysis_supplements_follow_maintenance); a new
    instruction starts on the day the row changes.
    """
    if not renal.on_dialysis:
        return ()
    mono = table.mono
    if not mono.dialysis_supplements:
        rule = rules["titration.renal.dialysis"]
        return (
            trusted(
                SupplementalInstruction,
                {
                    "rule_id": rule.rule_id,
                    "text": mono.dialysis_note,
                    "citation": mono.citation,
                    "dose": None,
                    "composition": None,
                    "from_day": None,
                },
            ),
        )
    form = table.formulary_solution
    out: list[SupplementalInstruction] = []
    current = None
    for step in steps:
        daily = step.daily_dose_mg
        row = mono.dialysis_supplement_for(daily)
        if row is None or row is current:
            continue
        current = row
        dose = form.round_down(row.supplement_mg)
        if dose <= 0:
            # Never a silent gap: the label's supplement is stated, with who doses it.
            out.append(
                trusted(
                    SupplementalInstruction,
                    {
                        "rule_id": row.rule_id,
                        "text": _text.SUPPLEMENT_UNMADE.format(
                            day=step.day, daily=daily, mg=row.supplement_mg, text=row.text
                        ),
                        "citation": row.citation,
                        "dose": None,
                        "composition": None,
                        "from_day": step.day,
                    },
                )
            )
            continue
        alternative = (
            _text.SUPPLEMENT_ALTERNATIVE.format(
                mg=row.supplement_mg, alternative=row.alternative_mg
            )
            if row.alternative_mg
            else ""
        )
        composition = form.compose(dose)
        out.append(
            trusted(
                SupplementalInstruction,
                {
                    "rule_id": row.rule_id,
                    "text": _text.SUPPLEMENT.format(
                        day=step.day,
                        daily=daily,
                        dose=dose,
                        composition=composition,
                        alternative=alternative,
                        cap=cap_mg,
                        text=row.text,
                    ),
                    "citation": row.citation,
                    "dose": quantity_in(dose, "mg"),
                    "composition": composition,
                    "from_day": step.day,
                },
            )
        )
    return tuple(out)


def _no_dose(table: DrugTable, compiled: Tables, permitted: float) -> ContraindicatedError:
    rule = compiled.rules["titration.no_achievable_dose"]
    message = _text.NO_DOSE.format(drug=table.name, cap=clinical_number(permitted, down=True))
    return ContraindicatedError(
        table.name,
        (_alert(Severity.CONTRAINDICATED, table.name, message, rule, _text.NO_DOSE_ACTION),),
    )


def schedule_for(  # noqa: PLR0912, PLR0915 - one readable pass over the rules
    inputs: PatientInputs,
    drug: Drug,
    screened: tuple[SafetyAlert, ...],
    *,
    target_mg_day: float | None = None,
    protocol: ProtocolName | None = None,
    day0: dt.date | None = None,
) -> TitrationSchedule:
    """Build one drug's schedule from a patient's prepared inputs.

    The seam a care plan uses: :func:`prepare` once per patient, then this
    once per drug, with that drug's screening alerts.

    Args:
        inputs: From :func:`prepare` (the knowledge base is the one prepared with).
        drug: The drug.
        screened: The alerts of ``screen((drug,), patient)`` for this patient.
        target_mg_day: The daily dose to reach, or ``None`` for the protocol's.
        protocol: The protocol asked for, or ``None`` to choose by the rules.
        day0: The calendar date of day 0, or ``None``.

    Returns:
        The schedule.

    Raises:
        ExcludedDrugError: The local protocol excludes the drug.
        ContraindicatedError: A screening alert is a contraindication, or no
            dose the strengths make is within the cap.
    """
    compiled = inputs.tables
    local = compiled.protocol
    if local is not None and drug in local.excluded_drugs:
        raise ExcludedDrugError(drug.value, compiled.version)
    refused = [a for a in screened if a.severity is Severity.CONTRAINDICATED]
    if refused:
        raise ContraindicatedError(drug.value, sort_alerts(refused))
    table = compiled.drugs[drug]
    renal = inputs.renal
    adjustments: list[Adjustment] = []
    alerts: list[SafetyAlert] = list(screened)
    if table.renally_cleared:
        # What may make the clearance estimate mislead, where it sets the dose.
        alerts.extend(renal.alerts)
        if inputs.default_basis and renal.weight_basis is WeightBasis.ADJUSTED:
            adjustments.append(compiled.obesity)
    # Unknown renal function restricts only renally cleared drugs
    # (decision_unknown_renal_function); for the others it neither triggers
    # start low nor a cap.
    if table.renally_cleared or renal.known:
        band, facts, mask = renal.band, inputs.facts, inputs.mask
    else:
        band, facts, mask = RenalBand.NORMAL, inputs.facts_normal, inputs.mask_normal
    band_rule = table.bands.get(band) if table.bands else None
    proto = _choose_protocol(table, inputs, facts, mask, band, protocol, adjustments, alerts)
    _renal_adjustments(table, inputs, band_rule, adjustments, alerts)

    # Caps: lowest wins; ties go to the rule listed first (adult cap first).
    applicable = [c for c in table.caps if c.when.holds(mask, facts)]
    cap_entry = min(applicable, key=lambda c: c.rule.max_mg_day)
    cap_mg: float = cap_entry.rule.max_mg_day
    cap_rule: KnowledgeRule = cap_entry.rule
    limits = [c.rule.max_doses_per_day for c in applicable if c.rule.max_doses_per_day]
    # No cap limiting doses a day: the protocol's own dose splits decide.
    max_doses = min(limits, default=None)
    spaced = bool(limits)
    if band_rule is not None:
        if band_rule.cap_mg_day < cap_mg:
            cap_mg, cap_rule = band_rule.cap_mg_day, band_rule
        max_doses = (
            band_rule.max_doses_per_day
            if max_doses is None
            else min(max_doses, band_rule.max_doses_per_day)
        )
    for entry in applicable:
        if entry.rule is cap_rule and entry.lowered is not None:
            adjustments.append(entry.lowered)
        elif entry.doses is not None:
            adjustments.append(entry.doses)

    # Below the band's threshold (gabapentin's end-stage band): doses in proportion to CrCl.
    scale = 1.0
    crcl = renal.crcl_ml_min
    below = None if band_rule is None else band_rule.scale_below_ml_min
    if (
        below is not None
        and crcl is not None
        and renal.known
        and not renal.on_dialysis
        and crcl < below
    ):
        scale = crcl / below
        adjustments.append(
            rule_adjustment(
                compiled.rules["titration.renal.scaled"],
                _text.SCALED.format(
                    below=below,
                    crcl=crcl,
                    scale=scale,
                    cap=cap_mg,
                    scaled=clinical_number(cap_mg * scale, down=True),
                ),
                citation=table.mono.citation,
            )
        )

    wanted = proto.target_mg_day if target_mg_day is None else target_mg_day
    goal = min(wanted, cap_mg)
    if wanted > cap_mg + _EPS:
        adjustments.append(
            rule_adjustment(
                compiled.rules["titration.target.capped"],
                _text.TARGET_CAPPED.format(
                    who="default target" if target_mg_day is None else "requested target",
                    wanted=wanted,
                    cap=cap_mg,
                    rule_id=cap_rule.rule_id,
                ),
            )
        )

    solution = table.mono.solution
    use_solution = scale < 1.0 and solution is not None and band in solution.bands
    single = _largest_single_dose(table, band_rule, [c.rule for c in applicable])
    steps, used_solution, composed = _plan_steps(
        table,
        proto.name,
        goal,
        cap_mg,
        None if band_rule is None else band_rule.band,
        max_doses,
        None if single is None else single[0],
        spaced,
        scale,
        use_solution,
        day0,
    )
    permitted = cap_mg * scale
    if not steps:
        raise _no_dose(table, compiled, permitted)
    if single is not None and any(
        c.intended_mg_day / c.doses_per_day > single[0] + _EPS for c in composed
    ):
        adjustments.append(
            rule_adjustment(
                single[1],
                _text.SINGLE_DOSE.format(mg=single[0], text=single[1].text),
                citation=table.mono.citation,
            )
        )
    first = composed[0]
    if first.smallest:
        adjustments.append(
            rule_adjustment(
                compiled.rules["titration.first_step.smallest_dose"],
                _text.FIRST_SMALLEST.format(
                    dose=first.dose_mg, cap=clinical_number(permitted, down=True)
                ),
            )
        )
    final = steps[-1].daily_dose_mg
    if final < goal * scale - _EPS:
        adjustments.append(
            rule_adjustment(
                compiled.rules["titration.rounding.down"],
                _text.ROUNDED_DOWN.format(
                    goal=clinical_number(goal * scale, down=True), final=final
                ),
            )
        )
    if used_solution and solution is not None:
        adjustments.append(
            rule_adjustment(solution, _text.SOLUTION.format(mg_per_ml=solution.mg_per_ml))
        )
    if table.stocked is not None:
        adjustments.append(table.stocked)
        if first.smallest and local is not None:
            limits_rules = protocol_limits()
            alerts.append(
                trusted(
                    SafetyAlert,
                    {
                        "severity": Severity.MODERATE,
                        "drugs": (table.name,),
                        "message": _text.STOCKED_FIRST.format(
                            dose=first.dose_mg,
                            protocol=local.label,
                            intended=clinical_number(first.intended_mg_day, down=True),
                        ),
                        "rule_id": limits_rules.rules.first_dose,
                        "citation": limits_rules.citation,
                        "action": _text.STOCKED_FIRST_ACTION,
                    },
                )
            )
    alerts.extend(
        _alert(rule.severity, table.name, rule.text, rule, rule.action)
        for rule in table.mono.dose_alerts
        if final > rule.above_mg_day + _EPS
    )
    check_invariants(steps, permitted)
    return trusted(
        TitrationSchedule,
        {
            "drug": drug,
            "protocol": proto.name,
            "steps": steps,
            "max_daily_dose_mg": permitted,
            "max_daily_dose_rule": cap_rule.rule_id,
            "target_daily_dose_mg": goal * scale,
            "adjustments": tuple(adjustments),
            "alerts": sort_alerts(alerts),
            "renal": renal,
            "supplemental_instructions": _supplements(
                table, renal, steps, permitted, compiled.rules
            ),
            "monitoring": table.monitoring,
            "start_date": day0,
            "knowledge_base_version": compiled.version,
            "protocol_sha256": compiled.protocol_sha256,
        },
    )
