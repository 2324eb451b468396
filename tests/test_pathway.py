"""The treatment pathway: every transition and alternative of clinical.md Part 0.8."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from cluneal import Q_, KnowledgeBase, KnowledgeBaseError
from cluneal.diagnosis import BlockResult, Findings, NeuroExam, PainPattern, TenderPoint
from cluneal.errors import ClunealError, InvalidQuantityError
from cluneal.evidence import EvidenceLevel, citation
from cluneal.interventions import Intervention
from cluneal.knowledge import read_toml
from cluneal.knowledge.pathway import parse_pathway_table
from cluneal.pathway import (
    CareHistory,
    InterventionOutcome,
    OutcomeClass,
    PathwayStep,
    Recommendation,
    classify_outcome,
    next_step,
    pathway_transitions,
)
from cluneal.pathway_diagram import pathway_dot, pathway_edges, pathway_mermaid

PAIN = PainPattern(low_back_pain=True, deep_aching_poorly_localized=True)
SCN_POINT = TenderPoint(site="iliac_crest", reproduces_pain=True)
MCN_POINT = TenderPoint(site="caudal_to_psis", reproduces_pain=True)


def _findings(
    *,
    relief: float | None = None,
    duration: str | None = None,
    branches: tuple[str, ...] = ("superior",),
    points: tuple[TenderPoint, ...] = (SCN_POINT,),
    neuro: NeuroExam | None = None,
) -> Findings:
    block = None
    if relief is not None:
        block = BlockResult(branches=set(branches), relief_percent=relief, relief_duration=duration)
    return Findings(pain=PAIN, tender_points=points, block=block, neuro=neuro)


def _history(*items: tuple[str, float, str | None]) -> CareHistory:
    return CareHistory(
        outcomes=tuple(
            InterventionOutcome(intervention=i, relief_percent=r, relief_duration=d)
            for i, r, d in items
        )
    )


# clinical.md 0.8, steps 1-8, one row per transition.
CASES: list[tuple[str, Findings, CareHistory, PathwayStep, str]] = [
    (
        "nothing known",
        Findings(),
        CareHistory(),
        PathwayStep.INITIAL_EVALUATION,
        "pathway.incomplete",
    ),
    (
        "tender point not examined",
        Findings(pain=PAIN),
        CareHistory(),
        PathwayStep.INITIAL_EVALUATION,
        "pathway.incomplete",
    ),
    (
        "no tender point found",
        Findings(pain=PAIN, tender_points=()),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.criteria_not_met",
    ),
    (
        "pain pattern not met",
        Findings(
            pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=False),
            tender_points=(SCN_POINT,),
        ),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.criteria_not_met",
    ),
    (
        "red flag: weakness",
        _findings(neuro=NeuroExam(motor_weakness=True)),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.red_flag",
    ),
    (
        "red flag before anything is known",
        Findings(neuro=NeuroExam(straight_leg_raise=True)),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.red_flag",
    ),
    (
        "bladder or bowel: urgent",
        Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True)),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.urgent_red_flag",
    ),
    (
        "triad 1+2, no block",
        _findings(),
        CareHistory(),
        PathwayStep.DIAGNOSTIC_BLOCK,
        "pathway.block_indicated",
    ),
    (
        "block negative",
        _findings(relief=30),
        CareHistory(),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.block_negative",
    ),
    (
        "block lasting 12 weeks",
        _findings(relief=80, duration="12 weeks"),
        CareHistory(),
        PathwayStep.MAINTAIN,
        "pathway.block_lasting",
    ),
    (
        "block duration unknown",
        _findings(relief=80),
        CareHistory(),
        PathwayStep.MAINTAIN,
        "pathway.block_duration_unknown",
    ),
    (
        "block temporary",
        _findings(relief=80, duration="11 weeks"),
        CareHistory(),
        PathwayStep.RADIOFREQUENCY_ABLATION,
        "pathway.block_temporary",
    ),
    (
        "repeat block lasting",
        _findings(relief=80, duration="1 week"),
        _history(("nerve_block", 80, "16 weeks")),
        PathwayStep.MAINTAIN,
        "pathway.repeat_block_lasting",
    ),
    (
        "repeat block temporary",
        _findings(relief=80, duration="1 week"),
        _history(("nerve_block", 80, "2 weeks")),
        PathwayStep.RADIOFREQUENCY_ABLATION,
        "pathway.repeat_block_temporary",
    ),
    (
        "RFA lasting",
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 90, "20 weeks")),
        PathwayStep.MAINTAIN,
        "pathway.rfa_lasting",
    ),
    (
        "RFA failed",
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 10, None)),
        PathwayStep.PERIPHERAL_NERVE_STIMULATION,
        "pathway.rfa_failed",
    ),
    (
        "RFA pain returned early",
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 95, "6 weeks")),
        PathwayStep.PERIPHERAL_NERVE_STIMULATION,
        "pathway.rfa_failed",
    ),
    (
        "RFA duration unknown",
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 95, None)),
        PathwayStep.MAINTAIN,
        "pathway.duration_unknown",
    ),
    (
        "PNS lasting",
        _findings(relief=80, duration="1 week"),
        _history(
            ("radiofrequency_ablation", 10, None), ("peripheral_nerve_stimulation", 70, "6 months")
        ),
        PathwayStep.MAINTAIN,
        "pathway.pns_lasting",
    ),
    (
        "PNS failed",
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 10, None), ("peripheral_nerve_stimulation", 20, None)),
        PathwayStep.SURGICAL_DECOMPRESSION,
        "pathway.pns_failed",
    ),
    (
        "surgery lasting",
        _findings(relief=80, duration="1 week"),
        _history(("surgical_decompression", 90, "1 year")),
        PathwayStep.MAINTAIN,
        "pathway.surgery_lasting",
    ),
    (
        "surgery failed",
        _findings(relief=80, duration="1 week"),
        _history(("surgical_decompression", 10, "1 year")),
        PathwayStep.REASSESS_DIAGNOSIS,
        "pathway.surgery_failed",
    ),
]


@pytest.mark.parametrize(
    ("label", "findings", "history", "step", "transition"), CASES, ids=[c[0] for c in CASES]
)
def test_every_transition(
    label: str, findings: Findings, history: CareHistory, step: PathwayStep, transition: str
) -> None:
    """clinical.md 0.8: each transition leads to its step, and says which rule fired."""
    rec = next_step(findings, history)
    assert rec.step is step, label
    assert rec.transition == transition
    assert transition in rec.rules_fired
    assert rec.rationale
    assert rec.citations
    assert "expert opinion built on case series" in rec.evidence_note


def test_every_transition_is_reachable() -> None:
    """STYLE.md: every rule of the knowledge base is reachable."""
    reached = {c[4] for c in CASES} | {"pathway.ladder_exhausted"}
    assert reached == {t.rule_id for t in pathway_transitions()}


def test_urgent_flag_is_set() -> None:
    """clinical.md 0.8: bladder or bowel dysfunction: urgent."""
    rec = next_step(Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True)))
    assert rec.urgent
    assert "URGENT" in str(rec)


def test_lasting_relief_is_a_parameter() -> None:
    """clinical.md 0.8: lasting means >= 12 weeks by default, a parameter."""
    findings = _findings(relief=80, duration="8 weeks")
    assert next_step(findings).step is PathwayStep.RADIOFREQUENCY_ABLATION
    rec = next_step(findings, lasting_relief="6 weeks")
    assert rec.step is PathwayStep.MAINTAIN
    assert rec.lasting_relief == Q_(6, "week")


def test_block_threshold_is_a_parameter() -> None:
    """clinical.md 0.7: the block threshold is a parameter (Kiral used >= 70%)."""
    findings = _findings(relief=60, duration="2 weeks")
    assert next_step(findings).step is PathwayStep.RADIOFREQUENCY_ABLATION
    assert next_step(findings, block_threshold=70).step is PathwayStep.REASSESS_DIAGNOSIS


def test_failed_treatments_are_not_proposed_again() -> None:
    """clinical.md 0.8: earlier failures are remembered."""
    rec = next_step(
        _findings(relief=80, duration="1 week"),
        _history(("radiofrequency_ablation", 10, None), ("nerve_block", 80, "2 weeks")),
    )
    assert rec.step is PathwayStep.PERIPHERAL_NERVE_STIMULATION
    assert "pathway.skip_failed" in rec.rules_fired
    assert PathwayStep.RADIOFREQUENCY_ABLATION not in rec.alternatives


def test_ladder_exhausted_reassesses() -> None:
    """When every rung has failed, the diagnosis is reassessed rather than a failure repeated."""
    rec = next_step(
        _findings(relief=80, duration="1 week"),
        _history(
            ("radiofrequency_ablation", 10, None),
            ("peripheral_nerve_stimulation", 10, None),
            ("surgical_decompression", 10, None),
            ("nerve_block", 80, "1 week"),
        ),
    )
    assert rec.step is PathwayStep.REASSESS_DIAGNOSIS
    assert rec.transition == "pathway.ladder_exhausted"


@pytest.mark.parametrize(
    ("findings", "history", "expected"),
    [
        # 5. temporary block: repeat blocks (up to 3) or surgical decompression (Isu 2018)
        (
            _findings(relief=80, duration="2 weeks"),
            CareHistory(),
            (PathwayStep.DIAGNOSTIC_BLOCK, PathwayStep.SURGICAL_DECOMPRESSION),
        ),
        # after 3 blocks in all, no further repeat block is offered
        (
            _findings(relief=80, duration="2 weeks"),
            _history(("nerve_block", 80, "2 weeks"), ("nerve_block", 80, "2 weeks")),
            (PathwayStep.SURGICAL_DECOMPRESSION,),
        ),
        # 7. RFA failed: surgical decompression instead of PNS
        (
            _findings(relief=80, duration="2 weeks"),
            _history(("radiofrequency_ablation", 0, None)),
            (PathwayStep.SURGICAL_DECOMPRESSION,),
        ),
        # 6. lasting RFA: repeat RFA if pain returns
        (
            _findings(relief=80, duration="2 weeks"),
            _history(("radiofrequency_ablation", 90, "6 months")),
            (PathwayStep.RADIOFREQUENCY_ABLATION,),
        ),
        # 4. lasting block: repeat block when pain returns
        (_findings(relief=80, duration="13 weeks"), CareHistory(), (PathwayStep.DIAGNOSTIC_BLOCK,)),
        # 3. negative block: block the other branch when its tender point exists
        (
            _findings(relief=20, points=(SCN_POINT, MCN_POINT)),
            CareHistory(),
            (PathwayStep.DIAGNOSTIC_BLOCK,),
        ),
        # ... but not when there is no other tender point
        (_findings(relief=20), CareHistory(), ()),
        # 8. PNS failed: surgery, nothing else
        (
            _findings(relief=80, duration="2 weeks"),
            _history(
                ("radiofrequency_ablation", 0, None), ("peripheral_nerve_stimulation", 0, None)
            ),
            (),
        ),
    ],
)
def test_alternatives(
    findings: Findings, history: CareHistory, expected: tuple[PathwayStep, ...]
) -> None:
    """clinical.md 0.8: each step offers its alternatives where they fit."""
    rec = next_step(findings, history)
    assert rec.alternatives == expected
    assert len(rec.alternative_options) == len(expected)
    for option in rec.alternative_options:
        assert option.description


def test_other_branch_alternative_names_the_branch() -> None:
    """clinical.md 0.8 step 3: block the other branch if its tender point exists."""
    rec = next_step(_findings(relief=20, points=(SCN_POINT, MCN_POINT)))
    assert "middle branch" in rec.alternative_options[0].description


def test_negative_block_ignores_later_history_and_says_so() -> None:
    """A negative diagnostic block decides; later treatments are noted, not used."""
    rec = next_step(_findings(relief=20), _history(("radiofrequency_ablation", 90, "20 weeks")))
    assert rec.step is PathwayStep.REASSESS_DIAGNOSIS
    assert "were not used" in rec.rationale


def test_pharmacotherapy_alongside_is_stated() -> None:
    """clinical.md 0.8: pharmacotherapy and complementary care alongside, throughout."""
    rec = next_step(_findings())
    assert "pathway.alongside" in rec.rules_fired
    assert "pharmacotherapy" in rec.rationale


def test_branches_are_reported() -> None:
    """The step concerns the branch or branches found."""
    rec = next_step(_findings(points=(SCN_POINT, MCN_POINT)))
    assert {b.value for b in rec.target_branches} == {"superior", "middle"}


def test_accepts_json_mappings() -> None:
    """Services pass JSON: findings and history as mappings work the same."""
    rec = next_step(
        {
            "pain": {"low_back_pain": True, "deep_aching_poorly_localized": True},
            "tender_points": [{"site": "iliac_crest", "reproduces_pain": True}],
            "block": {
                "branches": ["superior"],
                "relief_percent": 80,
                "relief_duration": {"value": 2, "unit": "wk"},
            },
        },
        {"outcomes": [{"intervention": "radiofrequency_ablation", "relief_percent": 0}]},
    )
    assert rec.step is PathwayStep.PERIPHERAL_NERVE_STIMULATION


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"findings": 42}, ClunealError),
        ({"findings": Findings(), "history": "none"}, ClunealError),
        ({"findings": {"pain": "yes"}}, ValidationError),
        ({"findings": Findings(), "lasting_relief": 12}, InvalidQuantityError),
        ({"findings": Findings(), "lasting_relief": "0 weeks"}, InvalidQuantityError),
        ({"findings": Findings(), "block_threshold": 0}, ClunealError),
        ({"findings": Findings(), "block_threshold": 101}, ClunealError),
    ],
)
def test_bad_arguments_fail_closed(kwargs: dict[str, Any], error: type[Exception]) -> None:
    """Principle 3: bad input is a clear error, never a TypeError or KeyError."""
    with pytest.raises(error):
        next_step(**kwargs)


@pytest.mark.parametrize(
    ("relief", "duration", "expected"),
    [
        (49.9, None, OutcomeClass.FAILED),
        (50, None, OutcomeClass.DURATION_UNKNOWN),
        (50, Q_(83, "day"), OutcomeClass.TEMPORARY),
        (50, Q_(84, "day"), OutcomeClass.LASTING),
        (100, Q_(3, "month"), OutcomeClass.LASTING),
    ],
)
def test_classify_outcome(relief: float, duration: Any, expected: OutcomeClass) -> None:
    """Lasting relief: >= 12 weeks (84 days); response: >= the threshold."""
    assert classify_outcome(relief, duration) is expected


def test_outcome_model_validation() -> None:
    """Bad outcomes are refused with a clear error naming the field."""
    with pytest.raises(ValidationError, match="relief_percent"):
        InterventionOutcome(intervention="nerve_block", relief_percent=140)
    with pytest.raises(ValidationError, match="relief_duration"):
        InterventionOutcome(intervention="nerve_block", relief_percent=50, relief_duration=3)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="intervention"):
        InterventionOutcome(intervention="massage", relief_percent=50)
    assert (
        InterventionOutcome(
            intervention=Intervention.NERVE_BLOCK, relief_percent=50
        ).relief_duration
        is None
    )


def test_recommendation_json_round_trip() -> None:
    """API.md: M.model_validate_json(m.model_dump_json()) == m."""
    rec = next_step(_findings(relief=80, duration="2 weeks"), _history(("nerve_block", 60, None)))
    assert Recommendation.model_validate_json(rec.model_dump_json()) == rec


def test_transition_data_is_valid() -> None:
    """Every transition has a rule id, a resolvable citation and an evidence level."""
    ids = [t.rule_id for t in pathway_transitions()]
    assert len(ids) == len(set(ids))
    for t in pathway_transitions():
        assert t.rule_id.startswith("pathway.")
        for c in t.citations:
            citation(c)
        for alt in t.alternatives:
            for c in alt.citations:
                citation(c)
        assert isinstance(t.evidence_level, EvidenceLevel)


def test_ladder_is_labelled_expert_opinion() -> None:
    """clinical.md A4: the ladder is expert opinion built on case series: say so."""
    for t in pathway_transitions():
        if t.step in {
            PathwayStep.RADIOFREQUENCY_ABLATION,
            PathwayStep.PERIPHERAL_NERVE_STIMULATION,
            PathwayStep.SURGICAL_DECOMPRESSION,
        }:
            assert t.evidence_level is EvidenceLevel.EXPERT_OPINION


def test_diagrams_share_the_data_and_highlight_the_position() -> None:
    """The diagram is drawn from the same transitions, with the current step highlighted."""
    edges = pathway_edges()
    mermaid = pathway_mermaid()
    dot = pathway_dot()
    assert len([line for line in mermaid.splitlines() if "-->" in line]) == len(edges)
    assert len([line for line in dot.splitlines() if " -> " in line]) == len(edges)
    rec = next_step(_findings(relief=80, duration="2 weeks"))
    highlighted = pathway_mermaid(rec)
    assert "class radiofrequency_ablation current" in highlighted
    assert "linkStyle" in highlighted
    dot_hl = pathway_dot(rec)
    assert (
        'radiofrequency_ablation [label="Radiofrequency ablation", style="rounded,filled,bold"'
        in dot_hl
    )
    assert "penwidth=3" in dot_hl
    assert "class maintain current" in pathway_mermaid(PathwayStep.MAINTAIN)
    assert "penwidth" not in pathway_dot("maintain")


def _pathway_doc() -> dict[str, Any]:
    return read_toml("pathway.toml")


def test_the_entry_routing_is_data() -> None:
    """Issue 11: the entry checks are pathway.toml's [[routing.entry]], criteria over the
    assessment's facts; a knowledge base that orders them otherwise routes otherwise."""
    urgent = Findings(neuro=NeuroExam(bladder_bowel_dysfunction=True))
    assert next_step(urgent).transition == "pathway.urgent_red_flag"
    doc = _pathway_doc()
    entry = doc["routing"]["entry"]
    doc["routing"]["entry"] = [entry[1], entry[0], *entry[2:]]
    kb = KnowledgeBase.from_documents({"pathway.toml": doc}, version="entry-order")
    assert next_step(urgent, knowledge=kb).transition == "pathway.red_flag"


def test_no_entry_route_means_the_treatment_routing() -> None:
    """When no entry route holds (a positive block), the outcome routing decides."""
    findings = _findings(relief=80, duration="2 weeks")
    assert next_step(findings).transition == "pathway.block_temporary"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"transition": "pathway.nowhere"}, "unknown transitions"),
        ({"history_note": "{count} of {total}"}, "unknown placeholders"),
        ({"history_note": "{"}, "history_note"),
        ({"when": {"no_such_fact": True}}, "pathway.toml"),
    ],
)
def test_a_broken_entry_route_is_refused(change: dict[str, Any], problem: str) -> None:
    """The loader refuses an entry route naming an unknown transition, fact or placeholder."""
    doc = _pathway_doc()
    doc["routing"]["entry"][-1] = {**doc["routing"]["entry"][-1], **change}
    with pytest.raises(KnowledgeBaseError, match=problem):
        parse_pathway_table(doc)


def test_the_alternatives_are_offered_by_criteria() -> None:
    """The repeat-block alternative holds while blocks are left (Kuniya 2014: up to 3 in all);
    its criteria are data, so a base that drops them offers it even after three blocks."""
    three = _history(("nerve_block", 80, "2 weeks"), ("nerve_block", 80, "2 weeks"))
    findings = _findings(relief=80, duration="1 week")
    rec = next_step(findings, three)
    assert all("given so far" not in a.description for a in rec.alternative_options)
    doc = _pathway_doc()
    for transition in doc["transition"]:
        for alternative in transition.get("alternatives", []):
            alternative.pop("when", None)
    kb = KnowledgeBase.from_documents({"pathway.toml": doc}, version="always")
    offered = next_step(findings, three, knowledge=kb).alternative_options
    assert "another repeat block, up to 3 in all (3 given so far)" in [
        a.description for a in offered
    ]


def test_a_broken_alternative_detail_is_refused() -> None:
    """An alternative's detail may use only {branches} and {blocks_given}."""
    doc = _pathway_doc()
    block_negative = next(t for t in doc["transition"] if t["rule_id"] == "pathway.block_negative")
    block_negative["alternatives"][0]["detail"] = " ({nope})"
    with pytest.raises(KnowledgeBaseError, match="unknown placeholders"):
        parse_pathway_table(doc)
