"""Package decisions: one registry entry per decision, marked as a decision, never "unverified".

The contract (another part of the package builds a "Clinical decisions" page from it):
decisions resolve through :func:`cluneal.evidence.citation`; ids start with ``decision_``;
the mark is :attr:`SourceMark.DECISION`, shown as "package decision"; each has a title, a
statement, a rationale and the citation ids it rests on; none points at internal notes.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest

from cluneal import Drug, knowledge_base
from cluneal.errors import KnowledgeBaseError, UnknownTermError
from cluneal.evidence import Citation, Decision, SourceMark, all_decisions, citation
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import ProtocolName, rule_text


def test_every_decision_honours_the_contract() -> None:
    """Each decision: id decision_*, mark decision, title, statement, rationale, sources that
    resolve to citations, and no identifier or url pointing at internal notes."""
    decisions = all_decisions()
    assert len(decisions) >= 30
    for d in decisions:
        assert d.id.startswith("decision_")
        assert citation(d.id) is d
        assert d.mark is SourceMark.DECISION
        assert d.mark.label == "package decision"
        assert d.verified
        assert d.title and d.statement and d.rationale
        for source in d.sources:
            assert source != d.id
            assert citation(source).id == source
        for text in (d.identifier or "", d.url or ""):
            assert "clinical.md" not in text and "shared/" not in text
        assert "unverified" not in str(d)
        assert str(d).endswith("[package decision]")


# The Part 0 lines each decision stands for (clinical.md 0.2-0.10), checked by id.
DECISIONS = [
    ("decision_renal_band_boundaries", "0.2 Band boundaries", "gabapentin_label"),
    ("decision_unknown_renal_function", "0.2 unknown renal function", "tramadol_label"),
    ("decision_dialysis_lowest_band", "0.9 Dialysis: G5D", "kdigo_2012"),
    ("decision_lowest_cap_wins", "0.3 caps", "nortriptyline_label"),
    ("decision_start_low", "0.4 start low", "beers_2023"),
    ("decision_round_down_marketed_strengths", "0.4 rounding", "gabapentin_label"),
    ("decision_doses_per_day_never_fall", "0.9 first bullet", "pregabalin_label"),
    ("decision_largest_total_at_or_below", "0.9 second bullet", "gabapentin_label"),
    ("decision_largest_single_dose", "0.9 third bullet", "tramadol_label"),
    ("decision_first_step_day_0", "0.9 fourth bullet", "gabapentin_label"),
    ("decision_dialysis_supplements_follow_maintenance", "0.9 fifth bullet", "pregabalin_label"),
    ("decision_hypersensitivity", "0.10 first bullet", "carbamazepine_label"),
    ("decision_screen_every_listed_drug", "0.10 second bullet", "tramadol_label"),
    ("decision_carbamazepine_induction", "0.10 third bullet", "carbamazepine_label"),
    ("decision_ideal_body_weight_from_152_cm", "0.10 fourth bullet", "devine_1974"),
    ("decision_obesity_weight_basis", "0.10 fifth bullet", "cockcroft_gault_1976"),
    ("decision_low_creatinine_older_adult", "0.10 sixth bullet", "cockcroft_gault_1976"),
    ("decision_not_a_number_refused", "0.10 seventh bullet", "beers_2023"),
]


@pytest.mark.parametrize(("decision_id", "line", "source"), DECISIONS)
def test_part_0_decisions_are_registered(decision_id: str, line: str, source: str) -> None:
    """Every Part 0 decision the package applies has its own entry, resting on its source."""
    d = citation(decision_id)
    assert isinstance(d, Decision), line
    assert source in d.sources


def test_the_single_part_0_citation_is_gone() -> None:
    """The catch-all GK citation is replaced by one entry per decision."""
    with pytest.raises(UnknownTermError):
        citation("cluneal_part0")


def _rules(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "citation" in node and "rule_id" in node else []
        return found + [r for v in node.values() for r in _rules(v)]
    if isinstance(node, list):
        return [r for item in node for r in _rules(item)]
    return []


def _knowledge_files() -> list[str]:
    root = resources.files("cluneal.knowledge")
    files = [f.name for f in root.iterdir() if f.name.endswith(".toml")]
    return files + [f"monographs/{f.name}" for f in root.joinpath("monographs").iterdir()]


def test_rules_citing_a_decision_are_marked_as_decisions() -> None:
    """A rule that rests on a package decision carries the decision mark, never GK."""
    checked = 0
    for name in _knowledge_files():
        for rule in _rules(read_toml(name)):
            if str(rule["citation"]).startswith("decision_") and "mark" in rule:
                assert rule["mark"] == "decision", (name, rule["rule_id"])
                checked += 1
    assert checked >= 15


def test_no_output_text_mentions_internal_notes() -> None:
    """Outputs never mention the internal reference: every value in the knowledge base."""

    def strings(node: Any) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, dict):
            return [s for v in node.values() for s in strings(v)]
        if isinstance(node, list):
            return [s for item in node for s in strings(item)]
        return []

    for name in _knowledge_files():
        for text in strings(read_toml(name)):
            assert "clinical.md" not in text, (name, text)


def test_a_decision_pointing_at_internal_notes_is_refused() -> None:
    """The contract: no identifier or url pointing at internal notes; the mark is 'decision'."""
    base = {
        "id": "decision_x",
        "title": "t",
        "year": 2026,
        "statement": "s",
        "rationale": "r",
    }
    with pytest.raises(ValueError, match="internal notes"):
        Decision.model_validate({**base, "identifier": "shared/clinical.md#part-0"})
    with pytest.raises(ValueError, match="mark"):
        Decision.model_validate({**base, "mark": "GK"})
    with pytest.raises(ValueError, match="decision_"):
        Decision.model_validate({**base, "id": "part0"})
    assert isinstance(Decision.model_validate(base), Citation)


def test_registry_errors_are_knowledge_base_errors() -> None:
    """A decision resting on an unknown source fails the load with a KnowledgeBaseError."""
    from cluneal.evidence import parse_citations
    from cluneal.knowledge import read_toml

    decisions = read_toml("decisions.toml")
    broken = {"decision": [{**decisions["decision"][0], "sources": ["no_such_source"]}]}
    files = [("citations.toml", read_toml("citations.toml"))]
    with pytest.raises(KnowledgeBaseError, match="unknown sources"):
        parse_citations(files, broken)
    assert "kuniya_2014" in parse_citations(files, {"decision": []})


def _quotes() -> list[tuple[str, str]]:
    """Phrases of decision statements, each rebuilt from the knowledge base's own values."""
    kb = knowledge_base()
    mono = kb.monographs

    def start(drug: Drug, name: ProtocolName) -> str:
        return rule_text(mono[drug].protocol(name), kb, "{start_dose_mg:g} mg {start_times}")

    def cap(drug: Drug, suffix: str, template: str) -> str:
        rule = next(c for c in mono[drug].caps if c.rule_id.endswith(suffix))
        return rule_text(rule, kb, template)

    standard, low = ProtocolName.STANDARD, ProtocolName.START_LOW
    gabapentin = {b.band.value: b for b in mono[Drug.GABAPENTIN].renal_bands}
    single = mono[Drug.TRAMADOL].max_single_dose
    solution = mono[Drug.GABAPENTIN].solution
    assert single is not None and solution is not None
    return [
        *(
            ("decision_default_protocols", f"{d.value} {start(d, standard)}")
            for d in (Drug.PREGABALIN, Drug.CARBAMAZEPINE, Drug.TRAMADOL)
        ),
        ("decision_default_protocols", f"tramadol {start(Drug.TRAMADOL, low)} (weekly"),
        (
            "decision_round_down_marketed_strengths",
            rule_text(
                solution, kb, "the gabapentin oral solution below {crcl_severe_lower:g} mL/min"
            ),
        ),
        (
            "decision_tramadol_crcl_30_restricted",
            cap(
                Drug.TRAMADOL,
                ".renal",
                "'CrCl < {crcl_moderate_lower:g} mL/min: every {every_hours:g} h, "
                "at most {max_mg_day:g} mg/day'",
            ),
        ),
        (
            "decision_doses_per_day_never_fall",
            "gabapentin " + " / ".join(str(gabapentin[b].max_doses_per_day) for b in gabapentin),
        ),
        (
            "decision_doses_per_day_never_fall",
            cap(Drug.TRAMADOL, ".renal", "or {max_doses_per_day} every {every_hours:g} h"),
        ),
        (
            "decision_largest_single_dose",
            f"gabapentin {gabapentin['normal'].max_single_dose_mg:g} mg",
        ),
        (
            "decision_largest_single_dose",
            f"tramadol {single.max_mg:g} mg, and "
            + cap(
                Drug.TRAMADOL,
                ".hepatic",
                "{max_single_dose_mg:g} mg under the hepatic cap "
                "({max_single_dose_mg:g} mg every {every_hours:g} h)",
            ),
        ),
    ]


def test_decision_statements_quote_the_knowledge_base() -> None:
    """A decision's statement is documentation (the decisions page), not computed text.

    It states the values it decided in words a reviewer signs off; where those
    values live in the knowledge base, each quote is rebuilt from the data here,
    so a changed value fails this test until its decision is reworded.
    """
    for decision_id, phrase in _quotes():
        decision = citation(decision_id)
        assert isinstance(decision, Decision)
        assert phrase in decision.statement, (decision_id, phrase)
