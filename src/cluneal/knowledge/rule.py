"""A rule of the knowledge base: a stable id, its text and its source.

Every table of rules (the monographs, ``titration.toml``, ``safety.toml``)
builds on :class:`KnowledgeRule`; :func:`check_citations` is the one check
that their citations resolve.

Example:
    >>> from cluneal.evidence import SourceMark
    >>> KnowledgeRule(rule_id="x.y", citation="beers_2023", mark="V", text="t").verified
    True
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated

from pydantic import BaseModel, Field

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.evidence import SourceMark, citation

__all__ = ["KnowledgeRule", "RuleId", "RuleIndex", "check_citations"]

RuleId = Annotated[str, Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")]


class KnowledgeRule(FrozenModel):
    """A rule of the knowledge base: a stable id, its text and its source.

    Attributes:
        rule_id: The stable id results refer to.
        citation: A citation id that resolves with :func:`cluneal.citation`.
        mark: How the rule was checked (``GK`` rules are reported as unverified), or
            ``decision`` for a package decision.
        text: What the rule says.

    Example:
        >>> from cluneal.knowledge.titration_rules import titration_rule
        >>> titration_rule("titration.rounding.down").mark.label
        'package decision'
    """

    rule_id: RuleId
    citation: Annotated[str, Field(min_length=1)]
    mark: SourceMark
    text: Annotated[str, Field(min_length=1)]

    @property
    def verified(self) -> bool:
        """``False`` for general-knowledge (GK) rules, which results mark as unverified."""
        return self.mark.verified


def check_citations(source: str, rules: tuple[KnowledgeRule, ...]) -> None:
    """Check that every rule's citation resolves.

    Args:
        source: The file, for the error message.
        rules: The rules.

    Raises:
        KnowledgeBaseError: A citation id is unknown.
    """
    for rule in rules:
        try:
            citation(rule.citation)
        except UnknownTermError as exc:
            raise KnowledgeBaseError(source, f"rule {rule.rule_id!r}: {exc}") from exc


class RuleIndex(Mapping[str, BaseModel]):
    """Models that have a rule id, by id: what a text's ``{rules[<rule id>].<field>}`` reads.

    The models are read only as far as a lookup needs (the likeliest first), so a
    text that names a few rules does not walk the whole knowledge base.

    Example:
        >>> rule = KnowledgeRule(rule_id="x.y", citation="beers_2023", mark="V", text="t")
        >>> RuleIndex(lambda: [rule])["x.y"].text
        't'
    """

    def __init__(self, models: Callable[[], Iterable[BaseModel]]) -> None:
        self._models = models
        self._pending: Iterator[BaseModel] | None = None
        self._index: dict[str, BaseModel] = {}

    def _read(self, until: str | None) -> None:
        if self._pending is None:
            self._pending = iter(self._models())
        for model in self._pending:
            rule_id = getattr(model, "rule_id", None)
            if isinstance(rule_id, str):
                self._index.setdefault(rule_id, model)
                if rule_id == until:
                    return

    def __getitem__(self, rule_id: str) -> BaseModel:
        if rule_id not in self._index:
            self._read(rule_id)
        return self._index[rule_id]

    def __iter__(self) -> Iterator[str]:
        self._read(None)
        return iter(self._index)

    def __len__(self) -> int:
        self._read(None)
        return len(self._index)
