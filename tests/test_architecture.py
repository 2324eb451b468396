"""Issue 11: imports point one way, and the architecture page's picture is the code's graph."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

DOCS = Path(__file__).resolve().parents[1] / "docs"

PRESENTATION = frozenset(
    {
        "cluneal.display",
        "cluneal.report",
        "cluneal.plotting",
        "cluneal.dataframe",
        "cluneal._html",
        "cluneal._renal_display",
    }
)
DOMAIN = frozenset(
    {
        "cluneal.patient",
        "cluneal.renal",
        "cluneal.diagnosis",
        "cluneal.titration",
        "cluneal.safety",
        "cluneal.pathway",
        "cluneal.plan",
        "cluneal.interventions",
        "cluneal.complementary",
    }
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_architecture", DOCS / "_architecture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle() -> None:
    """STYLE: no cycles, counting imports inside functions; every module gets a layer."""
    arch = _generator()
    graph = arch.import_graph()
    level = arch.layers(graph)
    assert set(level) == set(graph)
    assert all(level[dep] < level[m] for m, deps in graph.items() for dep in deps)
    assert "cluneal.knowledge.base" in graph
    assert "cluneal.knowledge.parameters" in graph["cluneal.patient"]


def test_a_cycle_is_reported() -> None:
    """The layering refuses a cycle, naming it."""
    with pytest.raises(ValueError, match="a -> b -> a"):
        _generator().layers({"a": {"b"}, "b": {"a"}})


def test_the_domain_never_imports_presentation() -> None:
    """STYLE: presentation imports the domain, never the reverse (models reach it by the hook)."""
    graph = _generator().import_graph()
    # A domain package's modules count too (cluneal.titration._models).
    domain = {m for m in graph if m in DOMAIN or m.rpartition(".")[0] in DOMAIN}
    assert "cluneal.titration._models" in domain
    found = {(m, dep) for m in domain for dep in graph[m] & PRESENTATION}
    assert found == set()


def test_the_picture_has_every_module(tmp_path: Path) -> None:
    """The architecture page's SVG is drawn from the graph: one box per module."""
    arch = _generator()
    arch.write_architecture(tmp_path)
    svg = (tmp_path / "architecture.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    for module in arch.import_graph():
        assert f">{module.removeprefix('cluneal.')}</text>" in svg


def test_vocabulary_and_findings_sit_at_the_bottom() -> None:
    """Principle 6: the vocabulary and the findings import no rule, knowledge or presentation."""
    graph = _generator().import_graph()
    assert graph["cluneal.vocabulary"] == {"cluneal._vocabulary"}
    inputs = {"cluneal._base", "cluneal.units", "cluneal.vocabulary"}
    assert graph["cluneal.findings"] == inputs
    assert graph["cluneal.history"] == inputs


# Imports that still point up a layer: none. (The medication catalogue's loader sits with the
# parameters loader in the foundations: both import only the error tree, the vocabulary and
# the file reader, and the inputs read the built-in data through them.)
UPWARD: frozenset[tuple[str, str]] = frozenset()


def test_every_import_points_down_the_layers() -> None:
    """STYLE and principle 6: vocabulary/units/errors -> inputs -> knowledge -> rules -> plan ->
    presentation; every module is in a layer of the architecture page, and imports only from
    its own layer or below (the exceptions still to remove are named)."""
    arch = _generator()
    graph = arch.import_graph()
    layer = {module: arch.layer_of(module) for module in graph}
    upward = {(m, dep) for m, deps in graph.items() for dep in deps if layer[dep] > layer[m]}
    assert upward <= UPWARD
    names = [name for name, _, _ in arch.LAYERS]
    assert names == ["foundations", "inputs", "knowledge", "rules", "plan",
                     "presentation and interfaces"]  # fmt: skip
    assert layer["cluneal.vocabulary"] == 0
    assert layer["cluneal.findings"] == 1
    assert layer["cluneal.knowledge.base"] == 2
    assert layer["cluneal.knowledge.medications"] == layer["cluneal.knowledge.parameters"] == 0


def test_a_module_outside_every_layer_is_named() -> None:
    """A new module must be placed in a layer before the docs build (and this test) pass."""
    with pytest.raises(KeyError, match=r"cluneal\.nowhere"):
        _generator().layer_of("cluneal.nowhere")


def test_the_layers_picture_has_every_module() -> None:
    """The layers SVG shows every module once, in its band."""
    arch = _generator()
    svg = arch.layers_svg()
    for module in arch.import_graph():
        assert f">{module.removeprefix('cluneal.')}</text>" in svg
    assert svg.count(">imports point down</text>") == len(arch.LAYERS) - 1
