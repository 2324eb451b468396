"""Issue 15: the pathway diagram as an SVG that renders offline, from the same data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

import cluneal
from cluneal import Findings, UnknownTermError, next_step
from cluneal.pathway import PathwayStep
from cluneal.pathway_diagram import pathway_edges, pathway_svg

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the package's own output, not untrusted input


def _texts(svg: str) -> list[str]:
    root = _parse(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_svg_is_well_formed_standalone_and_scriptless() -> None:
    svg = pathway_svg()
    root = _parse(svg)  # well-formed XML
    assert root.tag == f"{SVG}svg"
    tags = {element.tag.removeprefix(SVG) for element in root.iter()}
    assert tags.isdisjoint({"script", "foreignObject", "image", "use"})
    assert "href" not in svg  # nothing loaded from anywhere
    assert cluneal.pathway_svg is pathway_svg


def test_every_step_and_every_condition_is_drawn() -> None:
    words = " ".join(" ".join(_texts(pathway_svg())).replace("\u2022", " ").split())
    for step in PathwayStep:
        assert " ".join(step.label.split()) in words or all(
            part in words for part in step.label.split()
        ), step
    for _, _, condition, _ in pathway_edges():
        assert " ".join(condition.split()) in words, condition


def test_a_recommendation_highlights_its_step_and_transition() -> None:
    findings = Findings.model_validate(
        {
            "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
            "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
            "block": {"branches": ["superior"], "relief_percent": 80, "relief_duration": "2 weeks"},
        }
    )
    recommendation = next_step(findings)
    assert recommendation.step is PathwayStep.RADIOFREQUENCY_ABLATION
    svg = pathway_svg(recommendation)
    root = _parse(svg)
    highlighted = [
        g
        for g in root.iter(f"{SVG}g")
        if g.find(f"{SVG}rect").get("fill") == "#ffe08a"  # type: ignore[union-attr]
    ]
    assert len(highlighted) == 1
    assert "Radiofrequency ablation" in "".join(
        t.text or "" for t in highlighted[0].iter(f"{SVG}text")
    )
    lines = [p for p in root.iter(f"{SVG}polyline") if p.get("stroke") == "#b8860b"]
    assert len(lines) == 1  # the block -> RFA arrow
    assert "#ffe08a" not in pathway_svg()  # nothing highlighted without a position


def test_unknown_step_is_refused() -> None:
    with pytest.raises(UnknownTermError):
        pathway_svg("no_such_step")
