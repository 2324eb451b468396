"""The titration rules that hold for every drug (``knowledge/titration.toml``).

Start low, rounding, unknown renal function, dialysis and the other general
rules of the titration engine, each with its id and citation; a rule with
``when`` criteria is a start-low trigger (:class:`TriggerRule`). Read once,
validated, checked for unique ids and resolvable citations.

Example:
    >>> titration_rule("titration.renal.dialysis").citation
    'decision_dialysis_lowest_band'
"""

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Annotated, Self

from pydantic import Field, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.rule import KnowledgeRule, check_citations

__all__ = [
    "DIALYSIS_SESSION",
    "DialysisSessionRule",
    "TriggerRule",
    "parse_titration_rules",
    "titration_rule",
    "titration_rules",
]


class TriggerRule(KnowledgeRule):
    """A general rule that fires for some patients (the start-low triggers).

    Attributes:
        when: The patients it fires for (:class:`~cluneal.knowledge.criteria.Criteria`).
        reason: Why it fired, as a template over ``age``, ``older_adult_age`` and ``band``.
    """

    when: Criteria
    reason: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _template(self) -> Self:
        try:
            self.reason.format(age=1.0, older_adult_age=1.0, band="x")
        except (KeyError, IndexError, ValueError) as exc:
            msg = f"reason template {self.reason!r}: {exc}"
            raise ValueError(msg) from exc
        return self


DIALYSIS_SESSION = "titration.renal.dialysis_session"


class DialysisSessionRule(KnowledgeRule):
    """The haemodialysis session a post-dialysis supplement follows.

    Attributes:
        session_hours: The session's length (the labels' supplements are per 4 hours).
    """

    session_hours: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _TitrationRules(FrozenModel):
    # A rule with "when" is a trigger; the others are named by the engine.
    rule: tuple[TriggerRule | DialysisSessionRule | KnowledgeRule, ...]


@cache
def titration_rules() -> Mapping[str, KnowledgeRule]:
    """Return the general titration rules by id (read once, validated).

    Returns:
        A read-only mapping from rule id to rule.

    Raises:
        KnowledgeBaseError: The file is missing, malformed or cites an unknown source.

    Example:
        >>> "titration.renal.unknown" in titration_rules()
        True
    """
    return parse_titration_rules(read_toml("titration.toml"))


def parse_titration_rules(raw: Mapping[str, object]) -> Mapping[str, KnowledgeRule]:
    """Validate the parsed ``titration.toml`` (what :func:`titration_rules` reads).

    Args:
        raw: The parsed TOML.

    Returns:
        A read-only mapping from rule id to rule.

    Raises:
        KnowledgeBaseError: Malformed, an unknown citation or a duplicate rule id.
    """
    try:
        table = _TitrationRules.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError("titration.toml", str(exc)) from exc
    check_citations("titration.toml", table.rule)
    out: dict[str, KnowledgeRule] = {}
    for rule in table.rule:
        if rule.rule_id in out:
            raise KnowledgeBaseError("titration.toml", f"duplicate rule id {rule.rule_id!r}")
        out[rule.rule_id] = rule
    if not isinstance(out.get(DIALYSIS_SESSION), DialysisSessionRule):
        raise KnowledgeBaseError("titration.toml", f"{DIALYSIS_SESSION!r} must give session_hours")
    return MappingProxyType(out)


def titration_rule(rule_id: str) -> KnowledgeRule:
    """Return one general titration rule.

    Args:
        rule_id: Its id.

    Returns:
        The rule.

    Raises:
        UnknownTermError: No such rule.

    Example:
        >>> titration_rule("titration.renal.dialysis").citation
        'decision_dialysis_lowest_band'
    """
    table = titration_rules()
    try:
        return table[rule_id]
    except KeyError:
        raise UnknownTermError("rule_id", rule_id, sorted(table)) from None
