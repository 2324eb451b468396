"""The care plan: assessment, next step, pharmacotherapy and complementary care.

:func:`care_plan` assembles everything a clinician reviews for one patient: the
diagnostic assessment, the pathway recommendation, the first-line drug chosen
by the first-line rule (decision_pharmacotherapy_first_line) with its titration
schedule, every drug listed with its screening status
(decision_screen_every_listed_drug), complementary care with its real
evidence, every alert, and a trace of the rules applied.

Example:
    >>> from cluneal import Patient
    >>> from cluneal.diagnosis import Findings, PainPattern, TenderPoint
    >>> findings = Findings(
    ...     pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    ...     tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
    ... )
    >>> plan = care_plan(Patient(age=40, sex="female"), findings)
    >>> plan.recommendation.step.value, [s.drug.value for s in plan.medications]
    ('diagnostic_block', ['nortriptyline'])
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from cluneal._base import FrozenModel, coerce_model, trusted
from cluneal._checks import calendar_date
from cluneal._protocol_rules import protocol_limits
from cluneal._renal_weight import parse_weight_basis
from cluneal._vocabulary import Term
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.complementary import ComplementaryMeasure, care_for
from cluneal.diagnosis import (
    DiagnosticAssessment,
    DiagnosticClass,
    Findings,
)
from cluneal.drug import Drug
from cluneal.errors import ContraindicatedError
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.base import resolved
from cluneal.knowledge.criteria import (
    DIAGNOSIS_UNLIKELY,
    URGENT_RED_FLAG,
    Facts,
    PatientFacts,
    facts_for,
    matches,
)
from cluneal.pathway import CareHistory, Recommendation, next_step
from cluneal.patient import Patient
from cluneal.renal import assess
from cluneal.safety import screen_each
from cluneal.titration import TitrationSchedule
from cluneal.titration._engine import PatientInputs, schedule_for
from cluneal.titration._tables import tables

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.pharmacotherapy import PharmacotherapyTable, Selection, WithholdRule
    from cluneal.renal import WeightBasis
    from cluneal.units import Quantity

__all__ = [
    "SAFETY_STATEMENT",
    "CarePlan",
    "ChoiceStatus",
    "DrugChoice",
    "ScreeningStatus",
    "care_plan",
]

SAFETY_STATEMENT = "cluneal supports clinical decisions; it does not make them."


class ChoiceStatus(Term):
    """What happened to a candidate drug in the selection."""

    CHOSEN = "chosen"
    EXCLUDED = "excluded"
    CONTRAINDICATED = "contraindicated"
    NOT_REACHED = "not_reached"
    WITHHELD = "withheld"
    SECOND_LINE = "second_line"
    EXCLUDED_BY_PROTOCOL = "excluded_by_protocol"
    """The local protocol in use excludes it: never scheduled, never offered."""


class ScreeningStatus(Term):
    """The result of screening one listed drug for the patient: its most serious alert.

    Example:
        >>> ScreeningStatus("no_alerts").value
        'no_alerts'
    """

    CONTRAINDICATED = "contraindicated"
    MAJOR = "major"
    MODERATE = "moderate"
    INFO = "info"
    NO_ALERTS = "no_alerts"


class DrugChoice(FrozenModel):
    """One drug the care plan lists, what the first-line rule did with it, and its screening.

    Every listed drug (the chosen one, the first-line alternatives and the
    second-line options) is screened for the patient; a contraindicated one is
    shown as contraindicated with its reasons, never offered without a word
    (decision_screen_every_listed_drug).

    Attributes:
        drug: The drug.
        status: Chosen, excluded, contraindicated, not reached, withheld or second line.
        reason: Why, in words, with the screening result.
        rule_ids: The rules that decided.
        citations: Their citation ids.
        screening: The most serious alert for this drug and this patient.
        screening_alerts: The alerts, most serious first.
    """

    drug: Drug
    status: ChoiceStatus
    reason: str
    rule_ids: tuple[str, ...]
    citations: tuple[str, ...]
    screening: ScreeningStatus
    screening_alerts: tuple[SafetyAlert, ...] = ()


@dataclass(frozen=True, slots=True)
class _Choice:
    choices: tuple[DrugChoice, ...]
    schedule: TitrationSchedule | None
    rationale: str


class CarePlan(FrozenModel):
    """Everything cluneal proposes for one patient, with the reasons.

    Attributes:
        patient: The patient the plan is for.
        findings: The findings it rests on.
        history: The treatments given after the diagnostic block.
        assessment: The diagnostic assessment.
        recommendation: The next step of the pathway.
        medications: The titration schedule of the drug chosen (empty when none may be started).
        medication_rationale: Why this drug, or why none, in words.
        drug_choices: What the first-line rule did with each candidate, and the second-line options.
        complementary: Complementary measures, each with its real evidence.
        alerts: Every alert of the plan, most serious first.
        trace: The rules applied, in order.
        knowledge_base_version: The knowledge base that produced it.
        protocol_sha256: The sha256 of the local protocol's content, or ``None``.
        safety_statement: cluneal supports clinical decisions; it does not make them.
    """

    patient: Patient
    findings: Findings
    history: CareHistory
    assessment: DiagnosticAssessment
    recommendation: Recommendation
    medications: tuple[TitrationSchedule, ...]
    medication_rationale: str
    drug_choices: tuple[DrugChoice, ...]
    complementary: tuple[ComplementaryMeasure, ...]
    alerts: tuple[SafetyAlert, ...]
    trace: tuple[str, ...]
    knowledge_base_version: str = KNOWLEDGE_BASE_VERSION
    protocol_sha256: str | None = None
    safety_statement: str = SAFETY_STATEMENT


def _withhold_for(facts: PatientFacts | Facts, table: PharmacotherapyTable) -> WithholdRule | None:
    return next((rule for rule in table.withholds if matches(rule.when, facts)), None)


def _withhold_rule(
    assessment: DiagnosticAssessment, table: PharmacotherapyTable
) -> WithholdRule | None:
    """The withholding rule an assessment fires, whatever the patient (the cohort's seam)."""
    return _withhold_for(Facts(frozenset(_assessment_atoms(assessment))), table)


def _assessment_atoms(assessment: DiagnosticAssessment) -> tuple[str, ...]:
    """The facts of the diagnostic assessment the withholding rules ask about."""
    atoms = []
    if assessment.is_urgent:
        atoms.append(URGENT_RED_FLAG)
    if assessment.classification is DiagnosticClass.UNLIKELY:
        atoms.append(DIAGNOSIS_UNLIKELY)
    return tuple(atoms)


def _pairs_ids(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    listed = list(pairs)
    return (
        tuple(dict.fromkeys(rule_id for rule_id, _ in listed)),
        tuple(dict.fromkeys(cite for _, cite in listed)),
    )


def _choice(
    drug: Drug,
    status: ChoiceStatus,
    reason: str,
    rules: Iterable[tuple[str, str]],
    alerts: tuple[SafetyAlert, ...],
) -> DrugChoice:
    """One candidate's outcome; ``rules`` are (rule id, citation id) pairs.

    ``alerts`` are the drug's screening for the patient, most serious first; a
    contraindicated drug is shown as contraindicated. The outcome depends on
    these values only: the same ones (most patients' are) give the same frozen value.
    """
    return _choice_of(drug, status, reason, tuple(rules), alerts)


@lru_cache(maxsize=4096)
def _choice_of(
    drug: Drug,
    status: ChoiceStatus,
    reason: str,
    rules: tuple[tuple[str, str], ...],
    alerts: tuple[SafetyAlert, ...],
) -> DrugChoice:
    pairs = list(rules)
    if not alerts:
        screening = ScreeningStatus.NO_ALERTS
        reason += " Screening for this patient: no alerts."
    else:
        screening = _SCREENING[alerts[0].severity]
        if alerts[0].severity is Severity.CONTRAINDICATED:
            refusals = [a for a in alerts if a.severity is Severity.CONTRAINDICATED]
            if status is not ChoiceStatus.CONTRAINDICATED:
                why = " ".join(a.message for a in refusals)
                otherwise = status.value.replace("_", " ")
                reason = (
                    f"Contraindicated for this patient: {why} (otherwise {otherwise}: {reason})"
                )
                status = ChoiceStatus.CONTRAINDICATED
            pairs.extend((a.rule_id, a.citation) for a in refusals)
        else:
            found = ", ".join(dict.fromkeys(a.rule_id for a in alerts))
            reason += f" Screening for this patient: {screening.value} alert ({found})."
    rule_ids, citations = _pairs_ids(pairs)
    # Built from values already validated (rules of the knowledge base, sorted alerts).
    return trusted(
        DrugChoice,
        drug=drug,
        status=status,
        reason=reason,
        rule_ids=rule_ids,
        citations=citations,
        screening=screening,
        screening_alerts=alerts,
    )


_SCREENING: Final = {s: ScreeningStatus(s.value) for s in Severity}


def _excluded_by_protocol(knowledge: KnowledgeBase | None) -> tuple[Drug, ...]:
    protocol = None if knowledge is None else knowledge.protocol
    return () if protocol is None else protocol.excluded_drugs


def _protocol_label(knowledge: KnowledgeBase | None) -> str:
    protocol = None if knowledge is None else knowledge.protocol
    return "" if protocol is None else protocol.label


def _excluded_choice(
    drug: Drug, knowledge: KnowledgeBase | None, alerts: tuple[SafetyAlert, ...]
) -> DrugChoice:
    """A drug the local protocol excludes: shown with its screening, never offered."""
    limits = protocol_limits()
    reason = (
        f"Excluded by the local protocol {_protocol_label(knowledge)}: not scheduled and not "
        "offered."
    )
    return _choice(
        drug,
        ChoiceStatus.EXCLUDED_BY_PROTOCOL,
        reason,
        [(f"{limits.rules.excluded}.{drug.value}", limits.citation)],
        alerts,
    )


def _excluded_rationale(excluded: tuple[Drug, ...], knowledge: KnowledgeBase | None) -> list[str]:
    if not excluded:
        return []
    names = ", ".join(d.value for d in excluded)
    return [f"Excluded by the local protocol ({_protocol_label(knowledge)}): {names}."]


def _second_line(
    sel: Selection,
    excluded: tuple[Drug, ...],
    knowledge: KnowledgeBase | None,
    screened: Mapping[Drug, tuple[SafetyAlert, ...]],
) -> list[DrugChoice]:
    """The second-line options, screened; those the protocol excludes shown as excluded."""
    pairs = ((sel.rule_id, sel.second_line_citation),)
    return [
        _excluded_choice(drug, knowledge, screened[drug])
        if drug in excluded
        else _choice(drug, ChoiceStatus.SECOND_LINE, sel.second_line_text, pairs, screened[drug])
        for drug in sel.second_line
    ]


def _choose_drug(
    inputs: PatientInputs,
    facts: PatientFacts,
    *,
    day0: dt.date | None,
    knowledge: KnowledgeBase,
    table: PharmacotherapyTable,
) -> _Choice:
    sel = table.selection
    first_line = ((sel.rule_id, sel.citation),)
    # Every listed drug screened once, alone, for this patient; the renal
    # assessment was done once, in the inputs every schedule reads.
    screened = screen_each(
        (*sel.first_line, *sel.second_line), inputs.patient, facts, knowledge=knowledge
    )
    choices: list[DrugChoice] = []
    schedule: TitrationSchedule | None = None
    withhold = _withhold_for(facts, table)
    rationale: list[str] = []
    excluded = _excluded_by_protocol(knowledge)
    for drug in sel.first_line:
        if drug in excluded:
            choices.append(_excluded_choice(drug, knowledge, screened[drug]))
            continue
        if withhold is not None:
            choices.append(
                _choice(
                    drug,
                    ChoiceStatus.WITHHELD,
                    withhold.text,
                    [(withhold.rule_id, withhold.citation)],
                    screened[drug],
                )
            )
            continue
        if schedule is not None:
            reason = "A drug earlier in the first-line order was chosen."
            choices.append(
                _choice(drug, ChoiceStatus.NOT_REACHED, reason, first_line, screened[drug])
            )
            continue
        skips = [rule for rule in table.skips if rule.drug is drug and matches(rule.when, facts)]
        if skips:
            reason = " ".join(r.text for r in skips)
            rules = [(r.rule_id, r.citation) for r in skips]
            choices.append(_choice(drug, ChoiceStatus.EXCLUDED, reason, rules, screened[drug]))
            continue
        try:
            schedule = schedule_for(inputs, drug, screened[drug], day0=day0)
        except ContraindicatedError as exc:
            reason = " ".join(a.message for a in exc.alerts) or str(exc)
            rules = [(a.rule_id, a.citation) for a in exc.alerts]
            choices.append(
                _choice(drug, ChoiceStatus.CONTRAINDICATED, reason, rules, sort_alerts(exc.alerts))
            )
            continue
        reason = "First drug in the first-line order that may be started. " + sel.off_label_text
        choices.append(
            _choice(drug, ChoiceStatus.CHOSEN, reason, first_line, sort_alerts(schedule.alerts))
        )
    choices.extend(_second_line(sel, excluded, knowledge, screened))
    if withhold is not None:
        rationale.append(withhold.text)
    elif schedule is None:
        rationale.append(table.none_available.text)
        skipped = "; ".join(
            f"{c.drug.value}: {c.reason}" for c in choices if c.drug in sel.first_line
        )
        rationale.append(f"Reasons: {skipped}")
    else:
        passed = [
            c
            for c in choices
            if c.drug in sel.first_line
            and c.status
            in {
                ChoiceStatus.EXCLUDED,
                ChoiceStatus.CONTRAINDICATED,
                ChoiceStatus.EXCLUDED_BY_PROTOCOL,
            }
        ]
        lead = f"{schedule.drug.value.capitalize()} is proposed: {sel.text}"
        rationale.append(lead)
        rationale.extend(f"{c.drug.value.capitalize()} was passed over: {c.reason}" for c in passed)
        rationale.append(sel.off_label_text)
    # Second-line options are never listed without their screening result.
    options = "; ".join(
        f"{c.drug.value} ({c.screening.value.replace('_', ' ')})"
        for c in choices
        if c.drug in sel.second_line and c.drug not in excluded
    )
    rationale.append(f"Second-line options, screened for this patient: {options or 'none'}.")
    rationale.extend(_excluded_rationale(excluded, knowledge))
    return _Choice(tuple(choices), schedule, " ".join(rationale))


def care_plan(
    patient: Patient | Mapping[str, Any],
    findings: Findings | Mapping[str, Any],
    history: CareHistory | Mapping[str, Any] | None = None,
    *,
    start_date: dt.date | str | None = None,
    block_threshold: float | None = None,
    lasting_relief: Quantity | str | Mapping[str, Any] | None = None,
    weight_basis: WeightBasis | str | None = None,
    knowledge: KnowledgeBase | None = None,
) -> CarePlan:
    """Assemble the care plan for one patient.

    Pharmacotherapy follows the first-line rule (decision_pharmacotherapy_first_line):
    nortriptyline unless contraindicated, an older adult (``population.older_adult``)
    or with cardiac disease;
    then carbamazepine unless contraindicated; then gabapentin; then
    pregabalin. Tramadol and low-dose naltrexone are listed as second-line
    options only. A patient for whom every first-line drug is excluded gets no
    medication and an explanation. No medication is started while an urgent red
    flag is assessed or while the diagnosis is unlikely.

    Args:
        patient: The patient (or its JSON mapping).
        findings: The clinical findings (or their JSON mapping).
        history: Treatments after the diagnostic block, oldest first.
        start_date: Day 0 of the titration, for calendar dates.
        block_threshold: Relief (percent) at or above which a block responds;
            ``None`` for the knowledge base's default (``default_block_threshold_percent`` of
            ``diagnosis.toml``, applied by rule ``dx.criterion.block_response``).
        lasting_relief: Relief lasting at least this long is lasting;
            ``None`` for the knowledge base's default (``lasting_relief_weeks`` of ``pathway.toml``,
            applied by rules ``pathway.block_lasting`` and ``pathway.block_temporary``).
        weight_basis: Cockcroft-Gault weight basis for renal dosing; ``None`` for
            the package default (actual weight, adjusted weight in obesity).
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`. The plan reports its version.

    Returns:
        The plan.

    Raises:
        ClunealError: Bad arguments.
        ValidationError: A mapping that is not a valid patient, findings or history.

    References:
        decision_pharmacotherapy_first_line, decision_screen_every_listed_drug,
        beers_2023, finnerup_2015, complementary_general

    Example:
        >>> from cluneal import Patient
        >>> from cluneal.diagnosis import Findings
        >>> plan = care_plan(Patient(age=70, sex="male"), Findings())
        >>> [c.drug.value for c in plan.drug_choices if c.status.value == "excluded"]
        ['nortriptyline']

        The defaults, read from the knowledge base (not restated here):

        >>> from cluneal import knowledge_base
        >>> kb = knowledge_base()
        >>> kb.diagnosis.default_block_threshold_percent, kb.pathway.parameters.lasting_relief_weeks
        (50.0, 12.0)
        >>> plan.recommendation.lasting_relief
        <Quantity(12.0, 'week')>
    """
    kb = resolved(knowledge)
    person: Patient = coerce_model(patient, Patient, "patient")
    found: Findings = coerce_model(findings, Findings, "findings")
    past: CareHistory = coerce_model(
        CareHistory() if history is None else history, CareHistory, "history"
    )
    # Every argument is checked before any rule runs, whether or not a drug is scheduled.
    day0 = calendar_date(start_date, "start_date")
    basis = parse_weight_basis(weight_basis)
    recommendation = next_step(
        found,
        past,
        block_threshold=block_threshold,
        lasting_relief=lasting_relief,
        knowledge=knowledge,
    )
    assessment = recommendation.assessment
    # The renal assessment and the patient's facts once (with the assessment's
    # facts), for every rule of the plan: screening, choice and schedules alike.
    patient_facts = facts_for(person, kb)
    renal = assess(person, basis, kb.renal, patient_facts)
    # The schedules' inputs (what titration's prepare() computes), with the facts
    # above given the assessment's renal band rather than computed again.
    inputs = PatientInputs(
        tables(kb),
        person,
        renal,
        patient_facts.age_years,
        renal.crcl_ml_min,
        basis is None,
        patient_facts.with_renal_band(renal.band.value, kb.parameters),
    )
    facts = patient_facts.with_atoms(_assessment_atoms(assessment))
    choice = _choose_drug(inputs, facts, day0=day0, knowledge=kb, table=kb.pharmacotherapy)
    measures, complementary_alerts = care_for(facts, kb.complementary)
    medications = () if choice.schedule is None else (choice.schedule,)
    alerts = sort_alerts([*(a for s in medications for a in s.alerts), *complementary_alerts])
    trace = [*recommendation.rules_fired]
    for c in choice.choices:
        trace.extend(c.rule_ids)
    for schedule in medications:
        trace.extend(a.rule_id for a in schedule.adjustments)
    trace.extend(m.rule_id for m in measures)
    trace.extend(a.rule_id for a in alerts)
    # Every part is a validated model or a value built from one: no revalidation.
    return trusted(
        CarePlan,
        patient=person,
        findings=found,
        history=past,
        assessment=assessment,
        recommendation=recommendation,
        medications=medications,
        medication_rationale=choice.rationale,
        drug_choices=choice.choices,
        complementary=measures,
        alerts=alerts,
        trace=tuple(dict.fromkeys(trace)),
        knowledge_base_version=recommendation.knowledge_base_version,
        protocol_sha256=recommendation.protocol_sha256,
        safety_statement=SAFETY_STATEMENT,
    )
