"""Loader for ``diagnosis.toml``: the triad, landmarks, red flags and classification.

The rules of :mod:`cluneal.diagnosis` read these tables from a knowledge base
(``knowledge.diagnosis``); this module validates them, checks that every
template uses only the placeholders the rules fill in and that every citation
resolves, and reads the built-in file once.

Example:
    >>> from cluneal.knowledge.diagnosis import diagnosis_table
    >>> [m.branch.value for m in diagnosis_table().landmark]
    ['superior', 'middle']
"""

import string
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Final, Literal

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.errors import ClunealError, KnowledgeBaseError
from cluneal.evidence import citation
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.vocabulary import (
    CriterionId,
    DiagnosticClass,
    Guidance,
    NerveBranch,
    RedFlagKind,
    TenderPointSite,
)

__all__ = [
    "BlockThresholdStudy",
    "ClassRule",
    "ClassRuleId",
    "CriterionRule",
    "DiagnosisNotes",
    "DiagnosisReasons",
    "DiagnosisTable",
    "Landmark",
    "RedFlagRule",
    "diagnosis_table",
    "parse_diagnosis_table",
]

_KNOWLEDGE_FILE: Final = "diagnosis.toml"


class CriterionRule(FrozenModel):
    """One criterion of the triad as the knowledge base states it (``[[criterion]]``)."""

    id: CriterionId
    number: Annotated[int, Field(ge=1, le=3)]
    name: str
    definition: str
    rule_id: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]
    unknown_text: str
    examine_text: str | None = None


class Landmark(FrozenModel):
    """Where a branch's tender point is palpated (Kuniya 2014, Isu 2018, Konno 2017).

    Distances are plain floats in millimetres (the unit is in the name): they are
    reference figures for people, never inputs to a calculation (the criteria's and
    landmarks' texts name them: ``{superior_from_midline_mm:g}``).

    Attributes:
        branch: The branch.
        site: The matching :class:`TenderPointSite`.
        nerve: The nerve in words.
        location: Where to palpate, in words.
        site_text: A short phrase for the site, used in reports.
        from_midline_mm: Distance from the midline, when the landmark is defined by it.
        caudal_to_psis_mm: Typical distance caudal to the PSIS.
        caudal_to_psis_max_mm: Largest distance caudal to the PSIS that still counts.
        anatomy: The anatomical figures behind the landmark.
        rule_id: The rule that maps this site to this branch.
        citations: Citation ids.

    Example:
        >>> diagnosis_table().landmark[0].from_midline_mm
        70.0
    """

    branch: NerveBranch
    site: TenderPointSite
    nerve: str
    location: str
    site_text: str
    from_midline_mm: float | None = None
    caudal_to_psis_mm: float | None = None
    caudal_to_psis_max_mm: float | None = None
    anatomy: str
    rule_id: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]


class BlockThresholdStudy(FrozenModel):
    """A block-positive threshold used in the literature (one published series).

    Attributes:
        study: The study.
        threshold: Its definition of a positive block, in words.
        relief_percent: The relief percentage, when the study gives one.
        guidance: How its blocks were guided, when known.
        citation: Citation id.

    Example:
        >>> [s.relief_percent for s in diagnosis_table().block_threshold]
        [50.0, 70.0, 50.0, None]
    """

    study: str
    threshold: str
    relief_percent: float | None = None
    guidance: Guidance | None = None
    citation: str


class RedFlagRule(FrozenModel):
    """A finding that points away from cluneal neuralgia (``[[red_flag]]``)."""

    id: RedFlagKind
    exam: str
    name: str
    points_to: str
    urgent: bool
    absent_text: str
    action: str
    rule_id: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]


ClassRuleId = Literal[
    "unlikely", "confirmed", "probable_red_flag", "probable_block_pending", "possible"
]
"""The classification rules, by id."""


class ClassRule(FrozenModel):
    """A classification rule: its class, wording and next action (``[[classification]]``).

    ``when`` names the facts of the assessment that must hold (none: always); the
    first rule in the file whose ``when`` holds applies.
    """

    id: ClassRuleId
    classification: DiagnosticClass
    when: Criteria = Criteria()
    rule_id: str
    text: str
    action: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]


class DiagnosisNotes(FrozenModel):
    """The notes an assessment may add to its next action (``[notes]``)."""

    block_other_branch: str
    branch_mismatch: str
    branch_mismatch_rule_id: str
    branch_mismatch_citations: Annotated[tuple[str, ...], Field(min_length=1)]
    neuro_incomplete: str
    relief_duration_unknown: str


class DiagnosisReasons(FrozenModel):
    """The words of an assessment's reasons and pertinent findings, by id (``[reasons]``).

    Templates: the loader checks each names only the values the judges fill in.
    """

    pain_low_back: str
    pain_no_low_back: str
    pain_character: str
    pain_no_character: str
    pain_buttock: str
    pain_leg: str
    pain_met: str
    pain_support: str
    pain_support_buttock: str
    pain_support_leg: str
    pain_not_met: str
    pain_missing_low_back: str
    pain_missing_character: str
    tender_none: str
    tender_none_reason: str
    tender_not_landmark: str
    tender_reproducing_nerve: str
    tender_reproducing: str
    tender_not_reproducing: str
    tender_not_met: str
    block_what: str
    block_lasting: str
    block_met: str
    block_met_reason: str
    block_not_met: str
    red_flag_present: str


class DiagnosisTable(FrozenModel):
    """The whole of ``diagnosis.toml``, validated and cross-checked.

    Example:
        >>> table = diagnosis_table()
        >>> table.default_block_threshold_percent, table.class_rule("confirmed").classification
        (50.0, <DiagnosticClass.CONFIRMED: 'confirmed'>)
    """

    default_block_threshold_percent: float
    criterion: tuple[CriterionRule, CriterionRule, CriterionRule]
    landmark: tuple[Landmark, ...]
    block_threshold: tuple[BlockThresholdStudy, ...]
    red_flag: tuple[RedFlagRule, ...]
    classification: tuple[ClassRule, ...]
    notes: DiagnosisNotes
    reasons: DiagnosisReasons

    def definition_of(self, rule: CriterionRule) -> str:
        """A criterion's definition with this table's default block threshold filled in.

        Rendered when read, so a local protocol's threshold
        (:meth:`~cluneal.KnowledgeBase.with_protocol`) is the one it names.

        Example:
            >>> table = diagnosis_table()
            >>> default = f"(default {table.default_block_threshold_percent:g}%)"
            >>> default in table.definition_of(table.criterion[2])
            True
            >>> "{" in table.criterion[2].definition  # the template, as the table holds it
            True
        """
        return rule.definition.format(
            default_block_threshold_percent=self.default_block_threshold_percent
        )

    def class_rule(self, rule: ClassRuleId) -> ClassRule:
        """The classification rule with this id."""
        return next(r for r in self.classification if r.id == rule)

    def landmark_for_site(self, site: TenderPointSite) -> Landmark | None:
        """The landmark palpated at this site, or ``None`` (``"other"``)."""
        return next((m for m in self.landmark if m.site is site), None)


# The placeholders each template may use; the loader refuses any other.
_PLACEHOLDERS: Final = {
    "unlikely": {"failed"},
    "confirmed": {"branches"},
    "probable_red_flag": {"red_flags"},
    "probable_block_pending": {"branches", "threshold"},
    "possible": {"unknown"},
    "block_other_branch": {"branches"},
    "branch_mismatch": {"blocked", "tender"},
    "neuro_incomplete": {"missing"},
    "relief_duration_unknown": set(),
    "pain_met": {"support"},
    "pain_support": {"areas"},
    "pain_not_met": {"missing"},
    "tender_reproducing_nerve": {"side", "where", "nerve"},
    "tender_reproducing": {"side", "where"},
    "tender_not_reproducing": {"side", "where"},
    "block_what": {"branches"},
    "block_lasting": {"duration"},
    "block_met": {"what", "relief", "lasting"},
    "block_met_reason": {"threshold"},
    "block_not_met": {"what", "relief", "lasting", "threshold"},
    "red_flag_present": {"name", "points_to"},
}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_table(table: DiagnosisTable) -> None:
    problems = [*_structure_problems(table), *_reference_problems(table)]
    if problems:
        raise KnowledgeBaseError(_KNOWLEDGE_FILE, "; ".join(problems))


def _structure_problems(table: DiagnosisTable) -> list[str]:
    problems: list[str] = []
    if tuple(c.id for c in table.criterion) != tuple(CriterionId):
        problems.append("criteria must be pain_pattern, tender_point, block_response in order")
    if tuple(c.number for c in table.criterion) != (1, 2, 3):
        problems.append("criteria must be numbered 1, 2, 3")
    if any(c.examine_text is None for c in table.criterion[:2]):
        problems.append("criteria 1 and 2 need an examine_text")
    if sorted(m.branch for m in table.landmark) != sorted(NerveBranch):
        problems.append("every nerve branch needs exactly one landmark")
    if any(m.site is TenderPointSite.OTHER for m in table.landmark):
        problems.append("'other' is not a landmark site")
    if tuple(r.id for r in table.red_flag) != tuple(RedFlagKind):
        problems.append("red flags must be listed once each, in NeuroExam order")
    class_ids = [r.id for r in table.classification]
    if len(class_ids) != len(_CLASS_IDS) or set(class_ids) != _CLASS_IDS:
        problems.append(f"classification rules must be exactly {sorted(_CLASS_IDS)}, once each")
    if table.classification and not table.classification[-1].when.always:
        problems.append("the last classification rule must always apply (no when)")
    return problems


def _reference_problems(table: DiagnosisTable) -> list[str]:
    problems: list[str] = []
    templates: dict[str, str] = {r.id: r.action for r in table.classification}
    templates.update({k: getattr(table.notes, k) for k in _NOTE_TEMPLATES})
    templates.update({k: getattr(table.reasons, k) for k in DiagnosisReasons.model_fields})
    for name, template in templates.items():
        try:
            unexpected = _placeholders(template) - _PLACEHOLDERS.get(name, set())
        except ValueError as exc:
            problems.append(f"template {name!r}: {exc}")
            continue
        if unexpected:
            problems.append(f"template {name!r} uses unknown placeholders {sorted(unexpected)}")
    cited = [
        *(c for rule in table.criterion for c in rule.citations),
        *(c for rule in table.landmark for c in rule.citations),
        *(rule.citation for rule in table.block_threshold),
        *(c for rule in table.red_flag for c in rule.citations),
        *(c for rule in table.classification for c in rule.citations),
        *table.notes.branch_mismatch_citations,
    ]
    for citation_id in dict.fromkeys(cited):
        try:
            citation(citation_id)
        except ClunealError:
            problems.append(f"unknown citation id {citation_id!r}")
    return problems


_CLASS_IDS: Final = frozenset(
    {"unlikely", "confirmed", "probable_red_flag", "probable_block_pending", "possible"}
)
_NOTE_TEMPLATES: Final = (
    "block_other_branch",
    "branch_mismatch",
    "neuro_incomplete",
    "relief_duration_unknown",
)


def parse_diagnosis_table(raw: Mapping[str, Any]) -> DiagnosisTable:
    """Validate a parsed ``diagnosis.toml``.

    Args:
        raw: The parsed TOML.

    Returns:
        The table.

    Raises:
        KnowledgeBaseError: The file is malformed: a missing or misordered
            criterion, a branch without a landmark, an unknown placeholder in a
            template or an unknown citation id.

    Example:
        >>> from cluneal.knowledge import read_toml
        >>> len(parse_diagnosis_table(read_toml("diagnosis.toml")).red_flag)
        4
    """
    try:
        try:
            filled = _filled(raw)
        except KnowledgeBaseError:
            # A missing landmark or criterion is the problem to report, not its text.
            _check_table(DiagnosisTable.model_validate(raw))
            raise
        table = DiagnosisTable.model_validate(filled)
    except ValidationError as exc:
        raise KnowledgeBaseError(_KNOWLEDGE_FILE, str(exc)) from exc
    _check_table(table)
    return table


# The texts that state the file's own numbers, filled in when the file is read.
_NUMBERED_TEXTS: Final = {
    "criterion": ("definition", "unknown_text", "examine_text"),
    "landmark": ("location", "site_text"),
}
_MM_PER_CM: Final = 10


class _OnRead:
    """A placeholder left in the text when the file is read, filled when the text is read."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __format__(self, spec: str) -> str:
        return "{" + self.name + (":" + spec if spec else "") + "}"


def _numbers(raw: Mapping[str, Any]) -> dict[str, Any]:
    """What the texts may name: each landmark's distances (the default threshold: see below)."""
    values: dict[str, Any] = {}
    for mark in raw.get("landmark") or ():
        if not isinstance(mark, dict):
            continue
        for key, value in mark.items():
            if key.endswith("_mm") and isinstance(value, int | float):
                values[f"{mark.get('branch')}_{key}"] = value
                values[f"{mark.get('branch')}_{key.removesuffix('_mm')}_cm"] = value / _MM_PER_CM
    return values


def _filled(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The parsed file with its numbered texts filled in (what the rules show).

    Raises:
        KnowledgeBaseError: A text names a number the file does not hold.
    """
    values = _numbers(raw)
    # A criterion's definition may name the default block threshold: left in place here and
    # filled when read (DiagnosisTable.definition_of), so a local protocol's threshold shows.
    threshold = raw.get("default_block_threshold_percent")
    out = dict(raw)
    for section, fields in _NUMBERED_TEXTS.items():
        rows = raw.get(section)
        if not isinstance(rows, list):
            continue
        filled = []
        for row in rows:
            if isinstance(row, dict):
                row = dict(row)  # noqa: PLW2901 - a filled copy of the row
                for field in fields:
                    if not isinstance(row.get(field), str):
                        continue
                    where = f"{section}.{field}"
                    if where == "criterion.definition":
                        later = {**values, "default_block_threshold_percent": _OnRead(_DEFAULT)}
                        row[field] = _fill(row[field], later, where)
                        _fill(row[field], {_DEFAULT: threshold}, where)  # it will fill in
                    else:
                        row[field] = _fill(row[field], values, where)
            filled.append(row)
        out[section] = filled
    return out


_DEFAULT: Final = "default_block_threshold_percent"


def _fill(template: str, values: Mapping[str, Any], where: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        detail = f"{where}: template {template!r} does not fill in ({exc!r})"
        raise KnowledgeBaseError(_KNOWLEDGE_FILE, detail) from exc


@cache
def diagnosis_table() -> DiagnosisTable:
    """The built-in ``diagnosis.toml`` (read and validated once).

    Returns:
        The table the built-in knowledge base holds as ``diagnosis``.

    Example:
        >>> [c.name for c in diagnosis_table().criterion]
        ['Pain pattern', 'Tender point', 'Block response']
    """
    return parse_diagnosis_table(read_toml(_KNOWLEDGE_FILE))
