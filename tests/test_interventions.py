"""Tests of cluneal.interventions: procedures as a discriminated union, and their evidence.

Figures come from clinical.md Part A3 and Part D items 7 and 8.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from cluneal import KnowledgeBaseError
from cluneal.diagnosis import Guidance, NerveBranch
from cluneal.evidence import EvidenceLevel, citation
from cluneal.interventions import (
    Intervention,
    InterventionEvidence,
    NerveBlock,
    PeripheralNerveStimulation,
    Procedure,
    RadiofrequencyAblation,
    SurgicalDecompression,
    evidence_for,
    parse_procedure,
)
from cluneal.knowledge.interventions import intervention_evidence, parse_intervention_evidence

RECORDS: list[tuple[dict[str, Any], type[BaseModel]]] = [
    (
        {
            "kind": "nerve_block",
            "guidance": "landmark",
            "local_anaesthetic": "lidocaine",
            "corticosteroid": "triamcinolone",
            "target_branches": ["superior"],
            "side": "left",
        },
        NerveBlock,
    ),
    (
        {
            "kind": "radiofrequency_ablation",
            "technique": "pulsed",
            "guidance": "ultrasound",
            "target_branches": ["superior", "middle"],
        },
        RadiofrequencyAblation,
    ),
    (
        {
            "kind": "peripheral_nerve_stimulation",
            "mode": "implanted",
            "guidance": "fluoroscopy",
            "target_branches": ["superior"],
        },
        PeripheralNerveStimulation,
    ),
    (
        {
            "kind": "surgical_decompression",
            "technique": "neurectomy",
            "target_branches": ["middle"],
        },
        SurgicalDecompression,
    ),
]


def test_intervention_values() -> None:
    """API.md Pathway: Intervention has NERVE_BLOCK, RADIOFREQUENCY_ABLATION,
    PERIPHERAL_NERVE_STIMULATION, SURGICAL_DECOMPRESSION."""
    assert [i.value for i in Intervention] == [
        "nerve_block",
        "radiofrequency_ablation",
        "peripheral_nerve_stimulation",
        "surgical_decompression",
    ]


@pytest.mark.parametrize(("record", "cls"), RECORDS, ids=lambda v: getattr(v, "__name__", ""))
def test_discriminated_union(record: dict[str, Any], cls: type[BaseModel]) -> None:
    """The union picks the model from `kind`, whose values are the Intervention values."""
    procedure = parse_procedure(record)
    assert type(procedure) is cls
    assert procedure.intervention.value == record["kind"]
    assert procedure.kind == record["kind"]


@pytest.mark.parametrize(("record", "cls"), RECORDS, ids=lambda v: getattr(v, "__name__", ""))
def test_json_round_trip(record: dict[str, Any], cls: type[BaseModel]) -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m; JSON text parses too."""
    procedure = parse_procedure(record)
    text = procedure.model_dump_json()
    assert cls.model_validate_json(text) == procedure
    assert parse_procedure(text) == procedure
    assert parse_procedure(text.encode()) == procedure
    assert TypeAdapter(Procedure).validate_json(text) == procedure


def test_rfa_checks_default_on() -> None:
    """Part A3: the RFA series used sensory stimulation to confirm placement and motor testing
    to exclude a distal motor response: both default to True."""
    rfa = RadiofrequencyAblation(
        technique="conventional", guidance=Guidance.FLUOROSCOPY, target_branches={"superior"}
    )
    assert rfa.sensory_stimulation_confirmation is True
    assert rfa.motor_testing is True
    assert rfa.target_branches == {NerveBranch.SUPERIOR}


def test_block_without_corticosteroid() -> None:
    """Brief: the injectate is a local anaesthetic with an optional corticosteroid."""
    block = NerveBlock(guidance="ct", local_anaesthetic="bupivacaine", target_branches={"middle"})
    assert block.corticosteroid is None
    assert block.side is None


@pytest.mark.parametrize(
    ("record", "field"),
    [
        pytest.param({"kind": "acupuncture"}, "acupuncture", id="unknown-kind"),
        pytest.param({"technique": "neurolysis"}, "kind", id="missing-kind"),
        pytest.param({**RECORDS[0][0], "guidance": "mri"}, "guidance", id="bad-guidance"),
        pytest.param({**RECORDS[0][0], "target_branches": []}, "target_branches", id="no-branch"),
        pytest.param(
            {**RECORDS[0][0], "local_anaesthetic": "saline"}, "local_anaesthetic", id="la"
        ),
        pytest.param({**RECORDS[1][0], "motor_testing": "yes"}, "motor_testing", id="str-bool"),
        pytest.param({**RECORDS[1][0], "technique": "laser"}, "technique", id="technique"),
        pytest.param({**RECORDS[2][0], "mode": "wireless"}, "mode", id="pns-mode"),
        pytest.param({**RECORDS[3][0], "extra": 1}, "extra", id="extra-field"),
    ],
)
def test_bad_procedures_are_refused(record: dict[str, Any], field: str) -> None:
    """API.md: bad input is refused with pydantic's ValidationError naming the field."""
    with pytest.raises(ValidationError) as info:
        parse_procedure(record)
    assert field in str(info.value)


def test_parse_procedure_refuses_non_mappings() -> None:
    """No Python internals escape on bad input: only ValidationError."""
    for bad in (None, 3, ["nerve_block"], "not json"):
        with pytest.raises(ValidationError):
            parse_procedure(bad)


# --- Evidence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervention", "level"),
    [
        (Intervention.NERVE_BLOCK, EvidenceLevel.PROSPECTIVE_COHORT),
        (Intervention.RADIOFREQUENCY_ABLATION, EvidenceLevel.CASE_SERIES),
        (Intervention.PERIPHERAL_NERVE_STIMULATION, EvidenceLevel.CASE_SERIES),
        (Intervention.SURGICAL_DECOMPRESSION, EvidenceLevel.CASE_SERIES),
    ],
)
def test_evidence_levels(intervention: Intervention, level: EvidenceLevel) -> None:
    """Part A3-A4: blocks rest on one prospective uncontrolled study (Kuniya 2014); RFA, PNS
    and surgery on case series only; every citation resolves."""
    evidence = evidence_for(intervention)
    assert evidence.intervention is intervention
    assert evidence.level is level
    assert evidence.key_figures
    assert evidence.caveats
    for citation_id in evidence.citations:
        assert citation(citation_id).id == citation_id
    assert evidence_for(intervention.value) == evidence


def test_rfa_figures_are_framed_honestly() -> None:
    """Part D7: 78.3% (36/46) with ongoing relief at a *mean follow-up* of 92.1 days (range
    13-308), 92.3% mean analgesia *among responders*, 21.7% relapsed, one retrospective
    single-centre series with unconfirmed title and authors."""
    evidence = evidence_for("radiofrequency_ablation")
    figures = " ".join(evidence.key_figures)
    caveats = " ".join(evidence.caveats)
    assert "36 of 46 (78.3%)" in figures
    assert "mean follow-up of 92.1 days (range 13-308)" in figures
    assert "92.3% analgesia" in figures
    assert "among those 36 responders" in figures
    assert "10 of 46 (21.7%)" in figures
    assert "not a fixed 3-month endpoint" in caveats
    assert "not a mean reduction across all 46 patients" in caveats
    assert "title and authors could not be confirmed" in caveats
    assert "retrospective" in caveats
    assert "scn_rfa_series" in evidence.citations


def test_block_evidence_names_guidance_and_thresholds() -> None:
    """Part D8: the literature also uses landmark and ultrasound guidance; thresholds range
    from >50% for >=2 h to >=70% at 1 h."""
    caveats = " ".join(evidence_for("nerve_block").caveats)
    assert "landmark" in caveats
    assert "ultrasound" in caveats
    assert "at least 70% at 1 h" in caveats


def test_pns_and_surgery_figures() -> None:
    """Part A3: PNS 5 of 6 >50% improvement; MCN surgery recurrence 6/32 sides (18.8%)."""
    pns = PeripheralNerveStimulation(
        mode="temporary_percutaneous", guidance="ultrasound", target_branches={"superior"}
    )
    assert "5 of 6" in pns.evidence.key_figures[0]
    surgery = SurgicalDecompression(technique="neurolysis", target_branches={"middle"})
    assert any("6 of 32" in f and "18.8%" in f for f in surgery.evidence.key_figures)


def test_evidence_round_trip() -> None:
    """API.md round trip, for the evidence model."""
    evidence = evidence_for(Intervention.SURGICAL_DECOMPRESSION)
    assert InterventionEvidence.model_validate_json(evidence.model_dump_json()) == evidence


def test_evidence_for_refuses_unknown() -> None:
    """No Python internals (KeyError) escape: an unknown intervention is a ValidationError."""
    with pytest.raises(ValidationError):
        evidence_for("prolotherapy")


def _raw() -> dict[str, Any]:
    path = resources.files("cluneal.knowledge") / "interventions.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_knowledge_base_has_one_entry_per_intervention() -> None:
    """STYLE: the knowledge base is complete and every citation resolves."""
    raw = _raw()
    assert sorted(e["intervention"] for e in raw["evidence"]) == sorted(Intervention)
    assert set(intervention_evidence()) == set(Intervention)


def _text() -> str:
    path = resources.files("cluneal.knowledge") / "interventions.toml"
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("evidence = 3", "interventions.toml", id="shape"),
        pytest.param(
            "[[evidence]]".join(_text().split("[[evidence]]")[:4]),
            "exactly one entry",
            id="missing-entry",
        ),
        pytest.param(
            _text().replace('citations = ["kuniya_2014"', 'citations = ["nobody_2099"'),
            "nobody_2099",
            id="bad-citation",
        ),
    ],
)
def test_broken_evidence_table_is_refused(text: str, problem: str) -> None:
    """STYLE: the knowledge base is validated when loaded (KnowledgeBaseError): every
    intervention needs one entry and every citation id must resolve."""
    with pytest.raises(KnowledgeBaseError, match=problem):
        parse_intervention_evidence(tomllib.loads(text))
