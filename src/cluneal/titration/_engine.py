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
Results are built from values already checked; the schedule's invariants
(:func:`~cluneal.titration._models.check_invariants`) run once per step plan,
which every schedule sharing it reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from cluneal._base import trusted
from cluneal._numbers import clinical_number
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import ContraindicatedError, ExcludedDrugError
from cluneal.knowledge.criteria import Facts, PatientFacts, facts_for, matches
from cluneal.knowledge.drugs import ProtocolName
from cluneal.renal import assess_renal_function
from cluneal.titration import _text
from cluneal.titration._models import SupplementalInstruction, TitrationSchedule, TitrationStep
from cluneal.titration._steps import plan_steps
from cluneal.titration._supplements import supplements
from cluneal.titration._tables import DrugTable, Tables, rule_adjustment, tables
from cluneal.vocabulary import RenalBand, WeightBasis

if TYPE_CHECKING:
    import datetime as dt

    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.drugs import CapRule, KnowledgeRule, Protocol, RenalBandRule
    from cluneal.patient import Patient
    from cluneal.renal import RenalAssessment
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
        crcl: The CrCl in mL/min, or ``None``.
        default_basis: The caller left the weight basis to the package default.
        facts: The patient's facts in the knowledge base, with the assessment's
            renal band (:func:`~cluneal.knowledge.criteria.facts_for`).
    """

    tables: Tables
    patient: Patient
    renal: RenalAssessment
    age: float
    crcl: float | None
    default_basis: bool
    facts: PatientFacts

    def facts_normal(self) -> PatientFacts:
        """The facts with the normal band: a drug not renally cleared, renal function unknown."""
        knowledge = self.tables.knowledge
        return facts_for(self.patient, knowledge, RenalBand.NORMAL.value, age_years=self.age)


def prepare(
    patient: Patient,
    knowledge: KnowledgeBase,
    *,
    weight_basis: WeightBasis | None = None,
    renal: RenalAssessment | None = None,
) -> PatientInputs:
    """Compute a patient's inputs to the engine once (renal assessment and facts).

    Args:
        patient: A validated patient.
        knowledge: The knowledge base (:func:`~cluneal.knowledge.base.resolved`).
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
    facts = facts_for(patient, knowledge, renal.band.value, age_years=age)
    return PatientInputs(
        compiled, patient, renal, age, renal.crcl_ml_min, weight_basis is None, facts
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
        severity=severity,
        drugs=(drug,),
        message=message,
        rule_id=rule.rule_id,
        citation=rule.citation if citation is None else citation,
        action=action,
    )


def _choose_protocol(  # noqa: PLR0917 - private helper, every argument is needed
    compiled: Tables,
    table: DrugTable,
    facts: Facts,
    band: RenalBand,
    requested: ProtocolName | None,
    adjustments: list[Adjustment],
    alerts: list[SafetyAlert],
) -> Protocol:
    fired = [rule for rule in compiled.triggers if matches(rule.when, facts)]
    if not fired:
        return table.standard if requested is None else table.protocol(requested)
    args = {
        "age": facts.age_years,
        "older_adult_age": compiled.params.older_adult.age_years,
        "band": band.value,
    }
    if requested is ProtocolName.STANDARD:
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
    adjustments.extend(
        rule_adjustment(rule, f"{table.protocol_change}{rule.reason.format(**args)}")
        for rule in fired
    )
    return table.start_low


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
        crcl = inputs.crcl
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
                    text=table.texts[band_rule.rule_id],
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


def _no_dose(table: DrugTable, compiled: Tables, permitted: float) -> ContraindicatedError:
    rule = compiled.rules["titration.no_achievable_dose"]
    message = _text.NO_DOSE.format(drug=table.name, cap=clinical_number(permitted, down=True))
    return ContraindicatedError(
        table.name,
        (_alert(Severity.CONTRAINDICATED, table.name, message, rule, _text.NO_DOSE_ACTION),),
    )


@dataclass(frozen=True, slots=True)
class _Decision:
    """What a schedule decides from the drug, band, facts and request alone (memoised).

    Everything but the patient's own renal numbers and screening: the protocol,
    the cap, the steps and supplements, and the adjustments and alerts that
    explain them, in the order they are reported (start low, then the renal
    adjustments the caller adds, then the caps, then any CrCl scaling, then
    the rest).
    """

    proto: Protocol
    cap_mg: float
    cap_rule_id: str
    permitted: float
    target: float
    start_low: tuple[Adjustment, ...]
    caps: tuple[Adjustment, ...]
    after: tuple[Adjustment, ...]
    alerts: tuple[SafetyAlert, ...]
    steps: tuple[TitrationStep, ...]
    supplements: tuple[SupplementalInstruction, ...]


# Keyed on plain values: the compiled tables (identity), the band, the facts the
# criteria read (atoms and age), the request and the CrCl scale. A service or a
# cohort sees few distinct keys, so most schedules reuse a decision.
@lru_cache(maxsize=4096)
def _decide(  # noqa: PLR0912, PLR0917 - one pass over the rules
    compiled: Tables,
    table: DrugTable,
    band: RenalBand,
    facts: Facts,
    requested: ProtocolName | None,
    target_mg_day: float | None,
    day0: dt.date | None,
    scale: float,
    on_dialysis: bool,  # noqa: FBT001 - a cache key, not a flag argument
) -> _Decision | float:
    """The decision, or the permitted daily dose when no dose the strengths make is within it."""
    start_low: list[Adjustment] = []
    alerts: list[SafetyAlert] = []
    band_rule = table.bands.get(band) if table.bands else None
    proto = _choose_protocol(compiled, table, facts, band, requested, start_low, alerts)

    # Caps: lowest wins; ties go to the rule listed first (adult cap first).
    applicable = [c for c in table.caps if matches(c.when, facts)]
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
    caps: list[Adjustment] = []
    for entry in applicable:
        if entry.rule is cap_rule and entry.lowered is not None:
            caps.append(entry.lowered)
        elif entry.doses is not None:
            caps.append(entry.doses)

    after: list[Adjustment] = []
    wanted = proto.target_mg_day if target_mg_day is None else target_mg_day
    goal = min(wanted, cap_mg)
    if wanted > cap_mg + _EPS:
        after.append(
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
    steps, used_solution, composed = plan_steps(
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
        return permitted
    if single is not None and any(
        c.intended_mg_day / c.doses_per_day > single[0] + _EPS for c in composed
    ):
        after.append(
            rule_adjustment(
                single[1],
                _text.SINGLE_DOSE.format(mg=single[0], text=table.texts[single[1].rule_id]),
                citation=table.mono.citation,
            )
        )
    first = composed[0]
    if first.smallest:
        after.append(
            rule_adjustment(
                compiled.rules["titration.first_step.smallest_dose"],
                _text.FIRST_SMALLEST.format(
                    dose=first.dose_mg, cap=clinical_number(permitted, down=True)
                ),
            )
        )
    final = steps[-1].daily_dose_mg
    if final < goal * scale - _EPS:
        after.append(
            rule_adjustment(
                compiled.rules["titration.rounding.down"],
                _text.ROUNDED_DOWN.format(
                    goal=clinical_number(goal * scale, down=True), final=final
                ),
            )
        )
    if used_solution and solution is not None:
        after.append(rule_adjustment(solution, _text.SOLUTION.format(mg_per_ml=solution.mg_per_ml)))
    local = compiled.protocol
    if table.stocked is not None:
        after.append(table.stocked)
        if first.smallest and local is not None:
            limits_rules = protocol_limits()
            alerts.append(
                trusted(
                    SafetyAlert,
                    severity=Severity.MODERATE,
                    drugs=(table.name,),
                    message=_text.STOCKED_FIRST.format(
                        dose=first.dose_mg,
                        protocol=local.label,
                        intended=clinical_number(first.intended_mg_day, down=True),
                    ),
                    rule_id=limits_rules.rules.first_dose,
                    citation=limits_rules.citation,
                    action=_text.STOCKED_FIRST_ACTION,
                )
            )
    alerts.extend(
        _alert(
            rule.severity,
            table.name,
            table.texts[rule.rule_id],
            rule,
            table.actions[rule.rule_id],
        )
        for rule in table.mono.dose_alerts
        if final > rule.above_mg_day + _EPS
    )
    return _Decision(
        proto=proto,
        cap_mg=cap_mg,
        cap_rule_id=cap_rule.rule_id,
        permitted=permitted,
        target=goal * scale,
        start_low=tuple(start_low),
        caps=tuple(caps),
        after=tuple(after),
        alerts=tuple(alerts),
        steps=steps,
        supplements=supplements(table, on_dialysis, steps, permitted, compiled.rules),
    )


def schedule_for(
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
    # Unknown renal function restricts only renally cleared drugs
    # (decision_unknown_renal_function); for the others it neither triggers
    # start low nor a cap.
    if table.renally_cleared or renal.known:
        band, facts = renal.band, inputs.facts
    else:
        band, facts = RenalBand.NORMAL, inputs.facts_normal()
    band_rule = table.bands.get(band) if table.bands else None
    # Below the band's threshold (gabapentin's end-stage band): doses in proportion to CrCl.
    crcl = inputs.crcl
    below = None if band_rule is None else band_rule.scale_below_ml_min
    scaled = (
        below is not None
        and crcl is not None
        and renal.known
        and not renal.on_dialysis
        and crcl < below
    )
    scale = crcl / below if scaled and crcl is not None and below is not None else 1.0
    decision = _decide(
        compiled,
        table,
        band,
        Facts(facts.atoms, facts.age_years),
        protocol,
        target_mg_day,
        day0,
        scale,
        renal.on_dialysis,
    )
    if not isinstance(decision, _Decision):
        raise _no_dose(table, compiled, decision)

    adjustments: list[Adjustment] = []
    alerts: list[SafetyAlert] = [*screened, *decision.alerts]
    if table.renally_cleared:
        # What may make the clearance estimate mislead, where it sets the dose.
        alerts.extend(renal.alerts)
        if inputs.default_basis and renal.weight_basis is WeightBasis.ADJUSTED:
            adjustments.append(compiled.obesity)
    adjustments.extend(decision.start_low)
    _renal_adjustments(table, inputs, band_rule, adjustments, alerts)
    adjustments.extend(decision.caps)
    if scale < 1.0 and crcl is not None and below is not None:
        cap_mg = decision.cap_mg
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
    adjustments.extend(decision.after)
    return trusted(
        TitrationSchedule,
        drug=drug,
        protocol=decision.proto.name,
        steps=decision.steps,
        max_daily_dose_mg=decision.permitted,
        max_daily_dose_rule=decision.cap_rule_id,
        target_daily_dose_mg=decision.target,
        adjustments=tuple(adjustments),
        alerts=sort_alerts(alerts),
        renal=renal,
        supplemental_instructions=decision.supplements,
        monitoring=table.monitoring,
        start_date=day0,
        knowledge_base_version=compiled.version,
        protocol_sha256=compiled.protocol_sha256,
    )
