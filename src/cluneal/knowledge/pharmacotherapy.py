"""Loader for ``pharmacotherapy.toml``: the first-line choice and when it is withheld.

decision_pharmacotherapy_first_line: the first-line order, the second-line
options, the rules that pass over a first-line drug for some patients and the
rules that withhold every drug for some assessments, all in the one criteria
language (:mod:`cluneal.knowledge.criteria`).

Example:
    >>> from cluneal.knowledge.pharmacotherapy import pharmacotherapy_table
    >>> [d.value for d in pharmacotherapy_table().selection.second_line]
    ['tramadol', 'naltrexone']
"""

from collections.abc import Mapping
from functools import cache
from typing import Any, Self

from pydantic import PrivateAttr, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.criteria import Criteria
from cluneal.knowledge.texts import BASE_NAMES, names
from cluneal.vocabulary import Drug

__all__ = [
    "PharmacotherapyRule",
    "PharmacotherapyTable",
    "Selection",
    "SkipRule",
    "WithholdRule",
    "parse_pharmacotherapy",
    "pharmacotherapy_table",
]

_SOURCE = "pharmacotherapy.toml"


class Selection(FrozenModel):
    """The first-line order and the second-line options, with their texts."""

    rule_id: str
    text: str
    citation: str
    first_line: tuple[Drug, ...]
    second_line: tuple[Drug, ...]
    second_line_text: str
    second_line_citation: str
    off_label_text: str


class PharmacotherapyRule(FrozenModel):
    """A rule of the choice: its id, its words and its citation.

    The text may name the knowledge base's values (``{older_adult_age:g}``): the
    knowledge base fills them when it is built.
    """

    rule_id: str
    text: str
    citation: str
    # The text as read, when it names values of other files: the knowledge base fills it.
    _templates: dict[str, tuple[str, str | None]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _kept(self) -> Self:
        used = names(self.text)
        if used - BASE_NAMES:
            msg = f"text {self.text!r}: unknown placeholders {sorted(used - BASE_NAMES)}"
            raise ValueError(msg)
        if used:
            self._templates["text"] = (self.text, None)
        return self


class SkipRule(PharmacotherapyRule):
    """A first-line drug that is not a first choice for the patients ``when`` describes."""

    drug: Drug
    when: Criteria


class WithholdRule(PharmacotherapyRule):
    """No drug is started for the assessments ``when`` describes (urgent red flag, unlikely)."""

    when: Criteria


class PharmacotherapyTable(FrozenModel):
    """The whole of ``pharmacotherapy.toml``."""

    selection: Selection
    skips: tuple[SkipRule, ...]
    withholds: tuple[WithholdRule, ...]
    none_available: PharmacotherapyRule


@cache
def pharmacotherapy_table() -> PharmacotherapyTable:
    """Return the built-in first-line table (read once, validated).

    A text naming the knowledge base's values (``{older_adult_age:g}``) is filled in
    ``knowledge_base().pharmacotherapy``.

    Raises:
        KnowledgeBaseError: The file is missing or malformed.
    """
    return parse_pharmacotherapy(read_toml(_SOURCE))


def parse_pharmacotherapy(raw: Mapping[str, Any]) -> PharmacotherapyTable:
    """Validate the parsed ``pharmacotherapy.toml``.

    Args:
        raw: The parsed TOML.

    Returns:
        The table.

    Raises:
        KnowledgeBaseError: The file is malformed.
    """
    try:
        return PharmacotherapyTable(
            selection=raw["selection"],
            skips=raw["skip"],
            withholds=raw["withhold"],
            none_available=raw["none_available"],
        )
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
