"""The pathway's modifiers: their roles are data (pathway.toml ``applies``/``adds``).

Climbing the ladder past a failed treatment is code (decision_pathway_failed_not_repeated);
which modifier explains it, which notes go into every rationale, which citations every
recommendation carries and which text is its evidence note are the knowledge base's.
"""

from __future__ import annotations

import copy

import pytest

from cluneal import KnowledgeBase, KnowledgeBaseError, next_step
from cluneal.diagnosis import BlockResult, Findings, PainPattern, TenderPoint
from cluneal.knowledge import read_toml
from cluneal.pathway import CareHistory, InterventionOutcome

FINDINGS = Findings(
    pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
    tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
    block=BlockResult(branches={"superior"}, relief_percent=80, relief_duration="2 weeks"),
)
# RFA failed, then the block's temporary relief would propose RFA again: the ladder climbs.
FAILED_RFA = CareHistory(
    outcomes=(
        InterventionOutcome(
            intervention="radiofrequency_ablation", relief_percent=10, relief_duration="1 week"
        ),
        InterventionOutcome(
            intervention="nerve_block", relief_percent=80, relief_duration="2 weeks"
        ),
    )
)


def _kb(edit: dict[str, dict[str, object]]) -> KnowledgeBase:
    raw = copy.deepcopy(read_toml("pathway.toml"))
    for modifier in raw["modifier"]:
        modifier.update(edit.get(modifier["rule_id"], {}))
    return KnowledgeBase.from_documents({"pathway.toml": raw}, version="modifiers")


def test_the_built_in_roles() -> None:
    """Every recommendation: the alongside note ends the rationale, the evidence note and
    citations come from pathway.evidence; a climbed rung's skip note comes before them."""
    rec = next_step(FINDINGS)
    assert rec.rules_fired[-2:] == ("pathway.alongside", "pathway.evidence")
    assert rec.rationale.endswith("alongside the interventional steps.")
    assert rec.evidence_note.startswith("No guideline-level algorithm exists")
    assert "gill_2022" in rec.citations
    climbed = next_step(FINDINGS, FAILED_RFA)
    assert "pathway.skip_failed" in climbed.rules_fired
    skip = climbed.rationale.index("A treatment that failed before is not proposed again")
    assert skip < climbed.rationale.index("alongside the interventional steps")


def test_what_a_modifier_adds_is_data() -> None:
    """Without ``adds``, a modifier is reported by rule id only; with citations, they are added."""
    kb = _kb(
        {
            "pathway.alongside": {"adds": ["citations"]},
            "pathway.skip_failed": {"adds": []},
        }
    )
    rec = next_step(FINDINGS, knowledge=kb)
    assert "pathway.alongside" in rec.rules_fired
    assert "alongside the interventional steps" not in rec.rationale
    assert "finnerup_2015" in rec.citations
    climbed = next_step(FINDINGS, FAILED_RFA, knowledge=kb)
    assert "pathway.skip_failed" in climbed.rules_fired
    assert "not proposed again" not in climbed.rationale
    assert climbed.step == next_step(FINDINGS, FAILED_RFA).step


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        ({"pathway.alongside": {"applies": "failed_step"}}, "failed step"),
        ({"pathway.skip_failed": {"applies": "always"}}, "failed step"),
        ({"pathway.evidence": {"adds": ["citations"]}}, "evidence note"),
        ({"pathway.alongside": {"adds": ["evidence_note"]}}, "evidence note"),
        ({"pathway.alongside": {"applies": "sometimes"}}, "applies"),
    ],
)
def test_roles_that_do_not_fit_are_refused(
    edit: dict[str, dict[str, object]], problem: str
) -> None:
    """One modifier explains a climbed rung, one gives the evidence note; others are refused."""
    with pytest.raises(KnowledgeBaseError, match=problem):
        _kb(edit)
