"""The first-line choice of a care plan: what it did with each drug, and how it decides.

decision_pharmacotherapy_first_line and decision_screen_every_listed_drug, for
:func:`cluneal.plan.care_plan`. A plan's choice splits in two:

* what the patient's facts decide alone (:func:`prepare_for`): the screening of
  every listed drug, the first-line drugs' outcomes that no schedule decides
  (excluded by the local protocol, withheld, passed over by a rule,
  contraindicated by screening, not reached), the second-line options and
  complementary care. It is memoised on plain values: the knowledge base (by
  identity), the patient's atoms and the assessment's, which of the base's age
  bounds the age is above (:func:`~cluneal.knowledge.criteria.age_bounds`), the
  allergies and the medications;
* the schedules that decide (:func:`choose`), tried in order for this patient
  (the renal function decides), and what follows from the choices made (the
  rationale, the plan's alerts and trace), memoised on the choices' identities.

Every memo is bounded (:class:`~cluneal._memo.BoundedMemo`) and holds the
objects its key names by identity, so an id is never matched to another object.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from cluneal._base import FrozenModel, trusted
from cluneal._memo import BoundedMemo
from cluneal._protocol_rules import protocol_limits
from cluneal._renal_assess import assess
from cluneal._vocabulary import Term
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.complementary import ComplementaryMeasure, care_for
from cluneal.diagnosis import DiagnosticClass
from cluneal.drug import Drug
from cluneal.errors import ContraindicatedError
from cluneal.knowledge.criteria import (
    DIAGNOSIS_UNLIKELY,
    URGENT_RED_FLAG,
    Facts,
    PatientFacts,
    age_bounds,
    matches,
)
from cluneal.safety import screen_each
from cluneal.titration._engine import PatientInputs, schedule_for
from cluneal.titration._tables import tables

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping

    from cluneal.diagnosis import DiagnosticAssessment
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.pharmacotherapy import PharmacotherapyTable, Selection, WithholdRule
    from cluneal.patient import Patient
    from cluneal.titration import TitrationSchedule
    from cluneal.vocabulary import WeightBasis

__all__ = [
    "ChoiceStatus",
    "DrugChoice",
    "Outcome",
    "ScreeningStatus",
    "assessment_atoms",
    "choose",
    "clear_memos",
    "prepare_for",
    "withhold_rule",
]


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


def _withhold_for(facts: PatientFacts | Facts, table: PharmacotherapyTable) -> WithholdRule | None:
    return next((rule for rule in table.withholds if matches(rule.when, facts)), None)


def withhold_rule(
    assessment: DiagnosticAssessment, table: PharmacotherapyTable
) -> WithholdRule | None:
    """The withholding rule an assessment fires, whatever the patient (the cohort's seam)."""
    return _withhold_for(Facts(frozenset(assessment_atoms(assessment))), table)


def assessment_atoms(assessment: DiagnosticAssessment) -> tuple[str, ...]:
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


@dataclass(frozen=True, slots=True)
class _FirstLine:
    """One first-line drug as the patient's facts decide it, before any schedule is tried.

    ``fixed``: its outcome wherever it comes in the order (excluded by the
    local protocol, or every drug withheld). Otherwise ``before``: its outcome
    while no drug is chosen (passed over by a rule, or contraindicated by its
    screening), or ``None`` when its schedule decides; and ``after``: its
    outcome once a drug earlier in the order is chosen.
    """

    drug: Drug
    fixed: DrugChoice | None
    before: DrugChoice | None
    after: DrugChoice


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a plan decides from the patient's facts alone (no renal function): memoised.

    The screening of every listed drug, the first-line drugs' outcomes that no
    schedule decides, the second-line options and complementary care.
    """

    knowledge: KnowledgeBase
    screened: Mapping[Drug, tuple[SafetyAlert, ...]]
    first_line: tuple[_FirstLine, ...]
    second_line: tuple[DrugChoice, ...]
    withhold: WithholdRule | None
    measures: tuple[ComplementaryMeasure, ...]
    complementary_alerts: tuple[SafetyAlert, ...]


def _prepare(facts: PatientFacts, patient: Patient, knowledge: KnowledgeBase) -> _Prepared:
    """The plan's decisions that read the patient's facts and the knowledge base only."""
    table = knowledge.pharmacotherapy
    sel = table.selection
    first_line = ((sel.rule_id, sel.citation),)
    # Every listed drug screened once, alone, for this patient.
    screened = screen_each((*sel.first_line, *sel.second_line), patient, facts, knowledge=knowledge)
    withhold = _withhold_for(facts, table)
    excluded = _excluded_by_protocol(knowledge)
    drugs: list[_FirstLine] = []
    for drug in sel.first_line:
        alerts = screened[drug]
        fixed: DrugChoice | None = None
        if drug in excluded:
            fixed = _excluded_choice(drug, knowledge, alerts)
        elif withhold is not None:
            fixed = _choice(
                drug,
                ChoiceStatus.WITHHELD,
                withhold.text,
                [(withhold.rule_id, withhold.citation)],
                alerts,
            )
        before: DrugChoice | None = None
        skips = [rule for rule in table.skips if rule.drug is drug and matches(rule.when, facts)]
        refused = [a for a in alerts if a.severity is Severity.CONTRAINDICATED]
        if skips:
            reason = " ".join(r.text for r in skips)
            rules = [(r.rule_id, r.citation) for r in skips]
            before = _choice(drug, ChoiceStatus.EXCLUDED, reason, rules, alerts)
        elif refused:
            # What schedule_for refuses with, before it reads the renal function.
            before = _contraindicated(sort_alerts(refused), drug)
        reason = "A drug earlier in the first-line order was chosen."
        after = _choice(drug, ChoiceStatus.NOT_REACHED, reason, first_line, alerts)
        drugs.append(_FirstLine(drug, fixed, before, after))
    measures, complementary_alerts = care_for(facts, knowledge.complementary)
    return _Prepared(
        knowledge,
        MappingProxyType(screened),
        tuple(drugs),
        tuple(_second_line(sel, excluded, knowledge, screened)),
        withhold,
        measures,
        complementary_alerts,
    )


def _contraindicated(alerts: tuple[SafetyAlert, ...], drug: Drug) -> DrugChoice:
    """A first-line drug its schedule refuses (the alerts of its ContraindicatedError)."""
    reason = " ".join(a.message for a in alerts)
    rules = [(a.rule_id, a.citation) for a in alerts]
    return _choice(drug, ChoiceStatus.CONTRAINDICATED, reason, rules, sort_alerts(alerts))


def _rationale(
    choices: tuple[DrugChoice, ...],
    schedule_drug: Drug | None,
    prepared: _Prepared,
) -> str:
    knowledge = prepared.knowledge
    table = knowledge.pharmacotherapy
    sel = table.selection
    excluded = _excluded_by_protocol(knowledge)
    withhold = prepared.withhold
    rationale: list[str] = []
    if withhold is not None:
        rationale.append(withhold.text)
    elif schedule_drug is None:
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
        lead = f"{schedule_drug.value.capitalize()} is proposed: {sel.text}"
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
    return " ".join(rationale)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The plan's parts that follow from the choices: memoised on the choices' identities.

    The entry holds the choices (and the prepared decisions) its key names by
    ``id``, so no id in a live key can belong to another object.
    """

    prepared: _Prepared
    choices: tuple[DrugChoice, ...]
    rationale: str
    alerts: tuple[SafetyAlert, ...]
    trace: tuple[str, ...]


def _outcome(
    prepared: _Prepared,
    choices: tuple[DrugChoice, ...],
    schedule: TitrationSchedule | None,
    rules_fired: tuple[str, ...],
) -> Outcome:
    schedule_alerts = () if schedule is None else schedule.alerts
    alerts = sort_alerts([*schedule_alerts, *prepared.complementary_alerts])
    trace = [*rules_fired]
    for c in choices:
        trace.extend(c.rule_ids)
    if schedule is not None:
        trace.extend(a.rule_id for a in schedule.adjustments)
    trace.extend(m.rule_id for m in prepared.measures)
    trace.extend(a.rule_id for a in alerts)
    return Outcome(
        prepared,
        choices,
        _rationale(choices, None if schedule is None else schedule.drug, prepared),
        alerts,
        tuple(dict.fromkeys(trace)),
    )


# Keyed on plain values (the knowledge base by id: each entry holds its base, so
# an id is never matched to another one). A service or a cohort sees few
# distinct keys; each bench pass sees fresh patients, who share most keys.
_PREPARED: Final[BoundedMemo[tuple[object, ...], _Prepared]] = BoundedMemo(4096)
_OUTCOMES: Final[BoundedMemo[tuple[object, ...], Outcome]] = BoundedMemo(4096)
_CHOSEN: Final[
    BoundedMemo[tuple[object, ...], tuple[KnowledgeBase, tuple[SafetyAlert, ...], DrugChoice]]
] = BoundedMemo(4096)


def clear_memos() -> None:
    """Empty the first-line choice's memos (for tests: a cold plan equals a memoised one)."""
    _PREPARED.clear()
    _OUTCOMES.clear()
    _CHOSEN.clear()
    _choice_of.cache_clear()


def prepare_for(
    patient_facts: PatientFacts,
    assessment_atoms: tuple[str, ...],
    patient: Patient,
    knowledge: KnowledgeBase,
) -> _Prepared:
    """What the plan decides from the patient's facts alone, memoised on plain values.

    Args:
        patient_facts: The patient's facts in ``knowledge`` (no renal band).
        assessment_atoms: The assessment's atoms (:func:`assessment_atoms`).
        patient: The patient (allergies and medications are read).
        knowledge: The knowledge base.

    Returns:
        The screening, the first-line outcomes no schedule decides, the second
        line and complementary care.
    """
    age = patient_facts.age_years
    # Everything screening, the choice rules and complementary care read: the
    # atoms (the patient's, whose set keeps its hash, and the assessment's), and
    # the age only as the criteria read it (which of the base's age bounds it is above).
    key = (
        id(knowledge),
        patient_facts.atoms,
        assessment_atoms,
        *[age > bound for bound in age_bounds(knowledge)],
        patient.allergies,
        patient.medications,
        patient.recent_medications,
    )
    found = _PREPARED.entries.get(key)
    if found is not None and found.knowledge is knowledge:
        return found
    facts = patient_facts.with_atoms(assessment_atoms)
    return _PREPARED.put(key, _prepare(facts, patient, knowledge))


def _chosen(knowledge: KnowledgeBase, drug: Drug, alerts: tuple[SafetyAlert, ...]) -> DrugChoice:
    """The chosen drug's outcome, with its schedule's alerts (sorted already).

    Looked up by the identities of the alerts first (the entry holds them): most
    are the knowledge base's and the memoised decisions' own objects, so the
    lookup hashes no alert.
    """
    key = (id(knowledge), drug, *map(id, alerts))
    found = _CHOSEN.entries.get(key)
    if found is not None:
        return found[2]
    sel = knowledge.pharmacotherapy.selection
    reason = "First drug in the first-line order that may be started. " + sel.off_label_text
    choice = _choice(drug, ChoiceStatus.CHOSEN, reason, ((sel.rule_id, sel.citation),), alerts)
    return _CHOSEN.put(key, (knowledge, alerts, choice))[2]


def _inputs(
    patient: Patient,
    basis: WeightBasis | None,
    facts: PatientFacts,
    knowledge: KnowledgeBase,
) -> PatientInputs:
    """The schedules' inputs (what titration's prepare() computes), from what the plan has.

    The renal assessment is done here, once: only a schedule reads it (its
    dosing band, its alerts), so a plan that tries none does not need it.
    """
    renal = assess(patient, basis, knowledge.renal, facts)
    return PatientInputs(
        tables(knowledge),
        patient,
        renal,
        facts.age_years,
        renal.crcl_ml_min,
        basis is None,
        facts.with_renal_band(renal.band.value, knowledge.parameters),
    )


def choose(  # noqa: PLR0917 - private helper, every argument is needed
    prepared: _Prepared,
    patient: Patient,
    facts: PatientFacts,
    basis: WeightBasis | None,
    day0: dt.date | None,
    rules_fired: tuple[str, ...],
) -> tuple[Outcome, TitrationSchedule | None]:
    """The first-line choice: the schedules tried in order, the rest from ``prepared``."""
    knowledge = prepared.knowledge
    inputs: PatientInputs | None = None
    schedule: TitrationSchedule | None = None
    choices: list[DrugChoice] = []
    for entry in prepared.first_line:
        if entry.fixed is not None:
            choices.append(entry.fixed)
        elif schedule is not None:
            choices.append(entry.after)
        elif entry.before is not None:
            choices.append(entry.before)
        else:
            drug = entry.drug
            if inputs is None:
                # Only a plan that tries a schedule needs them.
                inputs = _inputs(patient, basis, facts, knowledge)
            try:
                schedule = schedule_for(inputs, drug, prepared.screened[drug], day0=day0)
            except ContraindicatedError as exc:
                # No dose the strengths make within the cap (the renal function decides).
                choices.append(_contraindicated(exc.alerts, drug))
                continue
            choices.append(_chosen(knowledge, drug, schedule.alerts))
    choices.extend(prepared.second_line)
    adjusted = () if schedule is None else tuple(a.rule_id for a in schedule.adjustments)
    key = (id(prepared), *map(id, choices), adjusted, rules_fired)
    found = _OUTCOMES.entries.get(key)
    if found is None or found.prepared is not prepared:
        found = _OUTCOMES.put(key, _outcome(prepared, tuple(choices), schedule, rules_fired))
    return found, schedule
