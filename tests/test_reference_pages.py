"""Issue 15: the docs pages every citation link points at are generated from the knowledge base."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import TYPE_CHECKING

import cluneal
from cluneal._format import citation_url
from cluneal.evidence import all_citations

if TYPE_CHECKING:
    from types import ModuleType

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_reference_pages", DOCS / "_reference_pages.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_citation_has_its_anchor_on_the_page_its_link_names(tmp_path: Path) -> None:
    pages = _generator()
    pages.write_references(tmp_path)
    pages.write_decisions(tmp_path)
    references = (tmp_path / "references.md").read_text(encoding="utf-8")
    decisions = (tmp_path / "decisions.md").read_text(encoding="utf-8")
    for key, entry in all_citations().items():
        url = citation_url(key)
        if "/decisions.html#" in url:
            assert f"({key})=" in decisions
            assert entry.statement in decisions  # type: ignore[attr-defined]
            assert entry.rationale in decisions  # type: ignore[attr-defined]
        elif "/references.html#" in url:
            assert f"({key})=" in references
        else:
            assert url.startswith("https://")
    assert len(re.findall(r"^## ", decisions, flags=re.MULTILINE)) == sum(
        k.startswith("decision_") for k in all_citations()
    )
    assert "clinical.md" not in references + decisions


def test_the_api_reference_lists_every_public_module() -> None:
    modules = _generator().public_modules()
    for expected in ("cluneal", "cluneal.display", "cluneal.renal", "cluneal.knowledge.drugs"):
        assert expected in modules
    assert not [m for m in modules if any(p.startswith("_") for p in m.split("."))]
    assert len(modules) >= 25
    assert cluneal.__name__ == modules[0]


def test_the_pathway_svg_is_written(tmp_path: Path) -> None:
    _generator().write_pathway_svg(tmp_path)
    assert (tmp_path / "pathway.svg").read_text(encoding="utf-8").startswith("<svg")


def test_fhir_citations_link_where_the_html_links() -> None:
    """Issue 15: decisions cited in FHIR link to the Clinical decisions page, like the HTML."""
    from cluneal.fhir.export import plan_definition

    artifacts = [
        d
        for action in plan_definition()["action"]
        for d in action.get("documentation", [])
        if d["type"] == "citation"
    ]
    assert artifacts
    for artifact in artifacts:
        assert artifact["url"] == citation_url(artifact["label"])
    assert any("/decisions.html#decision-" in a["url"] for a in artifacts)
