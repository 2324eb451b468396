"""Write the pathway diagram and transition table from the knowledge base.

Called by conf.py at every build, so the docs can never disagree with the
rules :func:`cluneal.pathway.next_step` applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluneal.evidence import citation
from cluneal.pathway import pathway_transitions
from cluneal.pathway_diagram import pathway_dot, pathway_mermaid

if TYPE_CHECKING:
    import pathlib


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def write_pathway_pages(outdir: pathlib.Path) -> list[str]:
    """Write ``pathway.mmd``, ``pathway.dot`` and ``transitions.md`` into ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("pathway.mmd", pathway_mermaid()), ("pathway.dot", pathway_dot())):
        (outdir / name).write_text(text + "\n", encoding="utf-8")
        written.append(name)
    rows = [
        "| rule id | from | when | next step | alternatives | evidence | citations |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in pathway_transitions():
        alternatives = "; ".join(a.text for a in t.alternatives) or "-"
        cites = ", ".join(f"`{c}` ({citation(c).year})" for c in t.citations)
        rows.append(
            f"| `{t.rule_id}` | {t.source.replace('_', ' ')} | {_cell(t.condition)} "
            f"| {t.step.label}{' (urgent)' if t.urgent else ''} | {_cell(alternatives)} "
            f"| {t.evidence_level.label} | {cites} |"
        )
    (outdir / "transitions.md").write_text("\n".join(rows) + "\n", encoding="utf-8")
    written.append("transitions.md")
    return written
