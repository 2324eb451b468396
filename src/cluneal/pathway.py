"""The treatment pathway: where a patient is, and the next step (decision_pathway_next_step).

The algorithm is data (``knowledge/pathway.toml``): each transition has a rule
id, the condition that fires it, the step it leads to, the alternatives, the
rationale, citations and an evidence level. :func:`next_step` only decides
which transition fires. No guideline-level algorithm exists for cluneal
neuralgia: the block, radiofrequency ablation, stimulation and surgery ladder
is expert opinion built on case series, and every recommendation says so.

Example:
    >>> from cluneal.diagnosis import BlockResult, Findings, PainPattern, TenderPoint
    >>> findings = Findings(
    ...     pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    ...     tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
    ...     block=BlockResult(branches={"superior"}, relief_percent=80, relief_duration="2 weeks"),
    ... )
    >>> next_step(findings).step
    <PathwayStep.RADIOFREQUENCY_ABLATION: 'radiofrequency_ablation'>
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import Field

from cluneal._base import FrozenModel, coerce_model, trusted, trusted_update
from cluneal._checks import knowledge_argument
from cluneal._memo import BoundedMemo
from cluneal._pathway_keys import findings_key, history_key
from cluneal._protocol_rules import refuse_looser
from cluneal.diagnosis import DiagnosticAssessment, assess_diagnosis, block_threshold_for
from cluneal.errors import InvalidQuantityError
from cluneal.evidence import EvidenceLevel
from cluneal.findings import Findings
from cluneal.history import CareHistory, InterventionOutcome
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.base import resolved
from cluneal.knowledge.criteria import Facts, matches
from cluneal.knowledge.pathway import Modifier, PathwayTable, Transition
from cluneal.units import Duration, Kind, Quantity, magnitude_in, parse_quantity, quantity_in
from cluneal.vocabulary import (
    BranchSet,
    Intervention,
    NerveBranch,
    OutcomeClass,
    PathwayStep,
    TenderPointSite,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.diagnosis import DiagnosisTable

__all__ = [
    "Alternative",
    "CareHistory",
    "InterventionOutcome",
    "OutcomeClass",
    "PathwayStep",
    "Recommendation",
    "Transition",
    "classify_outcome",
    "next_step",
    "pathway_transitions",
]

_DAYS_PER_WEEK: Final = 7.0


class Alternative(FrozenModel):
    """An alternative to the recommended step, with why and when it fits.

    Attributes:
        step: The pathway step.
        description: What it means here (e.g. "repeat blocks, up to 3 in all").
        citations: Citation ids.
    """

    step: PathwayStep
    description: str
    citations: tuple[str, ...] = ()


def pathway_transitions(*, knowledge: KnowledgeBase | None = None) -> tuple[Transition, ...]:
    """Return every transition of the pathway, as data.

    Args:
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The transitions in the order of the knowledge base.

    Example:
        >>> [t.rule_id for t in pathway_transitions()][:2]
        ['pathway.urgent_red_flag', 'pathway.red_flag']
    """
    return _tables(knowledge_argument(knowledge)).transitions


def _tables(knowledge: KnowledgeBase | None) -> PathwayTable:
    return resolved(knowledge).pathway


def _diagnosis_tables(knowledge: KnowledgeBase | None) -> DiagnosisTable:
    return resolved(knowledge).diagnosis


class Recommendation(FrozenModel):
    """The next step of the pathway, with everything that explains it.

    Attributes:
        step: The recommended step.
        rationale: Why, in sentences a clinician can read and check.
        alternatives: Other reasonable steps (API.md: a tuple of :class:`PathwayStep`).
        alternative_options: The same alternatives with what each means here.
        citations: Citation ids behind the recommendation.
        rules_fired: The knowledge-base rules applied, in order.
        transition: The rule id of the transition that chose the step.
        evidence_level: The evidence behind the step.
        evidence_note: The standing caveat: the ladder is expert opinion built on case series.
        urgent: Whether the step is urgent (bladder or bowel dysfunction).
        follow_up: Whether the step is to follow up and learn more before moving on.
        target_branches: The nerve branch or branches the step concerns.
        assessment: The diagnostic assessment the step rests on.
        lasting_relief: The lasting-relief threshold used.
        block_threshold: The block/response threshold used, in percent.
        knowledge_base_version: The knowledge base that produced it.
        protocol_sha256: The sha256 of the local protocol's content, or ``None``.
    """

    step: PathwayStep
    rationale: str
    alternatives: tuple[PathwayStep, ...]
    alternative_options: tuple[Alternative, ...] = ()
    citations: tuple[str, ...]
    rules_fired: tuple[str, ...]
    transition: str
    evidence_level: EvidenceLevel
    evidence_note: str
    urgent: bool = False
    follow_up: bool = False
    target_branches: BranchSet = frozenset()
    assessment: DiagnosticAssessment
    lasting_relief: Duration
    block_threshold: Annotated[float, Field(gt=0.0, le=100.0)]
    knowledge_base_version: str = KNOWLEDGE_BASE_VERSION
    protocol_sha256: str | None = None


def classify_outcome(
    relief_percent: float,
    relief_duration: Quantity | None,
    *,
    threshold_percent: float | None = None,
    lasting_relief: Quantity | str | Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> OutcomeClass:
    """Classify a treatment's result as lasting, temporary, failed or not yet known.

    Args:
        relief_percent: Relief in percent.
        relief_duration: How long it lasted, or ``None``.
        threshold_percent: Relief at or above this is a response;
            ``None`` for the knowledge base's default (``default_block_threshold_percent`` of
            ``diagnosis.toml``, applied by rule ``dx.criterion.block_response``).
        lasting_relief: Relief lasting at least this long is lasting;
            ``None`` for the knowledge base's default (``lasting_relief_weeks`` of ``pathway.toml``,
            applied by rules ``pathway.block_lasting`` and ``pathway.block_temporary``).
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The class.

    Raises:
        InvalidQuantityError: ``lasting_relief`` is not a positive duration.
        LocalProtocolError: ``threshold_percent`` or ``lasting_relief`` is below
            the value of the local protocol of ``knowledge``.

    Example:
        >>> from cluneal import Q_
        >>> classify_outcome(80, Q_(2, "week")).value
        'temporary'
        >>> classify_outcome(80, Q_(12, "week")).value
        'lasting'
    """
    knowledge = knowledge_argument(knowledge)
    table = _tables(knowledge)
    diagnosis = _diagnosis_tables(knowledge)
    threshold = (
        diagnosis.default_block_threshold_percent
        if threshold_percent is None
        else threshold_percent
    )
    refuse_looser(
        knowledge,
        "threshold_percent",
        threshold_percent,
        threshold,
        diagnosis.default_block_threshold_percent,
        "%",
    )
    return _outcome_class(
        relief_percent, relief_duration, threshold, _lasting_days(lasting_relief, table, knowledge)
    )


def _outcome_class(
    relief: float, duration: Quantity | None, threshold: float, lasting_days: float
) -> OutcomeClass:
    if relief < threshold:
        return OutcomeClass.FAILED
    if duration is None:
        return OutcomeClass.DURATION_UNKNOWN
    days = magnitude_in(duration, Kind.DURATION)
    return OutcomeClass.LASTING if days >= lasting_days else OutcomeClass.TEMPORARY


def _lasting_days(value: object, table: PathwayTable, knowledge: KnowledgeBase | None) -> float:
    if value is None:
        return table.parameters.lasting_relief_weeks * _DAYS_PER_WEEK
    quantity = parse_quantity(value, "lasting_relief", Kind.DURATION)
    days = magnitude_in(quantity, Kind.DURATION)
    if days <= 0:
        raise InvalidQuantityError("lasting_relief", value, "a positive duration, e.g. '12 weeks'")
    weeks = table.parameters.lasting_relief_weeks
    refuse_looser(knowledge, "lasting_relief", value, days / _DAYS_PER_WEEK, weeks, " weeks")
    return days


def _describe(relief: float, duration: Quantity | None, outcome: OutcomeClass) -> str:
    if outcome is OutcomeClass.FAILED:
        return f"{relief:g}% relief, below the response threshold (failed)"
    if duration is None:
        return f"{relief:g}% relief, duration not yet known"
    weeks = magnitude_in(duration, Kind.DURATION) / _DAYS_PER_WEEK
    unit = "week" if weeks == 1 else "weeks"
    return f"{relief:g}% relief for {weeks:.3g} {unit} ({outcome.value})"


class _Context:
    """What the pathway's rules read for one call (every part already validated)."""

    __slots__ = (
        "assessment",
        "branch_sites",
        "findings",
        "history",
        "lasting_days",
        "table",
        "threshold",
    )

    def __init__(
        self,
        *,
        findings: Findings,
        history: CareHistory,
        assessment: DiagnosticAssessment,
        threshold: float,
        lasting_days: float,
        table: PathwayTable,
        branch_sites: tuple[tuple[NerveBranch, TenderPointSite], ...],
    ) -> None:
        self.findings = findings
        self.history = history
        self.assessment = assessment
        self.threshold = threshold
        self.lasting_days = lasting_days
        self.table = table
        # Where each branch's tender point is palpated (diagnosis.toml's landmarks).
        self.branch_sites = branch_sites


def _classify(ctx: _Context, relief: float, duration: Quantity | None) -> OutcomeClass:
    return _outcome_class(relief, duration, ctx.threshold, ctx.lasting_days)


def _failed_steps(ctx: _Context) -> set[PathwayStep]:
    failed: set[PathwayStep] = set()
    for outcome in ctx.history.outcomes:
        step = ctx.table.routing.step_of(outcome.intervention)
        result = _classify(ctx, outcome.relief_percent, outcome.relief_duration)
        if step is not None and result in {OutcomeClass.FAILED, OutcomeClass.TEMPORARY}:
            failed.add(step)
    return failed


def _assessment_facts(ctx: _Context) -> Facts:
    """The facts of the findings that the entry routes ask about (one criteria language)."""
    a = ctx.assessment
    pain, tender, block = (c.met for c in a.criteria)
    holding = {
        "urgent_red_flag": a.is_urgent,
        "red_flag": bool(a.red_flags),
        "criterion_failed": pain is False or tender is False,
        "criterion_unknown": pain is None or tender is None,
        "block_done": ctx.findings.block is not None,
        "block_positive": block is True,
    }
    return Facts(frozenset(name for name, holds in holding.items() if holds))


def _entry_transition(ctx: _Context) -> tuple[str, list[str]]:
    """Choose the transition from the findings alone (pathway.toml's ``[[routing.entry]]``)."""
    facts = _assessment_facts(ctx)
    for route in ctx.table.routing.entry:
        if matches(route.when, facts):
            notes: list[str] = []
            if route.history_note is not None and ctx.history.outcomes:
                notes.append(route.history_note.format(count=len(ctx.history.outcomes)))
            return route.transition, notes
    return "", []


def _treatment_transition(ctx: _Context) -> tuple[str, list[str]]:
    """Choose the transition after a positive block (steps 4-8 of Part 0.8)."""
    block = ctx.findings.block
    assert block is not None  # noqa: S101 - only called after a positive block
    first = _classify(ctx, block.relief_percent, block.relief_duration)
    notes = [f"Diagnostic block: {_describe(block.relief_percent, block.relief_duration, first)}."]
    if not ctx.history.outcomes:
        return getattr(ctx.table.routing.first_block, first.value), notes
    latest = ctx.history.outcomes[-1]
    result = _classify(ctx, latest.relief_percent, latest.relief_duration)
    notes.append(
        f"Latest treatment, {latest.intervention.value.replace('_', ' ')}: "
        f"{_describe(latest.relief_percent, latest.relief_duration, result)}."
    )
    if result is OutcomeClass.DURATION_UNKNOWN:
        return ctx.table.routing.duration_unknown, notes
    after: str = getattr(ctx.table.routing.after_for(latest.intervention), result.value)
    return after, notes


def _escalate(ctx: _Context, step: PathwayStep, failed: set[PathwayStep]) -> PathwayStep | None:
    """The first rung at or after ``step`` that has not failed; None when all have."""
    ladder = ctx.table.parameters.ladder
    if step not in ladder:
        return step
    for rung in ladder[ladder.index(step) :]:
        if rung not in failed:
            return rung
    return None


def _alternatives(
    ctx: _Context, transition: Transition, chosen: PathwayStep, failed: set[PathwayStep]
) -> tuple[Alternative, ...]:
    params = ctx.table.parameters
    blocks_given = 1 + sum(o.intervention is Intervention.NERVE_BLOCK for o in ctx.history.outcomes)
    others = _other_branch_candidates(ctx)
    holding = {"blocks_left": blocks_given < params.max_blocks, "other_branch_tender": bool(others)}
    facts = Facts(frozenset(name for name, holds in holding.items() if holds))
    branches = ", ".join(b.value for b in sorted(others))
    options: list[Alternative] = []
    for rule in transition.alternatives:
        if rule.step in failed or rule.step is chosen or not matches(rule.when, facts):
            continue
        detail = (
            ""
            if rule.detail is None
            else rule.detail.format(branches=branches, blocks_given=blocks_given)
        )
        options.append(
            trusted(
                Alternative,
                step=rule.step,
                description=rule.text + detail,
                citations=rule.citations,
            )
        )
    return tuple(options)


def _other_branch_candidates(ctx: _Context) -> frozenset[NerveBranch]:
    block = ctx.findings.block
    tender = ctx.findings.tender_points or ()
    if block is None:
        return frozenset()
    found = {
        branch
        for branch, site in ctx.branch_sites
        if any(t.site is site and t.reproduces_pain for t in tender)
    }
    return frozenset(found - set(block.branches))


def next_step(
    findings: Findings | Mapping[str, Any],
    history: CareHistory | Mapping[str, Any] | None = None,
    *,
    block_threshold: float | None = None,
    lasting_relief: Quantity | str | Mapping[str, Any] | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Recommendation:
    """Choose the next step of the treatment pathway (decision_pathway_next_step).

    Every combination of findings and history gives an answer, never an
    exception: incomplete findings lead to initial evaluation, red flags and
    failed criteria to reassessment, and the history's most recent outcome
    decides after a positive block. A treatment that failed before is not
    proposed again.

    Args:
        findings: What the clinician has found (a :class:`~cluneal.diagnosis.Findings`
            or its JSON mapping).
        history: Treatments after the diagnostic block, oldest first.
        block_threshold: Relief (percent) at or above which a block or a
            treatment counts as a response;
            ``None`` for the knowledge base's default (``default_block_threshold_percent`` of
            ``diagnosis.toml``, applied by rule ``dx.criterion.block_response``).
        lasting_relief: Relief lasting at least this long is lasting;
            ``None`` for the knowledge base's default (``lasting_relief_weeks`` of ``pathway.toml``,
            applied by rules ``pathway.block_lasting`` and ``pathway.block_temporary``).
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`. The recommendation reports its version.

    Returns:
        The recommendation with its rationale, alternatives and rules.

    Raises:
        ClunealError: Bad arguments (not findings, a bad threshold or duration).
        LocalProtocolError: ``block_threshold`` or ``lasting_relief`` is below the
            value of the local protocol of ``knowledge``.
        ValidationError: A mapping that is not valid findings or history.

    References:
        decision_pathway_next_step, isu_2018, kuniya_2014, scn_rfa_series,
        mas_dalessandro_2025, gill_2022

    Example:
        >>> from cluneal.diagnosis import Findings
        >>> rec = next_step(Findings())
        >>> rec.step.value, rec.evidence_level.value
        ('initial_evaluation', 'prospective_cohort')
    """
    knowledge = knowledge_argument(knowledge)
    found: Findings = coerce_model(findings, Findings, "findings")
    past: CareHistory = coerce_model(
        no_history() if history is None else history, CareHistory, "history"
    )
    table = _tables(knowledge)
    lasting_days = _lasting_days(lasting_relief, table, knowledge)
    if block_threshold is None:
        threshold = _default_threshold(resolved(knowledge))
    else:
        threshold = block_threshold_for(block_threshold, knowledge)
    # The quantity is built for each result: pint quantities can be changed in place.
    lasting = quantity_in(lasting_days / _DAYS_PER_WEEK, "wk")
    if knowledge is not None:
        decision = _decide(found, past, threshold, lasting_days, knowledge)
        return trusted(Recommendation, **decision, lasting_relief=lasting)
    # The built-in knowledge base: the decision is a pure function of the plain
    # values read from the findings and history (memoised, bounded). The memo
    # holds a result whose quantity no caller ever sees; each call copies it
    # with its own.
    key = (findings_key(found), history_key(past), threshold, lasting_days)
    decided = _DECIDED.entries.get(key)
    if decided is None:
        decision = _decide(found, past, threshold, lasting_days, None)
        own = quantity_in(lasting_days / _DAYS_PER_WEEK, "wk")
        decided = _DECIDED.put(key, trusted(Recommendation, **decision, lasting_relief=own))
    return trusted_update(decided, lasting_relief=lasting)


@lru_cache(maxsize=1)
def no_history() -> CareHistory:
    """The empty history (no treatment since the block), one frozen value for every call.

    Example:
        >>> no_history() == CareHistory() and no_history() is no_history()
        True
    """
    return CareHistory()


@lru_cache(maxsize=32)
def _default_threshold(knowledge: KnowledgeBase) -> float:
    """The knowledge base's block threshold, checked once per base."""
    return block_threshold_for(None, knowledge)


def _decide(
    found: Findings,
    past: CareHistory,
    threshold: float,
    lasting_days: float,
    knowledge: KnowledgeBase | None,
) -> dict[str, Any]:
    """Every field of the recommendation but its lasting-relief quantity."""
    table = _tables(knowledge)
    assessment = assess_diagnosis(found, block_threshold=threshold, knowledge=knowledge)
    landmarks = _diagnosis_tables(knowledge).landmark
    ctx = _Context(
        findings=found,
        history=past,
        assessment=assessment,
        threshold=assessment.block_threshold,
        lasting_days=lasting_days,
        table=table,
        branch_sites=tuple((m.branch, m.site) for m in landmarks),
    )
    rule_id, notes = _entry_transition(ctx)
    if not rule_id:
        rule_id, notes = _treatment_transition(ctx)
    transition = table.transition(rule_id)
    rules = [*assessment.rules_fired, transition.rule_id]
    failed = _failed_steps(ctx)
    # The modifiers' roles are data (pathway.toml: applies, adds); climbing the ladder is code.
    applied: list[Modifier] = []
    if transition.step in failed:
        rung = _escalate(ctx, transition.step, failed)
        for modifier in table.modifiers_for("failed_step"):
            applied.append(modifier)
            rules.append(modifier.rule_id)
            if "rationale" in modifier.adds:
                notes.append(modifier.text)
        # The transition that leads to the rung actually proposed explains it.
        transition = table.transition(
            table.routing.leads_to[rung] if rung is not None else table.routing.exhausted
        )
        rules.append(transition.rule_id)
    step = transition.step
    alternatives = _alternatives(ctx, transition, step, failed)
    always = table.modifiers_for("always")
    applied.extend(always)
    rules.extend(m.rule_id for m in always)
    rationale = " ".join(
        [*notes, transition.rationale, *(m.text for m in always if "rationale" in m.adds)]
    )
    branches = assessment.branches
    citations = tuple(
        dict.fromkeys(
            [
                *transition.citations,
                *(c for a in alternatives for c in a.citations),
                *(c for m in applied if "citations" in m.adds for c in m.citations),
            ]
        )
    )
    # Validated values (the knowledge base's transitions, the assessment, the
    # checked thresholds): the result is built without revalidating them.
    return {
        "step": step,
        "rationale": rationale,
        "alternatives": tuple(dict.fromkeys(a.step for a in alternatives)),
        "alternative_options": alternatives,
        "citations": citations,
        "rules_fired": tuple(dict.fromkeys(rules)),
        "transition": transition.rule_id,
        "evidence_level": transition.evidence_level,
        "evidence_note": " ".join(m.text for m in always if "evidence_note" in m.adds),
        "urgent": transition.urgent,
        "follow_up": transition.follow_up,
        "target_branches": branches,
        "assessment": assessment,
        "block_threshold": assessment.block_threshold,
        "knowledge_base_version": assessment.knowledge_base_version,
        "protocol_sha256": assessment.protocol_sha256,
    }


# next_step's memo for the built-in knowledge base: plain keys (never the findings
# or history objects), bounded (the oldest entry goes first when full).
_DECIDED: Final[BoundedMemo[tuple[Any, ...], Recommendation]] = BoundedMemo(4096)
