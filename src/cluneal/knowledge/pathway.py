"""Loader for ``pathway.toml``: the transitions, modifiers, ladder and routing of the pathway.

:func:`cluneal.pathway.next_step` reads these tables from a knowledge base
(``knowledge.pathway``) and only decides which transition fires; this module
validates them (every rule id once, every routing target a known transition,
every intervention and every rung routed) and reads the built-in file once.

Example:
    >>> from cluneal.knowledge.pathway import pathway_table
    >>> [s.value for s in pathway_table().parameters.ladder][:1]
    ['radiofrequency_ablation']
"""

from collections.abc import Mapping
from functools import cache
from string import Formatter
from typing import Annotated, Any, Final, Literal, Self

from pydantic import Field, PrivateAttr, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError
from cluneal.evidence import EvidenceLevel
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.texts import BASE_NAMES, checked, names, own_values
from cluneal.vocabulary import Intervention, PathwayStep

__all__ = [
    "AfterTreatment",
    "AlternativeRule",
    "EntryRoute",
    "FirstBlock",
    "Modifier",
    "PathwayParameters",
    "PathwayTable",
    "Routing",
    "Transition",
    "parse_pathway_table",
    "pathway_table",
]


_SOURCE: Final = "pathway.toml"


class AlternativeRule(FrozenModel):
    """An alternative a transition offers, and when (``alternatives = [...]``).

    Attributes:
        step: The step it proposes.
        text: What it means, in words.
        detail: Words added for this patient (``{branches}``: the other branch or
            branches; ``{blocks_given}``: blocks given so far), or ``None``.
        when: The facts that must hold for it to be offered (``blocks_left``,
            ``other_branch_tender``); none given: always.
        citations: Citation ids.
    """

    step: PathwayStep
    text: str
    detail: str | None = None
    when: Criteria = Criteria()
    citations: tuple[str, ...] = ()


class Transition(FrozenModel):
    """One transition of the pathway, as the knowledge base states it.

    Attributes:
        rule_id: Stable id.
        source: Where it starts: a step, ``nerve_block`` (a repeat block),
            ``any`` (any visit) or ``any_treatment``.
        condition: What fires it, in words.
        step: Where it leads.
        urgent: Whether the step is urgent.
        follow_up: Whether the step is to wait and learn more.
        rationale: What a clinician reads. It may name the knowledge base's values
            (``{rules[dx.branch.superior].from_midline_mm:g}``): the knowledge base
            fills them when it is built.
        citations: Citation ids.
        evidence_level: The evidence behind it.
        alternatives: The alternatives it offers.
    """

    rule_id: str
    source: str
    condition: str
    step: PathwayStep
    urgent: bool = False
    follow_up: bool = False
    rationale: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]
    evidence_level: EvidenceLevel
    alternatives: tuple[AlternativeRule, ...] = ()
    # The rationale as read, when it names values of other files: the knowledge base fills it.
    _templates: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _kept(self) -> Self:
        used = names(self.rationale)
        if used - BASE_NAMES:
            msg = f"rationale {self.rationale!r}: unknown placeholders {sorted(used - BASE_NAMES)}"
            raise ValueError(msg)
        if used:
            self._templates["rationale"] = (self.rationale, None)
        return self


class Modifier(FrozenModel):
    """A rule that changes what a transition proposes (``[[modifier]]``).

    Attributes:
        rule_id: Its rule id, reported with every recommendation it applies to.
        applies: ``"failed_step"`` when the proposed step failed before (the
            pathway then climbs the ladder), ``"always"`` on every recommendation.
        adds: What the recommendation takes from it besides the rule id: its
            text to the rationale, its citations to the recommendation's, its
            text as the evidence note.
        text: Its text.
        citations: Its citations.
    """

    rule_id: str
    applies: Literal["failed_step", "always"]
    adds: tuple[Literal["rationale", "citations", "evidence_note"], ...] = ()
    text: str
    citations: tuple[str, ...]


class PathwayParameters(FrozenModel):
    """The pathway's numbers and its ladder (``[parameters]``)."""

    lasting_relief_weeks: Annotated[float, Field(gt=0)]
    max_blocks: Annotated[int, Field(ge=1)]
    ladder: tuple[PathwayStep, ...]


class AfterTreatment(FrozenModel):
    """The transitions after one treatment, by its outcome (``[[routing.after]]``)."""

    intervention: Intervention
    step: PathwayStep | None = None
    lasting: str
    temporary: str
    failed: str


class FirstBlock(FrozenModel):
    """The transitions after a positive diagnostic block, by its outcome."""

    lasting: str
    temporary: str
    duration_unknown: str


class EntryRoute(FrozenModel):
    """A transition chosen from the findings alone, when its criteria hold (``[[routing.entry]]``).

    Attributes:
        transition: The transition's rule id.
        when: The facts of the diagnostic assessment that must hold (the one
            criteria language: ``red_flag``, ``criterion_failed``, ``block_done``, ...).
        history_note: A note for the rationale when treatments were recorded but
            did not choose the step (``{count}``: how many).
    """

    transition: str
    when: Criteria
    history_note: str | None = None


class Routing(FrozenModel):
    """Which transition answers which situation (pathway.toml's [routing])."""

    exhausted: str
    duration_unknown: str
    entry: tuple[EntryRoute, ...]
    leads_to: dict[PathwayStep, str]
    first_block: FirstBlock
    after: tuple[AfterTreatment, ...]

    def after_for(self, intervention: Intervention) -> AfterTreatment:
        """The routing after this treatment."""
        return next(a for a in self.after if a.intervention is intervention)

    def step_of(self, intervention: Intervention) -> PathwayStep | None:
        """The rung of the ladder this treatment is, or ``None``."""
        return self.after_for(intervention).step

    def targets(self) -> list[str]:
        """Every transition id the routing names."""
        found = [self.exhausted, self.duration_unknown, *(e.transition for e in self.entry)]
        found += [*self.leads_to.values(), *self.first_block.model_dump().values()]
        for entry in self.after:
            found += [entry.lasting, entry.temporary, entry.failed]
        return found


class PathwayTable(FrozenModel):
    """The whole of ``pathway.toml``, validated and cross-checked.

    Example:
        >>> table = pathway_table()
        >>> table.parameters.max_blocks, table.transition("pathway.block_temporary").step.value
        (3, 'radiofrequency_ablation')
    """

    parameters: PathwayParameters
    transitions: tuple[Transition, ...]
    modifiers: tuple[Modifier, ...]
    routing: Routing

    def transition(self, rule_id: str) -> Transition:
        """The transition with this rule id."""
        return next(t for t in self.transitions if t.rule_id == rule_id)

    def modifier(self, rule_id: str) -> Modifier:
        """The modifier with this rule id."""
        return next(m for m in self.modifiers if m.rule_id == rule_id)

    def modifiers_for(self, applies: Literal["failed_step", "always"]) -> tuple[Modifier, ...]:
        """The modifiers that apply in this situation, in the file's order."""
        return tuple(m for m in self.modifiers if m.applies == applies)


@cache
def pathway_table() -> PathwayTable:
    """The built-in ``pathway.toml`` (read and validated once).

    Returns:
        The table as read: the rationales that name another file's values (a
        landmark's distance, a case series' count) are filled in
        ``knowledge_base().pathway``.

    Example:
        >>> pathway_table().parameters.lasting_relief_weeks
        12.0
    """
    return parse_pathway_table(read_toml("pathway.toml"))


def parse_pathway_table(raw: Mapping[str, Any]) -> PathwayTable:
    """Validate a parsed ``pathway.toml``.

    Args:
        raw: The parsed TOML.

    Returns:
        The table.

    Raises:
        KnowledgeBaseError: The file is malformed: a repeated rule id, routing that
            names an unknown transition, an intervention or a rung without routing.

    Example:
        >>> from cluneal.knowledge import read_toml
        >>> len(parse_pathway_table(read_toml("pathway.toml")).modifiers)
        3
    """
    try:
        params = dict(raw["parameters"])
        params["ladder"] = raw["ladder"] if "ladder" in raw else params.pop("ladder", ())
        table = PathwayTable(
            parameters=params,
            transitions=[_filled(row, own_values(params)) for row in raw["transition"]],
            modifiers=raw["modifier"],
            routing=raw["routing"],
        )
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError("pathway.toml", str(exc)) from exc
    ids = [t.rule_id for t in table.transitions] + [m.rule_id for m in table.modifiers]
    if len(ids) != len(set(ids)):
        raise KnowledgeBaseError("pathway.toml", "duplicate rule ids")
    known = {t.rule_id for t in table.transitions}
    unknown = sorted(set(table.routing.targets()) - known)
    if unknown:
        raise KnowledgeBaseError("pathway.toml", f"routing names unknown transitions {unknown}")
    if sorted(a.intervention for a in table.routing.after) != sorted(Intervention):
        raise KnowledgeBaseError("pathway.toml", "routing.after needs every intervention once")
    failed_step = table.modifiers_for("failed_step")
    if len(failed_step) != 1:
        raise KnowledgeBaseError("pathway.toml", "exactly one modifier applies to a failed step")
    notes = [m for m in table.modifiers if "evidence_note" in m.adds]
    if len(notes) != 1 or notes[0].applies != "always":
        raise KnowledgeBaseError(
            "pathway.toml", "exactly one always modifier adds the evidence note"
        )
    if set(table.routing.leads_to) != set(table.parameters.ladder):
        raise KnowledgeBaseError("pathway.toml", "routing.leads_to needs every rung of the ladder")
    for route in table.routing.entry:
        _check_placeholders("history_note", route.history_note, {"count"})
    for transition in table.transitions:
        for alternative in transition.alternatives:
            _check_placeholders("detail", alternative.detail, {"branches", "blocks_given"})
    return table


def _filled(row: Any, parameters: Mapping[str, Any]) -> Any:
    """A transition with its texts filled from the pathway's parameters (``{max_blocks}``).

    The rationale's names of other files' values stay for the knowledge base to fill;
    an alternative's ``detail`` is filled per recommendation.
    """
    if not isinstance(row, dict):
        return row  # the model reports what is wrong
    where = row.get("rule_id")
    out = dict(row)
    if isinstance(row.get("rationale"), str):
        out["rationale"] = checked(
            row["rationale"],
            parameters,
            later=BASE_NAMES,
            source=_SOURCE,
            where=f"{where}.rationale",
        )
    alternatives = row.get("alternatives")
    if isinstance(alternatives, list):
        out["alternatives"] = [
            {
                **a,
                "text": checked(
                    a["text"], parameters, later=(), source=_SOURCE, where=f"{where}.text"
                ),
            }
            if isinstance(a, dict) and isinstance(a.get("text"), str)
            else a
            for a in alternatives
        ]
    return out


def _check_placeholders(name: str, template: str | None, allowed: set[str]) -> None:
    if template is None:
        return
    try:
        used = {field for _, field, _, _ in Formatter().parse(template) if field is not None}
    except ValueError as exc:
        raise KnowledgeBaseError("pathway.toml", f"{name} {template!r}: {exc}") from exc
    if used - allowed:
        problem = f"{name} {template!r} uses unknown placeholders {sorted(used - allowed)}"
        raise KnowledgeBaseError("pathway.toml", problem)
