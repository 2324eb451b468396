"""Loader for ``interventions.toml``: the published evidence behind each intervention.

:func:`cluneal.interventions.evidence_for` reads it from a knowledge base
(``knowledge.interventions``); this module validates it (every intervention
exactly once, every citation resolving) and reads the built-in file once.

Example:
    >>> from cluneal.knowledge.interventions import intervention_evidence
    >>> intervention_evidence()[Intervention.SURGICAL_DECOMPRESSION].level.value
    'case_series'
"""

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Annotated, Any, Final

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.errors import ClunealError, KnowledgeBaseError
from cluneal.evidence import EvidenceLevel, citation
from cluneal.knowledge import read_toml
from cluneal.vocabulary import Intervention

__all__ = ["InterventionEvidence", "intervention_evidence", "parse_intervention_evidence"]

_KNOWLEDGE_FILE: Final = "interventions.toml"


class InterventionEvidence(FrozenModel):
    """The published evidence for one intervention.

    Attributes:
        intervention: The intervention.
        summary: One sentence on what the evidence is.
        key_figures: The figures, as the sources report them.
        caveats: What the figures do not show.
        level: The strength of the evidence.
        rule_id: The knowledge-base entry.
        citations: Citation ids.

    Example:
        >>> e = intervention_evidence()[Intervention.RADIOFREQUENCY_ABLATION]
        >>> figures = e.key_figures[0]
        >>> "36 of 46 (78.3%)" in figures, "mean follow-up of 92.1 days" in figures
        (True, True)
    """

    intervention: Intervention
    summary: str
    key_figures: Annotated[tuple[str, ...], Field(min_length=1)]
    caveats: Annotated[tuple[str, ...], Field(min_length=1)]
    level: EvidenceLevel
    rule_id: str
    citations: Annotated[tuple[str, ...], Field(min_length=1)]


class _EvidenceFile(FrozenModel):
    evidence: tuple[InterventionEvidence, ...]


def parse_intervention_evidence(
    raw: Mapping[str, Any],
) -> Mapping[Intervention, InterventionEvidence]:
    """Validate a parsed ``interventions.toml``.

    Args:
        raw: The parsed TOML.

    Returns:
        The evidence, by intervention (read-only).

    Raises:
        KnowledgeBaseError: An intervention listed twice or not at all, or an
            unknown citation id.

    Example:
        >>> from cluneal.knowledge import read_toml
        >>> len(parse_intervention_evidence(read_toml("interventions.toml")))
        4
    """
    try:
        table = _EvidenceFile.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError(_KNOWLEDGE_FILE, str(exc)) from exc
    listed = [e.intervention for e in table.evidence]
    if sorted(listed) != sorted(Intervention):
        raise KnowledgeBaseError(_KNOWLEDGE_FILE, "every intervention needs exactly one entry")
    for entry in table.evidence:
        for citation_id in entry.citations:
            try:
                citation(citation_id)
            except ClunealError as exc:
                raise KnowledgeBaseError(_KNOWLEDGE_FILE, str(exc)) from exc
    return MappingProxyType({e.intervention: e for e in table.evidence})


@cache
def intervention_evidence() -> Mapping[Intervention, InterventionEvidence]:
    """The built-in ``interventions.toml`` (read and validated once).

    Returns:
        The evidence the built-in knowledge base holds as ``interventions``.

    Example:
        >>> intervention_evidence()[Intervention.NERVE_BLOCK].level.label
        'prospective cohort'
    """
    return parse_intervention_evidence(read_toml(_KNOWLEDGE_FILE))
