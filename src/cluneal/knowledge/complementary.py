"""Loader for ``complementary.toml``: complementary measures and their interactions.

None of the measures has evidence specific to cluneal neuralgia
(``complementary_general``); each carries that label. An interaction names
the co-medication classes with which a measure raises an alert.

Example:
    >>> from cluneal.knowledge.complementary import complementary_table
    >>> [m.id for m in complementary_table().measures][:2]
    ['aerobic_exercise', 'heat_cold']
"""

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.alerts import Severity
from cluneal.errors import KnowledgeBaseError
from cluneal.evidence import EvidenceLevel
from cluneal.knowledge import read_toml
from cluneal.vocabulary import MedicationClass

__all__ = [
    "ComplementaryInteraction",
    "ComplementaryMeasure",
    "ComplementaryTable",
    "complementary_table",
    "parse_complementary",
]

_SOURCE = "complementary.toml"


class ComplementaryMeasure(FrozenModel):
    """One complementary measure, with its real evidence.

    Attributes:
        id: Stable id.
        rule_id: The knowledge-base rule.
        name: Its name.
        suggestion: What is suggested, as the source phrases it.
        evidence_level: Always "no evidence specific to cluneal neuralgia" today.
        evidence_note: What evidence there is, in words.
        citations: Citation ids.

    Example:
        >>> from cluneal.knowledge.complementary import complementary_table
        >>> complementary_table().measures[0].evidence_level.value
        'no_specific_evidence'
    """

    id: str
    rule_id: str
    name: str
    suggestion: str
    evidence_level: EvidenceLevel
    evidence_note: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]

    def __str__(self) -> str:
        return f"{self.name}: {self.suggestion} ({self.evidence_level.label})"


class ComplementaryInteraction(FrozenModel):
    """A measure that raises an alert with co-medications of some classes."""

    rule_id: str
    measure: str
    medication_classes: tuple[MedicationClass, ...]
    severity: Severity
    message: str
    action: str
    citation: str


class ComplementaryTable(FrozenModel):
    """The whole of ``complementary.toml``."""

    measures: tuple[ComplementaryMeasure, ...]
    interactions: tuple[ComplementaryInteraction, ...]


@cache
def complementary_table() -> ComplementaryTable:
    """Return the built-in complementary table (read once, validated).

    Raises:
        KnowledgeBaseError: The file is missing or malformed.
    """
    return parse_complementary(read_toml(_SOURCE))


def parse_complementary(raw: Mapping[str, Any]) -> ComplementaryTable:
    """Validate the parsed ``complementary.toml``.

    Args:
        raw: The parsed TOML.

    Returns:
        The table.

    Raises:
        KnowledgeBaseError: The file is malformed, or an interaction names an unknown measure.
    """
    try:
        table = ComplementaryTable(measures=raw["measure"], interactions=raw["interaction"])
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
    ids = {m.id for m in table.measures}
    if any(i.measure not in ids for i in table.interactions):
        raise KnowledgeBaseError(_SOURCE, "an interaction names an unknown measure")
    return table
