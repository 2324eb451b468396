"""Draw the package's import graph as layers (an SVG in pure Python, no Graphviz).

Called by conf.py at every build, so the picture on the architecture page is the
code's own import graph: every ``import`` of a cluneal module, including those
inside functions, except ``if TYPE_CHECKING:`` blocks (the same rule as the
import-cycle check). A module's layer is the length of its longest chain of
imports down to a module that imports no other cluneal module; every arrow
therefore points down the page.
"""

from __future__ import annotations

import ast
import html
import pathlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

_SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
_BOX_W, _BOX_H, _GAP_X, _GAP_Y, _MARGIN = 150, 24, 14, 46, 20


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(_SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _in_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If):
            test = node.test
            name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", "")
            if name == "TYPE_CHECKING":
                return True
    return False


def _imports(path: pathlib.Path, module: str, known: set[str]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if _in_type_checking(node, parents):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # "from cluneal import renal" imports a module; "from cluneal.renal import x",
            # the module cluneal.renal.
            names = [f"{base}.{a.name}" for a in node.names]
            names = [n for n in names if n in known] or [base]
        for imported in names:
            # The longest known module the name starts with (a module, not an attribute).
            found = imported
            while found and found not in known:
                found = found.rpartition(".")[0]
            if found and found != module:
                yield found


def import_graph() -> dict[str, set[str]]:
    """Every cluneal module and the cluneal modules it imports (the root package left out)."""
    paths = {_module_name(p): p for p in (_SRC / "cluneal").rglob("*.py")}
    known = set(paths)
    graph = {m: set(_imports(p, m, known)) - {"cluneal"} for m, p in paths.items()}
    graph.pop("cluneal", None)
    return graph


def layers(graph: dict[str, set[str]]) -> dict[str, int]:
    """Each module's layer: 0 imports nothing of cluneal, n imports something of n - 1."""
    level: dict[str, int] = {}

    def visit(module: str, path: tuple[str, ...]) -> int:
        if module in path:
            msg = f"import cycle: {' -> '.join((*path, module))}"
            raise ValueError(msg)
        if module not in level:
            deps = [visit(d, (*path, module)) for d in graph.get(module, ())]
            level[module] = 1 + max(deps, default=-1)
        return level[module]

    for module in sorted(graph):
        visit(module, ())
    return level


def architecture_svg() -> str:
    """The import graph as an SVG: one row per layer, layer 0 at the bottom."""
    graph = import_graph()
    level = layers(graph)
    rows: dict[int, list[str]] = {}
    for module in sorted(level):
        rows.setdefault(level[module], []).append(module)
    top = max(rows)
    width = max(len(r) for r in rows.values()) * (_BOX_W + _GAP_X) + 2 * _MARGIN
    height = (top + 1) * (_BOX_H + _GAP_Y) + 2 * _MARGIN
    where: dict[str, tuple[float, float]] = {}
    for n, modules in rows.items():
        row_w = len(modules) * (_BOX_W + _GAP_X) - _GAP_X
        x0 = (width - row_w) / 2
        y = _MARGIN + (top - n) * (_BOX_H + _GAP_Y)
        for i, module in enumerate(modules):
            where[module] = (x0 + i * (_BOX_W + _GAP_X), y)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
            f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
            'font-family="Helvetica, Arial, sans-serif" font-size="11">'
        ),
        "<title>cluneal: import graph by layer (arrows point down)</title>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
    ]
    for module in sorted(graph):
        x, y = where[module]
        for dep in sorted(graph[module]):
            dx, dy = where[dep]
            parts.append(
                f'<line x1="{x + _BOX_W / 2:.1f}" y1="{y + _BOX_H:.1f}" '
                f'x2="{dx + _BOX_W / 2:.1f}" y2="{dy:.1f}" stroke="#9aa5b1" '
                'stroke-width="0.7" stroke-opacity="0.6"/>'
            )
    for module, (x, y) in sorted(where.items()):
        label = html.escape(module.removeprefix("cluneal."))
        private = module.rpartition(".")[2].startswith("_")
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{_BOX_W}" height="{_BOX_H}" rx="4" '
            f'fill="{"#f4f6f8" if private else "#e8f0fb"}" stroke="#3d5a80"/>'
            f'<text x="{x + _BOX_W / 2:.1f}" y="{y + _BOX_H / 2 + 4:.1f}" '
            f'text-anchor="middle" fill="#1b263b">{label}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


# The layers a reader should see, bottom first: (name, what it holds, modules). A module
# may import only from its own layer or those below (tests/test_architecture.py checks
# every import, naming the exceptions still to remove). Sub-packages are named by prefix.
LAYERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "foundations",
        "errors, vocabularies, units, the model base; the built-in data the inputs read",
        (
            "errors",
            "_vocabulary",
            "vocabulary",
            "_patterns",
            "_numbers",
            "_lazy_text",
            "_memo",
            "_base",
            "_checks",
            "_unit_table",
            "_quantity_readers",
            "_quantity_schema",
            "units",
            "knowledge",
            "knowledge.parameters",
            "knowledge.medications",
        ),
    ),
    (
        "inputs",
        "the patient, the findings, the care history: data with no rules",
        (
            "patient",
            "findings",
            "history",
            "alerts",
            "evidence",
            "drug",
            "renal_equations",
            "_renal_weight",
        ),
    ),
    (
        "knowledge",
        "one loader per data file, the criteria language, KnowledgeBase",
        ("knowledge.",),
    ),
    (
        "rules",
        "pure functions over inputs and a knowledge base",
        (
            "renal",
            "_renal_assess",
            "diagnosis",
            "_triad",
            "titration",
            "titration.",
            "_compose",
            "safety",
            "pathway",
            "_pathway_keys",
            "interventions",
            "complementary",
            "_protocol_rules",
            "protocol",
        ),
    ),
    ("plan", "the care plan", ("plan", "_first_line", "_plan_json")),
    (
        "presentation and interfaces",
        "what people and other systems read",
        (
            "display",
            "report",
            "plotting",
            "dataframe",
            "_html",
            "_format",
            "_renal_display",
            "_simulation_plot",
            "pathway_diagram",
            "simulation",
            "simulation.",
            "case",
            "cli",
            "__main__",
            "fhir",
            "fhir.",
            "service",
            "service.",
            "cohort",
            "cohort.",
        ),
    ),
)


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of a module (``cluneal.x``): exact names before prefixes."""
    name = module.removeprefix("cluneal.")
    for exact in (True, False):
        for index, (_, _, members) in enumerate(LAYERS):
            for member in members:
                is_prefix = member.endswith(".")
                if (exact and not is_prefix and name == member) or (
                    not exact and is_prefix and name.startswith(member)
                ):
                    return index
    msg = f"{module} is in no layer of docs/_architecture.py's LAYERS"
    raise KeyError(msg)


def layers_svg() -> str:
    """The layers as bands, bottom first, each with its modules (public ones in bold)."""
    graph = import_graph()
    bands: dict[int, list[str]] = {}
    for module in sorted(graph):
        bands.setdefault(layer_of(module), []).append(module.removeprefix("cluneal."))
    per_row, box_w, box_h, gap = 8, 165, 22, 8
    label_w = 210
    width = label_w + per_row * (box_w + gap) + 2 * _MARGIN
    # Each band fits its rows of modules and its three lines of description.
    heights = [
        max(60, ((len(bands.get(i, [])) + per_row - 1) // per_row) * (box_h + gap) + 2 * gap)
        for i in range(len(LAYERS))
    ]
    height = sum(heights) + 2 * _MARGIN + (len(LAYERS) - 1) * 14
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
            'font-size="11">'
        ),
        "<title>cluneal: the layers; imports point down</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    y = height - _MARGIN
    for index, (name, what, _) in enumerate(LAYERS):
        band_h = heights[index]
        y -= band_h
        parts.append(
            f'<rect x="{_MARGIN}" y="{y}" width="{width - 2 * _MARGIN}" height="{band_h}" '
            f'rx="6" fill="{"#eef3fa" if index % 2 else "#f7f9fc"}" stroke="#3d5a80"/>'
            f'<text x="{_MARGIN + 10}" y="{y + 20}" font-size="13" font-weight="bold" '
            f'fill="#1b263b">{html.escape(name)}</text>'
            f'<foreignObject x="{_MARGIN + 10}" y="{y + 26}" width="{label_w - 20}" '
            f'height="{band_h - 28}"><div xmlns="http://www.w3.org/1999/xhtml" '
            f'style="font-size:10px;color:#415a77">{html.escape(what)}</div></foreignObject>'
        )
        for i, module in enumerate(bands.get(index, [])):
            bx = _MARGIN + label_w + (i % per_row) * (box_w + gap)
            by = y + gap + (i // per_row) * (box_h + gap)
            private = module.rpartition(".")[2].startswith("_")
            weight = "" if private else ' font-weight="bold"'
            parts.append(
                f'<rect x="{bx}" y="{by}" width="{box_w}" height="{box_h}" rx="4" '
                f'fill="{"#f4f6f8" if private else "white"}" stroke="#778da9"/>'
                f'<text x="{bx + box_w / 2}" y="{by + box_h / 2 + 4}" text-anchor="middle" '
                f'fill="#1b263b"{weight}>'
                f"{html.escape(module)}</text>"
            )
        if index:
            ax = _MARGIN + label_w / 2
            parts.append(
                f'<text x="{ax}" y="{y + band_h + 11}" text-anchor="middle" fill="#778da9">'
                "imports point down</text>"
            )
        y -= 14
    parts.append("</svg>")
    return "\n".join(parts)


def write_architecture(outdir: pathlib.Path) -> list[str]:
    """Write ``architecture.svg`` and ``layers.svg`` into ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "architecture.svg").write_text(architecture_svg() + "\n", encoding="utf-8")
    (outdir / "layers.svg").write_text(layers_svg() + "\n", encoding="utf-8")
    return ["architecture.svg", "layers.svg"]
