"""Evidence: citations, package decisions, their source marks, and the levels of evidence.

Every rule in the knowledge base names a citation id; :func:`citation` turns
the id into a :class:`Citation`. The registry is read from the packaged
``knowledge/citations*.toml`` files the first time it is needed and validated
then. Where the sources leave a case open (a boundary value, a default, a
conservative reading), the package decides: each such decision is a
:class:`Decision` in ``knowledge/decisions.toml``, resolved by the same
registry (ids start with ``decision_``), marked as a package decision rather
than as unverified, with its statement, rationale and the citations it rests on.

Example:
    >>> from cluneal.evidence import citation
    >>> c = citation("inker_2021")
    >>> c.year, c.mark.value
    (2021, 'V')
"""

import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal._checks import text
from cluneal._vocabulary import Term
from cluneal.errors import KnowledgeBaseError, UnknownTermError

__all__ = [
    "Citation",
    "Decision",
    "EvidenceLevel",
    "SourceMark",
    "all_citations",
    "all_decisions",
    "citation",
    "is_verified",
    "parse_citations",
]


class SourceMark(Term):
    """How a fact was checked, or that it is a package decision.

    Example:
        >>> SourceMark("GK").verified, SourceMark("decision").label
        (False, 'package decision')
    """

    V = "V"
    """Read in the primary source."""
    V2 = "V2"
    """Read in a secondary source that quotes or restates the primary."""
    GK = "GK"
    """General knowledge, not yet checked against a source: unverified."""
    DECISION = "decision"
    """A decision the package takes where the sources leave a case open (a
    :class:`Decision`): stated and reasoned, never reported as unverified."""

    @property
    def verified(self) -> bool:
        """Whether no "unverified" warning is due (read in a source, or a package decision)."""
        return self is not SourceMark.GK

    @property
    def label(self) -> str:
        """How results name the mark, in words."""
        return _MARK_LABELS[self]


_MARK_LABELS = {
    SourceMark.V: "verified in the primary source",
    SourceMark.V2: "verified in a secondary source",
    SourceMark.GK: "unverified: general knowledge",
    SourceMark.DECISION: "package decision",
}


class EvidenceLevel(Term):
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


_DECISION_ID = r"^decision_[a-z0-9_]+$"


class Decision(Citation):
    """A decision the package takes where the sources leave a case open.

    Resolved by :func:`citation` like any source; its mark is
    :attr:`SourceMark.DECISION` (shown as "package decision").

    Attributes:
        statement: The decision, as the package applies it.
        rationale: Why the package decides so.
        sources: The citation ids it rests on (each resolves with :func:`citation`).

    Example:
        >>> d = citation("decision_renal_band_boundaries")
        >>> d.mark.label, "gabapentin_label" in d.sources
        ('package decision', True)
        >>> str(d).endswith("[package decision]")
        True
    """

    id: Annotated[str, Field(pattern=_DECISION_ID)]
    mark: SourceMark = SourceMark.DECISION
    statement: Annotated[str, Field(min_length=1)]
    rationale: Annotated[str, Field(min_length=1)]
    sources: tuple[Annotated[str, Field(pattern=r"^[a-z0-9_]+$")], ...] = ()

    @model_validator(mode="after")
    def _is_a_decision(self) -> Self:
        if self.mark is not SourceMark.DECISION:
            msg = f"decision {self.id!r}: mark must be 'decision'"
            raise ValueError(msg)
        for value in (self.identifier, self.url):
            # A decision is the package's own: it points at no internal document.
            if value is not None and (".md" in value or "shared/" in value):
                msg = f"decision {self.id!r}: identifier and url must not point at internal notes"
                raise ValueError(msg)
        return self

    def __str__(self) -> str:
        return f"{self.title} ({self.year}) [{self.mark.label}]"


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
    sources: list[tuple[str, Mapping[str, Any]]] = []
    for path in [*files, folder.joinpath("decisions.toml")]:
        try:
            sources.append((path.name, tomllib.loads(path.read_text(encoding="utf-8"))))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise KnowledgeBaseError(path.name, str(exc)) from exc
    return parse_citations(sources[:-1], sources[-1][1])


def parse_citations(
    files: Sequence[tuple[str, Mapping[str, Any]]], decisions: Mapping[str, Any]
) -> Mapping[str, Citation]:
    """Validate the parsed citation files and ``decisions.toml`` into one registry.

    Args:
        files: (file name, parsed TOML) of each ``citations*.toml``.
        decisions: The parsed ``decisions.toml``.

    Returns:
        A read-only mapping from id to citation or decision.

    Raises:
        KnowledgeBaseError: A malformed entry, a duplicate id, a decision outside
            ``decisions.toml``, or a decision resting on an unknown source.
    """
    table: dict[str, Citation] = {}
    for name, raw in files:
        try:
            entries = [Citation.model_validate(item) for item in raw["citation"]]
        except (KeyError, ValidationError) as exc:
            raise KnowledgeBaseError(name, str(exc)) from exc
        for entry in entries:
            if entry.id in table:
                raise KnowledgeBaseError(name, f"duplicate citation id {entry.id!r}")
            if entry.id.startswith("decision_") or entry.mark is SourceMark.DECISION:
                raise KnowledgeBaseError(name, f"{entry.id!r}: decisions go in decisions.toml")
            table[entry.id] = entry
    try:
        decided = [Decision.model_validate(item) for item in decisions["decision"]]
    except (KeyError, ValidationError) as exc:
        raise KnowledgeBaseError("decisions.toml", str(exc)) from exc
    for decision in decided:
        if decision.id in table:
            raise KnowledgeBaseError("decisions.toml", f"duplicate citation id {decision.id!r}")
        table[decision.id] = decision
    for decision in decided:
        unknown = [s for s in decision.sources if s not in table]
        if unknown:
            raise KnowledgeBaseError(
                "decisions.toml", f"decision {decision.id!r} rests on unknown sources {unknown}"
            )
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


def all_decisions() -> tuple[Decision, ...]:
    """Return every package decision, in the order of ``knowledge/decisions.toml``.

    Returns:
        The decisions.

    Example:
        >>> all_decisions()[0].id.startswith("decision_")
        True
    """
    return tuple(c for c in _registry().values() if isinstance(c, Decision))


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
        return table[text(citation_id, "citation_id")]
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
