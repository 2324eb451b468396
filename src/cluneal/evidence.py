"""Evidence: citations, their source marks, and the levels of evidence.

Every rule in the knowledge base names a citation id; :func:`citation` turns
the id into a :class:`Citation`. The registry is read from the packaged
``knowledge/citations.toml`` the first time it is needed and validated then.

Example:
    >>> from cluneal.evidence import citation
    >>> c = citation("inker_2021")
    >>> c.year, c.mark.value
    (2021, 'V')
"""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, ValidationError

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError, UnknownTermError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Citation",
    "EvidenceLevel",
    "SourceMark",
    "all_citations",
    "citation",
    "is_verified",
]


class SourceMark(StrEnum):
    """How a fact was checked (clinical.md, "Source marks").

    Example:
        >>> SourceMark("GK").verified
        False
    """

    V = "V"
    """Read in the primary source."""
    V2 = "V2"
    """Read in a secondary source that quotes or restates the primary."""
    GK = "GK"
    """General knowledge, not yet checked against a source: unverified."""

    @property
    def verified(self) -> bool:
        """Whether the fact was read in a source (V or V2)."""
        return self is not SourceMark.GK


class EvidenceLevel(StrEnum):
    """How strong the evidence behind a recommendation is, in plain words.

    Example:
        >>> EvidenceLevel.CASE_SERIES.label
        'case series (small, uncontrolled)'
    """

    GUIDELINE = "guideline"
    SYSTEMATIC_REVIEW = "systematic_review"
    RANDOMISED_TRIAL = "randomised_trial"
    PROSPECTIVE_COHORT = "prospective_cohort"
    CASE_SERIES = "case_series"
    CASE_REPORT = "case_report"
    EXPERT_OPINION = "expert_opinion"
    DRUG_LABEL = "drug_label"
    NO_SPECIFIC_EVIDENCE = "no_specific_evidence"

    @property
    def label(self) -> str:
        """A phrase a clinician reads in a report."""
        return _LEVEL_LABELS[self]


_LEVEL_LABELS = {
    EvidenceLevel.GUIDELINE: "clinical guideline",
    EvidenceLevel.SYSTEMATIC_REVIEW: "systematic review or meta-analysis",
    EvidenceLevel.RANDOMISED_TRIAL: "randomised controlled trial",
    EvidenceLevel.PROSPECTIVE_COHORT: "prospective cohort",
    EvidenceLevel.CASE_SERIES: "case series (small, uncontrolled)",
    EvidenceLevel.CASE_REPORT: "case report or technical note",
    EvidenceLevel.EXPERT_OPINION: "expert opinion built on case series",
    EvidenceLevel.DRUG_LABEL: "drug label (not labelled for cluneal neuralgia: off-label use)",
    EvidenceLevel.NO_SPECIFIC_EVIDENCE: "no evidence specific to cluneal neuralgia",
}


class Citation(FrozenModel):
    """A source a rule rests on.

    Attributes:
        id: The stable id rules refer to.
        title: Authors, title and journal as far as known.
        year: Year of publication.
        identifier: A DOI, PMID, PMC or registry id, when there is one.
        url: Where to read it, when there is an address.
        mark: How it was checked (:class:`SourceMark`).
        note: A caveat about the source.

    Example:
        >>> citation("beers_2023").identifier
        'doi:10.1111/jgs.18372'
    """

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    title: Annotated[str, Field(min_length=1)]
    year: Annotated[int, Field(ge=1900, le=2100)]
    identifier: str | None = None
    url: str | None = None
    mark: SourceMark
    note: str | None = None

    @property
    def verified(self) -> bool:
        """False for general-knowledge (GK) sources, which the package marks as unverified."""
        return self.mark.verified

    def __str__(self) -> str:
        ident = f", {self.identifier}" if self.identifier else ""
        return f"{self.title} ({self.year}{ident}) [{self.mark.value}]"


@cache
def _registry() -> Mapping[str, Citation]:
    # citations.toml holds the shared sources; citations_<area>.toml files add
    # the sources of one area of the knowledge base. Ids are unique across all.
    folder = resources.files("cluneal.knowledge")
    files = sorted(
        (
            f
            for f in folder.iterdir()
            if f.name.startswith("citations") and f.name.endswith(".toml")
        ),
        key=lambda f: f.name,
    )
    table: dict[str, Citation] = {}
    for path in files:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
            entries = [Citation.model_validate(item) for item in raw["citation"]]
        except (tomllib.TOMLDecodeError, KeyError, ValidationError) as exc:
            raise KnowledgeBaseError(path.name, str(exc)) from exc
        for entry in entries:
            if entry.id in table:
                raise KnowledgeBaseError(path.name, f"duplicate citation id {entry.id!r}")
            table[entry.id] = entry
    return MappingProxyType(table)


def all_citations() -> Mapping[str, Citation]:
    """Return every citation of the knowledge base, by id (read-only).

    Returns:
        A read-only mapping from id to :class:`Citation`.

    Example:
        >>> "kuniya_2014" in all_citations()
        True
    """
    return _registry()


def citation(citation_id: str) -> Citation:
    """Look up a citation by id.

    Args:
        citation_id: The id a rule names.

    Returns:
        The citation.

    Raises:
        UnknownTermError: The id is not in the registry.

    Example:
        >>> citation("kuniya_2014").year
        2014
    """
    table = _registry()
    try:
        return table[citation_id]
    except KeyError:
        raise UnknownTermError("citation", citation_id, sorted(table)) from None


def is_verified(citation_id: str) -> bool:
    """Whether the rule citing ``citation_id`` rests on a checked source (V or V2).

    Args:
        citation_id: A citation id.

    Returns:
        ``False`` for general-knowledge sources.

    Example:
        >>> is_verified("cpic_tca_2017")
        False
    """
    return citation(citation_id).verified
