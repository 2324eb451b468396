"""How an exported FHIR resource cites its sources: text, URL and RelatedArtifact."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluneal._format import citation_url
from cluneal.errors import UnknownTermError
from cluneal.evidence import citation

if TYPE_CHECKING:
    from cluneal.evidence import Citation

__all__ = ["citation_text", "fhir_citation_url", "lookup_citation", "related_artifact"]


def lookup_citation(citation_id: str) -> Citation | None:
    # An alert built by a caller may cite an id the registry does not know: the
    # export then shows the bare id rather than failing.
    try:
        return citation(citation_id)
    except UnknownTermError:
        return None


def citation_text(citation_id: str) -> str:
    cited = lookup_citation(citation_id)
    if cited is None:
        return f"[{citation_id}] (not in the cluneal citation registry)"
    ident = f", {cited.identifier}" if cited.identifier else ""
    unverified = "" if cited.verified else " [unverified: general knowledge]"
    return f"[{cited.id}] {cited.title} ({cited.year}{ident}){unverified}"


def fhir_citation_url(citation_id: str) -> str | None:
    # The same address the HTML links to: the source's own, or the package's
    # decision or reference entry in the published docs.
    return None if lookup_citation(citation_id) is None else citation_url(citation_id)


def related_artifact(citation_id: str) -> dict[str, str]:
    artifact = {"type": "citation", "label": citation_id, "citation": citation_text(citation_id)}
    url = fhir_citation_url(citation_id)
    if url:
        artifact["url"] = url
    return artifact
