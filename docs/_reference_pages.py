"""Generate the reference pages from the package (called from conf.py at every build).

- ``api/generated/<module>.rst``: one API page per public module, found by
  walking the package, so a new module can never be missing from the reference.
- ``generated/references.md``: every citation of the knowledge base, with the
  anchor that :func:`cluneal._format.citation_url` links to.
- ``generated/decisions.md``: every clinical decision of the package, with its
  wording, rationale and sources.
- ``generated/pathway.svg``: the pathway diagram, drawn in pure Python.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import TYPE_CHECKING

import cluneal
from cluneal._format import DECISION_PREFIX, citation_url
from cluneal.evidence import all_citations, citation
from cluneal.pathway_diagram import pathway_svg

if TYPE_CHECKING:
    import pathlib

    from cluneal.evidence import Citation

_MARKS = {
    "V": "verified in the primary source",
    "V2": "verified in a secondary source",
    "GK": "general knowledge, not yet checked against a source (results say *unverified*)",
}


def public_modules() -> list[str]:
    """Every importable public module of the package, sorted (no part starts with ``_``)."""
    found = pkgutil.walk_packages(cluneal.__path__, "cluneal.")
    names = [i.name for i in found if not any(p.startswith("_") for p in i.name.split("."))]
    return sorted(["cluneal", *names])


def _documented_elsewhere(docs: pathlib.Path) -> set[str]:
    """Modules some guide page already declares with ``automodule`` (declared once only)."""
    found: set[str] = set()
    for page in docs.glob("*.md"):
        found.update(re.findall(r"\.\. automodule:: (cluneal[\w.]*)", page.read_text("utf-8")))
    return found


def _module_page(name: str, *, declared_elsewhere: bool) -> str:
    module = importlib.import_module(name)
    summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
    title = f"``{name}``"
    lines = [title, "=" * len(title), ""]
    if summary:
        lines += [summary, ""]
    # The module is declared here (so it is in the module index) unless a guide
    # page declares it; its members are described where the guide pages put
    # them, and listed here without a second index entry.
    if not declared_elsewhere:
        lines += [f".. py:module:: {name}", ""]
    lines += [
        f".. automodule:: {name}",
        "   :members:",
        "   :no-index:",
        "",
    ]
    return "\n".join(lines)


def write_api_pages(docs: pathlib.Path) -> list[str]:
    """Write one page per public module into ``docs/api/generated``."""
    outdir = docs / "api" / "generated"
    outdir.mkdir(parents=True, exist_ok=True)
    for stale in outdir.glob("*.rst"):
        stale.unlink()
    elsewhere = _documented_elsewhere(docs)
    written = []
    for name in public_modules():
        (outdir / f"{name}.rst").write_text(
            _module_page(name, declared_elsewhere=name in elsewhere), encoding="utf-8"
        )
        written.append(f"{name}.rst")
    return written


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _source_line(entry: Citation) -> str:
    where = citation_url(entry.id)
    ident = f"{entry.identifier}, " if entry.identifier else ""
    link = "" if "/references.html#" in where else f" <{where}>"
    mark = _MARKS.get(entry.mark.value, entry.mark.value)
    note = f" *{entry.note}*" if entry.note else ""
    return f"{entry.title} ({ident}{entry.year}).{link} Source mark: {mark}.{note}"


def write_references(outdir: pathlib.Path) -> list[str]:
    """Write ``references.md``: each citation under its own anchor."""
    outdir.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    for key, entry in sorted(all_citations().items()):
        if key.startswith(DECISION_PREFIX):
            continue
        lines += [f"({key})=", f"**`{key}`**", ": " + _source_line(entry), ""]
    (outdir / "references.md").write_text("\n".join(lines), encoding="utf-8")
    return ["references.md"]


def write_decisions(outdir: pathlib.Path) -> list[str]:
    """Write ``decisions.md``: each package decision with its wording, rationale and sources."""
    outdir.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    decisions = [e for k, e in sorted(all_citations().items()) if k.startswith(DECISION_PREFIX)]
    for entry in decisions:
        statement = getattr(entry, "statement", "")
        rationale = getattr(entry, "rationale", "")
        sources = tuple(getattr(entry, "sources", ()))
        lines += [f"({entry.id})=", f"## {entry.title}", "", f"`{entry.id}`", ""]
        if statement:
            lines += [f"**Decision.** {statement}", ""]
        if rationale:
            lines += [f"**Why.** {rationale}", ""]
        if sources:
            lines += ["**Sources.**", ""]
            lines += [
                f"- [{citation(s).title}]({citation_url(s)}) (`{s}`)"
                if "/references.html#" not in citation_url(s)
                else f"- {{ref}}`{citation(s).title} <{s}>` (`{s}`)"
                for s in sources
            ]
            lines.append("")
    if not decisions:
        lines.append("The knowledge base records no package decisions.")
    (outdir / "decisions.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["decisions.md"]


def write_pathway_svg(outdir: pathlib.Path) -> list[str]:
    """Write ``pathway.svg``."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "pathway.svg").write_text(pathway_svg() + "\n", encoding="utf-8")
    return ["pathway.svg"]


def write_reference_pages(docs: pathlib.Path) -> None:
    """Write everything above (``docs`` is the Sphinx source folder)."""
    generated = docs / "generated"
    write_api_pages(docs)
    write_references(generated)
    write_decisions(generated)
    write_pathway_svg(generated)
