"""The loader of diagnosis.toml: validated when loaded, every citation resolving."""

from __future__ import annotations

import tomllib
from importlib import resources
from types import MappingProxyType
from typing import Any

import pytest

from cluneal import (
    InvalidArgumentError,
    KnowledgeBase,
    KnowledgeBaseError,
    diagnosis,
    knowledge_base,
)
from cluneal.diagnosis import (
    BlockResult,
    DiagnosticClass,
    Findings,
    NeuroExam,
    PainPattern,
    TenderPoint,
    assess_diagnosis,
    criterion_definitions,
    landmark,
    literature_block_thresholds,
)
from cluneal.evidence import citation
from cluneal.interventions import evidence_for
from cluneal.knowledge.diagnosis import diagnosis_table, parse_diagnosis_table
from cluneal.pathway import pathway_transitions
from cluneal.vocabulary import Intervention


def _raw_table() -> dict[str, Any]:
    path = resources.files("cluneal.knowledge") / "diagnosis.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_knowledge_base_citations_resolve() -> None:
    """STYLE: a test loads the knowledge base and checks every citation id resolves."""
    raw = _raw_table()
    ids = [
        c
        for section in ("criterion", "landmark", "red_flag", "classification")
        for entry in raw[section]
        for c in entry["citations"]
    ]
    ids += [entry["citation"] for entry in raw["block_threshold"]]
    for citation_id in ids:
        assert citation(citation_id).id == citation_id
    assert raw["default_block_threshold_percent"] == 50.0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            {"criterion": list(reversed(_raw_table()["criterion"]))}, "in order", id="order"
        ),
        pytest.param(
            {"criterion": [{**c, "number": 1} for c in _raw_table()["criterion"]]},
            "numbered",
            id="numbers",
        ),
        pytest.param(
            {"criterion": [{**c, "examine_text": None} for c in _raw_table()["criterion"]]},
            "examine_text",
            id="examine-text",
        ),
        pytest.param({"landmark": _raw_table()["landmark"][:1]}, "landmark", id="landmark"),
        pytest.param(
            {"landmark": [{**m, "site": "other"} for m in _raw_table()["landmark"]]},
            "'other'",
            id="other-site",
        ),
        pytest.param({"red_flag": _raw_table()["red_flag"][:2]}, "red flags", id="red-flags"),
        pytest.param(
            {"classification": _raw_table()["classification"][:2]},
            "classification",
            id="classes",
        ),
        pytest.param(
            {"classification": [{**c, "action": "{nope}"} for c in _raw_table()["classification"]]},
            "unknown placeholders",
            id="placeholder",
        ),
        pytest.param(
            {"classification": [{**c, "action": "{"} for c in _raw_table()["classification"]]},
            "template",
            id="bad-template",
        ),
        pytest.param(
            {"block_threshold": [{"study": "x", "threshold": "y", "citation": "nobody_2099"}]},
            "nobody_2099",
            id="citation",
        ),
    ],
)
def test_broken_knowledge_base_is_refused(change: dict[str, Any], problem: str) -> None:
    """STYLE: the knowledge base is validated when loaded, with a KnowledgeBaseError."""
    with pytest.raises(KnowledgeBaseError, match=problem):
        parse_diagnosis_table({**_raw_table(), **change})


def test_unreadable_knowledge_base_is_refused() -> None:
    """STYLE: a file that is not the right shape is a KnowledgeBaseError naming it."""
    with pytest.raises(KnowledgeBaseError, match=r"diagnosis\.toml"):
        parse_diagnosis_table({"criterion": 3})


def test_the_built_in_base_holds_the_loaded_table() -> None:
    """The built-in knowledge base holds the table the loader reads, once."""
    assert knowledge_base().diagnosis is diagnosis_table()
    assert parse_diagnosis_table(_raw_table()) == diagnosis_table()


def test_a_document_replaces_the_table() -> None:
    """KnowledgeBase.from_documents validates diagnosis.toml through the same loader."""
    raw = _raw_table()
    raw["default_block_threshold_percent"] = 60.0
    kb = KnowledgeBase.from_documents({"diagnosis.toml": raw}, version="dx-60")
    assert kb.diagnosis.default_block_threshold_percent == 60.0
    with pytest.raises(KnowledgeBaseError, match="landmark"):
        KnowledgeBase.from_documents({"diagnosis.toml": {**raw, "landmark": raw["landmark"][:1]}})


def test_the_table_readers_take_knowledge() -> None:
    """Issue 11: landmark(), literature_block_thresholds() and criterion_definitions() read the
    knowledge base they are given, not the built-in file."""
    raw = _raw_table()
    raw["landmark"][0]["from_midline_mm"] = 65.0
    raw["block_threshold"] = raw["block_threshold"][:2]
    raw["criterion"][0]["name"] = "Pain history"
    kb = KnowledgeBase.from_documents({"diagnosis.toml": raw}, version="dx-test")
    assert landmark("superior", knowledge=kb).from_midline_mm == 65.0
    assert landmark("superior").from_midline_mm == 70.0  # diagnosis.toml, Kuniya 2014
    assert len(literature_block_thresholds(knowledge=kb)) == 2
    assert criterion_definitions(knowledge=kb)[0][1] == "Pain history"
    with pytest.raises(InvalidArgumentError, match="knowledge"):
        landmark("superior", knowledge={"version": "1"})  # type: ignore[arg-type]


def test_the_old_threshold_constant_is_deprecated() -> None:
    """DEFAULT_BLOCK_THRESHOLD_PERCENT stays importable as a deprecated alias of the table's
    value (clinical.md 0.7: 50%); any other missing name is still an AttributeError."""
    with pytest.warns(DeprecationWarning, match="default_block_threshold_percent"):
        value = diagnosis.DEFAULT_BLOCK_THRESHOLD_PERCENT
    assert value == 50.0
    with pytest.raises(AttributeError, match="NO_SUCH_NAME"):
        _ = diagnosis.NO_SUCH_NAME


def test_other_readers_take_knowledge() -> None:
    """evidence_for() and pathway_transitions() read the knowledge base they are given."""
    base = knowledge_base()
    figures = ("one figure",)
    nerve_block = base.interventions[Intervention.NERVE_BLOCK]
    changed = dict(base.interventions)
    changed[Intervention.NERVE_BLOCK] = nerve_block.model_copy(update={"key_figures": figures})
    kb = base.replace(version="iv-test", interventions=MappingProxyType(changed))
    assert evidence_for("nerve_block", knowledge=kb).key_figures == figures
    assert evidence_for("nerve_block").key_figures != figures
    pathway = base.pathway.model_copy(update={"transitions": base.pathway.transitions[:3]})
    kb = base.replace(version="pw-test", pathway=pathway)
    assert len(pathway_transitions(knowledge=kb)) == 3


def _triad(relief: float) -> Findings:
    return Findings(
        pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
        tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
        block=BlockResult(branches={"superior"}, relief_percent=relief),
        neuro=NeuroExam(motor_weakness=True),
    )


def test_the_classification_is_data() -> None:
    """Issue 11: each classification rule says when it applies in the one criteria language;
    the first that holds applies (decision_diagnostic_classification: the triad met with a red
    flag is probable). A base whose confirmed rule ignores red flags confirms instead."""
    assert assess_diagnosis(_triad(80)).classification is DiagnosticClass.PROBABLE
    raw = _raw_table()
    confirmed = next(c for c in raw["classification"] if c["id"] == "confirmed")
    confirmed["when"] = {"triad_met": True}
    kb = KnowledgeBase.from_documents({"diagnosis.toml": raw}, version="no-red-flags")
    assert assess_diagnosis(_triad(80), knowledge=kb).classification is DiagnosticClass.CONFIRMED
    # A failed criterion is unlikely whatever the rest (the first rule).
    assert assess_diagnosis(_triad(20)).classification is DiagnosticClass.UNLIKELY


def test_the_last_classification_rule_always_applies() -> None:
    """The loader refuses a table whose last rule has criteria: some findings would match none."""
    raw = _raw_table()
    raw["classification"][-1]["when"] = {"red_flag": True}
    with pytest.raises(KnowledgeBaseError, match="must always apply"):
        parse_diagnosis_table(raw)
