"""The treatment pathway drawn as an SVG image, Mermaid or Graphviz DOT, from the same data.

Every renderer reads :func:`cluneal.pathway.pathway_transitions`, so the picture
can never disagree with the rules :func:`cluneal.pathway.next_step` applies.
Given a recommendation (or a step), the patient's current position is
highlighted: the step node and the transition that led there.

:func:`pathway_svg` draws the picture itself, in pure Python: no script, no
font download and no Graphviz, so it renders offline in a browser, the docs
and a notebook. The ladder of treatments (every node with an outgoing edge)
runs down the middle in the order the transitions are listed; each end point
(a node with no outgoing edge, such as *maintain* and *reassess diagnosis*) is
a tall box at a side, and each rung's arrows to it are labelled with their
conditions. Parallel transitions between the same two nodes share one arrow,
one condition per line.

Example:
    >>> text = pathway_mermaid()
    >>> text.splitlines()[0]
    'flowchart TD'
    >>> "radiofrequency_ablation" in pathway_dot()
    True
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from html import escape
from typing import Final

from cluneal.errors import UnknownTermError
from cluneal.pathway import PathwayStep, Recommendation, pathway_transitions

__all__ = ["pathway_dot", "pathway_edges", "pathway_mermaid", "pathway_svg"]

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


# --- SVG ---------------------------------------------------------------------------

_FONT: Final = "Helvetica, Arial, sans-serif"
_CHAR_W: Final = 6.1  # average advance of 11 px Helvetica, for wrapping and sizing
_LINE_H: Final = 14
_WRAP: Final = 30  # characters per line of an edge label
_BOX_W: Final = 190
_BOX_H: Final = 36
_SIDE_W: Final = 120
_ROW_GAP: Final = 26
_MARGIN: Final = 16
_STROKE: Final = "#57606a"
_FILL: Final = "#f6f8fa"


@dataclass(frozen=True, slots=True)
class _Arrow:
    origin: str
    target: str
    lines: tuple[str, ...]
    highlighted: bool


def _wrapped(conditions: list[str]) -> tuple[str, ...]:
    # Several conditions on one arrow: one bullet each, continuation lines indented.
    bullet, indent = ("\u2022 ", "   ") if len(conditions) > 1 else ("", "")
    lines: list[str] = []
    for condition in conditions:
        lines.extend(
            textwrap.wrap(condition, _WRAP, initial_indent=bullet, subsequent_indent=indent)
            or [bullet]
        )
    return tuple(lines)


def _arrows(rule: str | None) -> list[_Arrow]:
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for origin, target, label, rule_id in pathway_edges():
        grouped.setdefault((origin, target), []).append((label, rule_id))
    return [
        _Arrow(
            origin,
            target,
            _wrapped([label for label, _ in members]),
            any(rule_id == rule for _, rule_id in members),
        )
        for (origin, target), members in grouped.items()
    ]


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        'style="white-space:pre">'
        f"{escape(text)}</text>"
    )


def _box(x: float, y: float, w: float, h: float, label: str, *, current: bool) -> str:
    fill, stroke, width = (
        (_HIGHLIGHT_FILL, _HIGHLIGHT_STROKE, 3) if current else (_FILL, _STROKE, 1.2)
    )
    lines = textwrap.wrap(label, max(8, int((w - 12) / (_CHAR_W * 1.1))))
    top = y + h / 2 - (len(lines) - 1) * _LINE_H / 2 + 4
    texts = "".join(
        _text(x + w / 2, top + i * _LINE_H, line, size=12) for i, line in enumerate(lines)
    )
    return (
        f'<g class="node"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>{texts}</g>'
    )


def _line(points: list[tuple[float, float]], *, highlighted: bool) -> str:
    colour, width = (_HIGHLIGHT_STROKE, 3) if highlighted else (_STROKE, 1.3)
    marker = "arrow-hi" if highlighted else "arrow"
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return (
        f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
        f'marker-end="url(#{marker})"/>'
    )


def _label(x: float, y: float, lines: tuple[str, ...], anchor: str) -> str:
    return "".join(_text(x, y + i * _LINE_H, line, anchor=anchor) for i, line in enumerate(lines))


@dataclass(frozen=True, slots=True)
class _Layout:
    x_mid: float
    rows: dict[str, float]  # top of each ladder box
    sides: dict[str, tuple[float, str]]  # x and side of each end box
    width: float
    height: float
    ladder_bottom: float


def _layout(labels: dict[str, str], arrows: list[_Arrow]) -> tuple[list[str], list[str], _Layout]:
    sources = {a.origin for a in arrows if a.origin != a.target}
    # Rungs in the order the transitions are listed (the red-flag check of any
    # visit first), end points in the order of the steps.
    ladder = list(dict.fromkeys(a.origin for a in arrows if a.origin in sources))
    ends = [n for n in labels if n not in sources and any(a.target == n for a in arrows)]
    left, right = ends[0::2], ends[1::2]
    widest = max((len(line) for a in arrows for line in a.lines), default=10) * _CHAR_W
    gap = widest + 30
    side_cols = max(len(left), len(right), 1)
    column = _SIDE_W + 10
    x_mid = _MARGIN + side_cols * column + gap
    x_right = x_mid + _BOX_W + gap
    rows: dict[str, float] = {}
    y = float(_MARGIN)
    for name in ladder:
        # A rung is as tall as its box or its tallest label to a side.
        tallest = max(
            (len(a.lines) for a in arrows if a.origin == name and a.target in ends), default=0
        )
        # Side labels sit above their arrow: half the rung holds them.
        height = max(_BOX_H, 2 * (tallest * _LINE_H + 6))
        rows[name] = y + (height - _BOX_H) / 2
        below = max(
            (len(a.lines) for a in arrows if a.origin == name and a.target in ladder), default=0
        )
        y += height + _ROW_GAP + below * _LINE_H
    sides: dict[str, tuple[float, str]] = {}
    for i, name in enumerate(left):
        sides[name] = (_MARGIN + (len(left) - 1 - i) * column, "left")  # first is innermost
    for i, name in enumerate(right):
        sides[name] = (x_right + i * column, "right")
    width = x_right + side_cols * column + _MARGIN
    return ladder, ends, _Layout(x_mid, rows, sides, width, y + _MARGIN, y - _ROW_GAP / 2)


def _arrow_svg(arrow: _Arrow, layout: _Layout) -> str:
    top = layout.rows[arrow.origin]
    x_mid, cy, hi = layout.x_mid, top + _BOX_H / 2, arrow.highlighted
    if arrow.target in layout.sides:
        x_box, side = layout.sides[arrow.target]
        first = cy - 5 - (len(arrow.lines) - 1) * _LINE_H
        if side == "right":
            start = x_mid + _BOX_W
            return _line([(start, cy), (x_box - 2, cy)], highlighted=hi) + _label(
                start + 8, first, arrow.lines, "start"
            )
        return _line([(x_mid, cy), (x_box + _SIDE_W + 2, cy)], highlighted=hi) + _label(
            x_mid - 8, first, arrow.lines, "end"
        )
    bottom = top + _BOX_H
    if arrow.target == arrow.origin:
        x0, x1 = x_mid + _BOX_W * 0.7, x_mid + _BOX_W * 0.9
        loop = [(x1, bottom), (x1, bottom + 10), (x0, bottom + 10), (x0, bottom + 2)]
        return _line(loop, highlighted=hi) + _label(x1 + 6, bottom + 12, arrow.lines, "start")
    x = x_mid + _BOX_W * 0.3
    down = [(x, bottom), (x, layout.rows[arrow.target] - 2)]
    return _line(down, highlighted=hi) + _label(x - 8, bottom + 14, arrow.lines, "end")


def pathway_svg(current: Recommendation | PathwayStep | str | None = None) -> str:
    """Render the pathway as a standalone SVG image.

    Args:
        current: A recommendation (highlights its step and the transition that
            fired) or a step (highlights the step), or ``None``.

    Returns:
        SVG markup (``<svg>...</svg>``), text escaped, no script.

    Raises:
        UnknownTermError: ``current`` is not a step.

    Example:
        >>> svg = pathway_svg("maintain")
        >>> svg.count('stroke="#b8860b"') >= 1
        True
    """
    node, rule = _current(current)
    labels = _labels()
    arrows = _arrows(rule)
    ladder, _, layout = _layout(labels, arrows)
    side_height = layout.ladder_bottom - _MARGIN
    parts = [
        _box(x, _MARGIN, _SIDE_W, side_height, labels[name], current=name == node)
        for name, (x, _) in layout.sides.items()
    ]
    parts += [
        _box(layout.x_mid, layout.rows[name], _BOX_W, _BOX_H, labels[name], current=name == node)
        for name in ladder
    ]
    parts += [_arrow_svg(a, layout) for a in arrows if a.origin in layout.rows]
    markers = "".join(
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" '
        f'fill="{colour}"/></marker>'
        for name, colour in (("arrow", _STROKE), ("arrow-hi", _HIGHLIGHT_STROKE))
    )
    width, height = f"{layout.width:.0f}", f"{layout.height:.0f}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{_FONT}" fill="#1f2328" '
        'role="img" aria-label="Treatment pathway of cluneal neuralgia">'
        f"<title>Treatment pathway</title><defs>{markers}</defs>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>{"".join(parts)}</svg>'
    )
