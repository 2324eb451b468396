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

from typing import TYPE_CHECKING, Any

from cluneal._base import FrozenModel, coerce_model, trusted
from cluneal._checks import calendar_date
from cluneal._first_line import (
    ChoiceStatus,
    DrugChoice,
    ScreeningStatus,
    assessment_atoms,
    choose,
    prepare_for,
)
from cluneal._plan_json import plan_json
from cluneal._renal_weight import parse_weight_basis
from cluneal.alerts import SafetyAlert
from cluneal.complementary import ComplementaryMeasure
from cluneal.diagnosis import DiagnosticAssessment, Findings
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.base import resolved
from cluneal.knowledge.criteria import facts_for
from cluneal.pathway import CareHistory, Recommendation, next_step, no_history
from cluneal.patient import Patient
from cluneal.titration import TitrationSchedule

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase
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

    def model_dump_json(self, **kwargs: Any) -> str:
        """The plan's JSON: pydantic's ``model_dump_json``, byte for byte.

        Called without arguments, it serialises once the parts a plan shares
        with other plans (its assessment, the recommendation's words, the
        choices, complementary care, alerts and trace: memoised values that
        hold no mutable quantity) and reuses them; the patient's own parts
        are serialised every time.

        Args:
            **kwargs: pydantic's ``model_dump_json`` arguments.

        Returns:
            The JSON text.
        """
        if kwargs:
            return super().model_dump_json(**kwargs)
        return plan_json(self)


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
        no_history() if history is None else history, CareHistory, "history"
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
    # The patient's facts once, for every rule of the plan: screening, choice and
    # schedules alike (the renal assessment once too, when a schedule is tried).
    patient_facts = facts_for(person, kb)
    prepared = prepare_for(patient_facts, assessment_atoms(assessment), person, kb)
    outcome, schedule = choose(
        prepared, person, patient_facts, basis, day0, recommendation.rules_fired
    )
    # Every part is a validated model or a value built from one: no revalidation.
    return trusted(
        CarePlan,
        patient=person,
        findings=found,
        history=past,
        assessment=assessment,
        recommendation=recommendation,
        medications=() if schedule is None else (schedule,),
        medication_rationale=outcome.rationale,
        drug_choices=outcome.choices,
        complementary=prepared.measures,
        alerts=outcome.alerts,
        trace=outcome.trace,
        knowledge_base_version=recommendation.knowledge_base_version,
        protocol_sha256=recommendation.protocol_sha256,
        safety_statement=SAFETY_STATEMENT,
    )
