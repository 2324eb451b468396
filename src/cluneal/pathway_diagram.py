"""The treatment pathway drawn as Mermaid or Graphviz DOT text, from the same data.

Both renderers read :func:`cluneal.pathway.pathway_transitions`, so the picture
can never disagree with the rules :func:`cluneal.pathway.next_step` applies.
Given a recommendation (or a step), the patient's current position is
highlighted: the step node and the transition that led there.

Example:
    >>> text = pathway_mermaid()
    >>> text.splitlines()[0]
    'flowchart TD'
    >>> "radiofrequency_ablation" in pathway_dot()
    True
"""

from __future__ import annotations

from typing import Final

from cluneal.errors import UnknownTermError
from cluneal.pathway import PathwayStep, Recommendation, pathway_transitions

__all__ = ["pathway_dot", "pathway_edges", "pathway_mermaid"]

_ANY: Final = "any_visit"
_HIGHLIGHT_FILL: Final = "#ffe08a"
_HIGHLIGHT_STROKE: Final = "#b8860b"


def _node_of(source: str) -> str | None:
    if source == "any":
        return _ANY
    if source == "nerve_block":
        # A repeat block starts from the block node of the ladder.
        return PathwayStep.DIAGNOSTIC_BLOCK.value
    if source in PathwayStep.__members__.values():
        return source
    return None  # "any_treatment" transitions are described in the table, not drawn


def pathway_edges() -> tuple[tuple[str, str, str, str], ...]:
    """Return the drawn edges as ``(from_node, to_node, label, rule_id)``.

    Returns:
        One edge per drawable transition, in knowledge-base order.

    Example:
        >>> pathway_edges()[0][:2]
        ('any_visit', 'reassess_diagnosis')
    """
    edges = []
    for t in pathway_transitions():
        origin = _node_of(t.source)
        if origin is not None:
            edges.append((origin, t.step.value, t.condition, t.rule_id))
    return tuple(edges)


def _current(current: Recommendation | PathwayStep | str | None) -> tuple[str | None, str | None]:
    if current is None:
        return None, None
    if isinstance(current, Recommendation):
        return current.step.value, current.transition
    try:
        return PathwayStep(current).value, None
    except ValueError:
        raise UnknownTermError("current", current, [s.value for s in PathwayStep]) from None


def _labels() -> dict[str, str]:
    labels = {step.value: step.label for step in PathwayStep}
    labels[_ANY] = "Any visit"
    return labels


def _mermaid_text(text: str) -> str:
    return text.replace('"', "'")


def pathway_mermaid(current: Recommendation | PathwayStep | str | None = None) -> str:
    """Render the pathway as a Mermaid flowchart.

    Args:
        current: A recommendation (highlights its step and the transition that
            fired) or a step (highlights the step), or ``None``.

    Returns:
        Mermaid source text.

    Example:
        >>> print(pathway_mermaid("maintain").splitlines()[-1])
            class maintain current
    """
    node, rule = _current(current)
    lines = ["flowchart TD"]
    lines.extend(f'    {key}["{label}"]' for key, label in _labels().items())
    highlighted: list[int] = []
    for index, (origin, target, label, rule_id) in enumerate(pathway_edges()):
        lines.append(f'    {origin} -->|"{_mermaid_text(label)}"| {target}')
        if rule_id == rule:
            highlighted.append(index)
    lines.append(
        f"    classDef current fill:{_HIGHLIGHT_FILL},stroke:{_HIGHLIGHT_STROKE},stroke-width:3px"
    )
    lines.extend(
        f"    linkStyle {i} stroke:{_HIGHLIGHT_STROKE},stroke-width:3px" for i in highlighted
    )
    if node is not None:
        lines.append(f"    class {node} current")
    return "\n".join(lines)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def pathway_dot(current: Recommendation | PathwayStep | str | None = None) -> str:
    """Render the pathway as Graphviz DOT.

    Args:
        current: A recommendation or a step to highlight, or ``None``.

    Returns:
        DOT source text.

    Example:
        >>> pathway_dot().splitlines()[0]
        'digraph cluneal_pathway {'
    """
    node, rule = _current(current)
    lines = [
        "digraph cluneal_pathway {",
        "    rankdir=TB;",
        '    node [shape=box, style="rounded", fontname="Helvetica"];',
        '    edge [fontname="Helvetica", fontsize=10];',
    ]
    for key, label in _labels().items():
        style = ""
        if key == node:
            style = f', style="rounded,filled,bold", fillcolor="{_HIGHLIGHT_FILL}"'
        lines.append(f'    {key} [label="{_dot_text(label)}"{style}];')
    for origin, target, label, rule_id in pathway_edges():
        extra = f', color="{_HIGHLIGHT_STROKE}", penwidth=3' if rule_id == rule else ""
        lines.append(f'    {origin} -> {target} [label="{_dot_text(label)}"{extra}];')
    lines.append("}")
    return "\n".join(lines)
