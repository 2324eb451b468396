"""Diagnosis: the triad of cluneal neuralgia, red flags and a classification.

What the clinician has found so far is a :class:`Findings`; :func:`assess_diagnosis`
judges the three criteria (pain pattern, tender point, block response; the
package's decision ``decision_diagnostic_classification``), looks for red flags
that point elsewhere, names the nerve branch or branches involved and says what
moves the diagnosis forward.

``None`` always means *not examined yet*, which is different from examined and
negative: ``tender_points=None`` is unknown, ``tender_points=()`` means the
landmarks were palpated and nothing was found. The criteria, landmarks, red
flags and classification rules are data in ``knowledge/diagnosis.toml``.

Example:
    >>> from cluneal.diagnosis import Findings, assess_diagnosis
    >>> findings = Findings.model_validate({
    ...     "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
    ...     "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
    ... })
    >>> a = assess_diagnosis(findings)
    >>> a.classification, sorted(a.branches)
    (<DiagnosticClass.PROBABLE: 'probable'>, [<NerveBranch.SUPERIOR: 'superior'>])
    >>> a.next_action.startswith("Perform an image-guided diagnostic block")
    True
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import (
    Field,
    TypeAdapter,
    model_validator,
)

from cluneal._base import FrozenModel, trusted
from cluneal._checks import knowledge_argument, number
from cluneal._protocol_rules import refuse_looser
from cluneal._triad import (
    Notebook,
    branch_phrase,
    judge_block,
    judge_pain,
    judge_red_flags,
    judge_tender_points,
    pain_reason,
)
from cluneal.errors import (
    InvalidArgumentError,
    InvalidQuantityError,
)
from cluneal.findings import BlockResult, Findings, NeuroExam, PainPattern, TenderPoint
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.base import knowledge_base, resolved
from cluneal.knowledge.criteria import Facts, matches
from cluneal.knowledge.diagnosis import (
    BlockThresholdStudy,
    ClassRule,
    CriterionRule,
    DiagnosisTable,
    Landmark,
)
from cluneal.vocabulary import (
    BranchSet,
    CriterionId,
    DiagnosticClass,
    Guidance,
    NerveBranch,
    RedFlagKind,
    Side,
    TenderPointSite,
)
from cluneal.vocabulary import Flag as Flag  # noqa: PLC0414 (old import path, kept)
from cluneal.vocabulary import ReliefPercent as ReliefPercent  # noqa: PLC0414 (old import path, kept)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.knowledge.base import KnowledgeBase

__all__ = [
    "BlockResult",
    "BlockThresholdStudy",
    "Criterion",
    "CriterionId",
    "DiagnosticAssessment",
    "DiagnosticClass",
    "Findings",
    "Guidance",
    "Landmark",
    "NerveBranch",
    "NeuroExam",
    "PainPattern",
    "RedFlag",
    "RedFlagKind",
    "Side",
    "TenderPoint",
    "TenderPointSite",
    "assess_diagnosis",
    "criterion_definitions",
    "landmark",
    "literature_block_thresholds",
]

_BRANCH_ADAPTER: Final = TypeAdapter(NerveBranch)
_CRITERION_ADAPTER: Final = TypeAdapter(CriterionId)


def _tables(knowledge: KnowledgeBase | None) -> DiagnosisTable:
    return resolved(knowledge).diagnosis


def __getattr__(name: str) -> object:
    # Deprecated module constant: the threshold is the knowledge base's, per call.
    if name == "DEFAULT_BLOCK_THRESHOLD_PERCENT":
        warnings.warn(
            "cluneal.diagnosis.DEFAULT_BLOCK_THRESHOLD_PERCENT is deprecated; read "
            "knowledge_base().diagnosis.default_block_threshold_percent",
            DeprecationWarning,
            stacklevel=2,
        )
        return knowledge_base().diagnosis.default_block_threshold_percent
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def landmark(branch: NerveBranch | str, *, knowledge: KnowledgeBase | None = None) -> Landmark:
    """Return where a branch's tender point is palpated.

    Args:
        branch: A :class:`NerveBranch` or its value.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The landmark.

    Raises:
        ValidationError: ``branch`` is not a nerve branch.

    References:
        kuniya_2014, isu_2018, isu_mcn_criteria, konno_2017

    Example:
        >>> m = landmark("middle")
        >>> m.caudal_to_psis_mm, m.caudal_to_psis_max_mm
        (35.0, 40.0)
    """
    wanted = _BRANCH_ADAPTER.validate_python(branch)
    return next(m for m in _tables(knowledge).landmark if m.branch is wanted)


def literature_block_thresholds(
    *, knowledge: KnowledgeBase | None = None
) -> tuple[BlockThresholdStudy, ...]:
    """Return the block-positive thresholds used in the literature.

    Args:
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        One entry per published series, from the knowledge base.

    References:
        kuniya_2014, kiral_2024, gautam_2022, maigne_1997

    Example:
        >>> literature_block_thresholds()[1].study
        'Kiral 2024'
    """
    return _tables(knowledge).block_threshold


class Criterion(FrozenModel):
    """One criterion of the triad, judged on the findings.

    Attributes:
        id: Which criterion.
        number: 1, 2 or 3.
        name: Its name.
        definition: What it requires.
        met: ``True`` met, ``False`` examined and not met, ``None`` unknown.
        reason: Why, in terms of the findings.
        rule_id: The knowledge-base rule.
        citations: Citation ids.

    Example:
        >>> a = assess_diagnosis(Findings())
        >>> [(c.number, c.met) for c in a.criteria]
        [(1, None), (2, None), (3, None)]
    """

    id: CriterionId
    number: Annotated[int, Field(ge=1, le=3)]
    name: str
    definition: str
    met: bool | None
    reason: str
    rule_id: str
    citations: tuple[str, ...]


class RedFlag(FrozenModel):
    """A finding that points away from cluneal neuralgia.

    Attributes:
        kind: Which finding.
        name: Its name.
        points_to: What it suggests instead (radiculopathy, cauda equina syndrome).
        urgent: Whether it needs same-day assessment (bladder or bowel dysfunction).
        action: What to do about it.
        rule_id: The knowledge-base rule.
        citations: Citation ids.

    Example:
        >>> a = assess_diagnosis(Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True)))
        >>> a.red_flags[0].urgent, a.red_flags[0].points_to
        (True, 'cauda equina syndrome (a surgical emergency)')
    """

    kind: RedFlagKind
    name: str
    points_to: str
    urgent: bool
    action: str
    rule_id: str
    citations: tuple[str, ...]


class DiagnosticAssessment(FrozenModel):
    """The result of :func:`assess_diagnosis`.

    Attributes:
        criteria: The three criteria, in order.
        classification: Confirmed, probable, possible or unlikely.
        classification_rule: The text of the classification rule that applied.
        branches: The branch or branches implicated (may be empty).
        red_flags: Findings that point elsewhere (empty when none).
        next_action: What moves the diagnosis forward, in words.
        pertinent_positives: Findings present that matter.
        pertinent_negatives: Findings examined and absent that matter.
        rules_fired: The knowledge-base rules applied, in order.
        citations: Their citation ids, without repeats.
        block_threshold: The block-positive threshold used, in percent.
        knowledge_base_version: The knowledge base that produced the result.
        protocol_sha256: The sha256 of the local protocol's content, or ``None``.

    Example:
        >>> a = assess_diagnosis(Findings(tender_points=()))
        >>> a.classification.value, a.criteria[1].met
        ('unlikely', False)
    """

    criteria: tuple[Criterion, Criterion, Criterion]
    classification: DiagnosticClass
    classification_rule: str
    branches: BranchSet
    red_flags: tuple[RedFlag, ...]
    next_action: str
    pertinent_positives: tuple[str, ...]
    pertinent_negatives: tuple[str, ...]
    rules_fired: tuple[str, ...]
    citations: tuple[str, ...]
    block_threshold: Annotated[float, Field(gt=0.0, le=100.0)]
    knowledge_base_version: str
    protocol_sha256: str | None = None

    @property
    def is_urgent(self) -> bool:
        """Whether any red flag needs same-day assessment."""
        return any(flag.urgent for flag in self.red_flags)

    def criterion(self, criterion_id: CriterionId | str) -> Criterion:
        """Return one criterion by id.

        Args:
            criterion_id: A :class:`CriterionId` or its value.

        Returns:
            The criterion.

        Raises:
            ValidationError: Not a criterion id.

        Example:
            >>> assess_diagnosis(Findings()).criterion("block_response").number
            3
        """
        wanted = _CRITERION_ADAPTER.validate_python(criterion_id)
        return next(c for c in self.criteria if c.id is wanted)

    @model_validator(mode="after")
    def _criteria_in_order(self) -> DiagnosticAssessment:
        if tuple(c.id for c in self.criteria) != tuple(CriterionId):
            msg = "criteria: expected pain_pattern, tender_point, block_response in order"
            raise ValueError(msg)
        return self


def criterion_definitions(
    *, knowledge: KnowledgeBase | None = None
) -> tuple[tuple[int, str, str], ...]:
    """Return the three criteria as (number, name, definition).

    Args:
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The definitions of decision_diagnostic_classification, from the knowledge base.

    References:
        kuniya_2014, isu_2018, isu_mcn_criteria

    Example:
        >>> [name for _, name, _ in criterion_definitions()]
        ['Pain pattern', 'Tender point', 'Block response']
    """
    table = _tables(knowledge)
    return tuple((c.number, c.name, table.definition_of(c)) for c in table.criterion)


# --- The assessment ---------------------------------------------------------------


def _check_threshold(value: object) -> float:
    try:
        return number(value, "block_threshold", minimum=0.0, maximum=100.0, minimum_inclusive=False)
    except InvalidArgumentError:
        expected = "a relief percentage greater than 0 and at most 100, e.g. 50"
        raise InvalidQuantityError("block_threshold", value, expected) from None


def block_threshold_for(block_threshold: object, knowledge: KnowledgeBase | None) -> float:
    """The block threshold a call applies, checked (the argument, or the knowledge base's).

    Args:
        block_threshold: The caller's argument (``None``: the knowledge base's default).
        knowledge: The knowledge base applied (``None``: the built-in one).

    Returns:
        The threshold in percent.

    Raises:
        InvalidQuantityError: Not a number in (0, 100].
        LocalProtocolError: Below the threshold of the local protocol of ``knowledge``.
    """
    default = _tables(knowledge).default_block_threshold_percent
    threshold = _check_threshold(default if block_threshold is None else block_threshold)
    refuse_looser(knowledge, "block_threshold", block_threshold, threshold, default, "%")
    return threshold


def _criterion(
    rule: CriterionRule, table: DiagnosisTable, *, met: bool | None, reason: str
) -> Criterion:
    # Every value is the knowledge base's (validated at load) or a judge's bool and text.
    return trusted(
        Criterion,
        id=rule.id,
        number=rule.number,
        name=rule.name,
        definition=table.definition_of(rule),
        met=met,
        reason=reason,
        rule_id=rule.rule_id,
        citations=rule.citations,
    )


def _classify(
    table: DiagnosisTable, met: tuple[bool | None, bool | None, bool | None], *, red_flag: bool
) -> ClassRule:
    """The first classification rule of the table whose criteria hold for the triad."""
    holding = {
        "triad_failed": False in met,
        "triad_met": met == (True, True, True),
        "pain_and_tender_met": met[:2] == (True, True),
        "block_done": met[2] is not None,
        "red_flag": red_flag,
    }
    facts = Facts(frozenset(name for name, holds in holding.items() if holds))
    # The loader requires a last rule without criteria, so one always applies.
    return next(rule for rule in table.classification if matches(rule.when, facts))


def assess_diagnosis(
    findings: Findings | Mapping[str, Any],
    block_threshold: float | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
) -> DiagnosticAssessment:
    """Judge the diagnostic triad and classify how likely cluneal neuralgia is.

    The rules are those of the package's decision ``decision_diagnostic_classification``:

    * criterion 1 is met by low back pain that is deep, aching or poorly
      localised (buttock and leg symptoms support it, but are not required);
    * criterion 2 is met by a tender point on the posterior iliac crest (superior
      branch) or caudal to the PSIS (middle branch) whose pressure reproduces the
      pain; a tender point elsewhere, or none reproducing the pain, is not enough;
    * criterion 3 is met when the block's relief is at least ``block_threshold``.

    Classification: *confirmed* when all three are met and there is no red flag;
    *probable* when criteria 1 and 2 are met and the block is not yet done, or
    all three are met with a red flag; *unlikely* when any criterion failed;
    *possible* otherwise (including nothing known yet).

    Branches: a tender point that reproduces the pain implicates its branch, and
    so does a positive block. A negative block implicates nothing. A block whose
    branches differ from the tender point's is judged on its relief alone; the
    mismatch is reported in the criterion's reason and in ``rules_fired``.

    A neurological examination that is missing or incomplete does not stop a
    confirmation (red flags are findings, and none was found), but the next
    action then asks for it to be completed.

    Args:
        findings: The findings, as a :class:`Findings` or a mapping that
            validates as one.
        block_threshold: Relief in percent from which a block counts as
            positive, greater than 0 and at most 100; ``None`` for the knowledge
            base's default (50; Kiral 2024 used 70).
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`. The assessment reports its version.

    Returns:
        The assessment.

    Raises:
        InvalidQuantityError: ``block_threshold`` is not a number in (0, 100].
        LocalProtocolError: ``block_threshold`` is below the threshold of the local
            protocol of ``knowledge``.
        ValidationError: ``findings`` is a mapping that is not valid findings.

    References:
        kuniya_2014, isu_2018, isu_mcn_criteria, konno_2017, kiral_2024, gautam_2022

    Example:
        >>> f = Findings(
        ...     pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
        ...     tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
        ...     block=BlockResult(branches={"superior"}, relief_percent=60),
        ... )
        >>> assess_diagnosis(f).classification.value
        'confirmed'
        >>> assess_diagnosis(f, block_threshold=70).classification.value
        'unlikely'
    """
    knowledge = knowledge_argument(knowledge)
    table = _tables(knowledge)
    threshold = block_threshold_for(block_threshold, knowledge)
    found = findings if isinstance(findings, Findings) else Findings.model_validate(findings)
    book = Notebook()
    pain_rule, point_rule, block_rule = table.criterion

    pain_met = judge_pain(found.pain, table.reasons, book)
    point_met, point_reason, point_branches = judge_tender_points(found.tender_points, table, book)
    block_met, block_reason = judge_block(found.block, threshold, block_rule, table.reasons, book)
    for rule in table.criterion:
        book.fire(rule.rule_id, rule.citations)

    branches = set(point_branches)
    if found.block is not None and block_met:
        branches |= found.block.branches
    for mark in table.landmark:
        if mark.branch in branches:
            book.fire(mark.rule_id, mark.citations)

    notes = table.notes
    if found.block is not None and point_branches and not (found.block.branches & point_branches):
        block_reason += ". " + notes.branch_mismatch.format(
            blocked=branch_phrase(found.block.branches), tender=branch_phrase(point_branches)
        )
        book.fire(notes.branch_mismatch_rule_id, notes.branch_mismatch_citations)

    flag_rules, unexamined = judge_red_flags(found.neuro, table, book)
    red_flags = tuple(
        trusted(
            RedFlag,
            kind=rule.id,
            name=rule.name,
            points_to=rule.points_to,
            urgent=rule.urgent,
            action=rule.action,
            rule_id=rule.rule_id,
            citations=rule.citations,
        )
        for rule in flag_rules
    )
    met = (pain_met, point_met, block_met)
    class_rule = _classify(table, met, red_flag=bool(red_flags))
    book.fire(class_rule.rule_id, class_rule.citations)

    criteria = (
        _criterion(
            pain_rule,
            table,
            met=pain_met,
            reason=pain_reason(found.pain, met=pain_met, rule=pain_rule, words=table.reasons),
        ),
        _criterion(point_rule, table, met=point_met, reason=point_reason),
        _criterion(block_rule, table, met=block_met, reason=block_reason),
    )

    # The class's own action, framed by any urgent flag first and the other
    # flags, a missed branch and an incomplete examination after it.
    actions = [flag.action for flag in red_flags if flag.urgent]
    actions.append(
        class_rule.action.format(
            failed="not met: " + ", ".join(c.name.lower() for c in criteria if c.met is False),
            branches=branch_phrase(branches),
            threshold=f"{threshold:g}",
            red_flags=", ".join(flag.name.lower() for flag in red_flags),
            unknown="; and ".join(
                rule.examine_text or rule.unknown_text
                for rule, is_met in zip(table.criterion[:2], met[:2], strict=True)
                if is_met is None
            ),
        )
    )
    actions.extend(flag.action for flag in red_flags if not flag.urgent)
    if found.block is not None and block_met is False:
        unblocked = point_branches - found.block.branches
        if unblocked:
            actions.append(notes.block_other_branch.format(branches=branch_phrase(unblocked)))
    if (
        class_rule.id == "confirmed"
        and found.block is not None
        and found.block.relief_duration is None
    ):
        actions.append(notes.relief_duration_unknown)
    if unexamined:
        actions.append(notes.neuro_incomplete.format(missing=", ".join(unexamined)))

    # Built from validated values: the criteria follow the table's order, which the
    # loader checks (the model's own check, for values from outside, is not rerun).
    return trusted(
        DiagnosticAssessment,
        criteria=criteria,
        classification=class_rule.classification,
        classification_rule=class_rule.text,
        branches=frozenset(branches),
        red_flags=red_flags,
        next_action=" ".join(actions),
        pertinent_positives=tuple(book.positives),
        pertinent_negatives=tuple(book.negatives),
        rules_fired=tuple(book.rules),
        citations=tuple(dict.fromkeys(book.citations)),
        block_threshold=threshold,
        knowledge_base_version=KNOWLEDGE_BASE_VERSION if knowledge is None else knowledge.version,
        protocol_sha256=None if knowledge is None else knowledge.protocol_sha256,
    )
