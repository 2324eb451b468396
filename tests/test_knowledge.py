"""The drug knowledge base loads, validates, and is internally consistent."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cluneal import Drug, KnowledgeBaseError, UnknownTermError, citation
from cluneal.evidence import SourceMark
from cluneal.knowledge import drugs as kb
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import (
    ProtocolName,
    all_monographs,
    monograph,
    parse_drug,
    titration_rule,
    titration_rules,
)
from cluneal.knowledge.safety_rules import safety_rules
from cluneal.renal import RenalBand

if TYPE_CHECKING:
    from pydantic import BaseModel


def _all_rules() -> list[tuple[str, str, SourceMark]]:
    rules = [(r.rule_id, r.citation, r.mark) for r in titration_rules().values()]
    for mono in all_monographs().values():
        rules += [(r.rule_id, r.citation, r.mark) for r in mono.rules()]
    rules += [(r.rule_id, r.citation, r.mark) for r in safety_rules()]
    return rules


def test_every_citation_resolves() -> None:
    """Every rule names a citation id that resolves (STYLE.md: knowledge is data)."""
    for rule_id, cite, _ in _all_rules():
        assert citation(cite).id == cite, rule_id


def test_every_rule_id_is_unique() -> None:
    """Rule ids are stable and unique across monographs, titration and safety rules."""
    ids = [rule_id for rule_id, _, _ in _all_rules()]
    assert len(ids) == len(set(ids))


def test_all_six_drugs_have_monographs() -> None:
    """Each of the six drugs has a standard and a start-low protocol and an adult cap."""
    monos = all_monographs()
    assert set(monos) == set(Drug)
    for mono in monos.values():
        assert {p.name for p in mono.protocols} == set(ProtocolName)
        assert mono.caps[0].when.always


@pytest.mark.parametrize(
    ("drug", "strengths"),
    [
        (Drug.NORTRIPTYLINE, [10, 25, 50, 75]),
        (Drug.CARBAMAZEPINE, [100, 200]),
        (Drug.GABAPENTIN, [100, 300, 400, 600, 800]),
        (Drug.PREGABALIN, [25, 50, 75, 100, 150, 200, 225, 300]),
        (Drug.TRAMADOL, [50]),
    ],
)
def test_strengths_follow_part_0_4(drug: Drug, strengths: list[int]) -> None:
    """The marketed strengths are those of clinical.md Part 0.4's table."""
    assert [s.mg for s in monograph(drug).strengths] == strengths


@pytest.mark.parametrize(
    ("drug", "cap"),
    [
        (Drug.NORTRIPTYLINE, 150),
        (Drug.CARBAMAZEPINE, 1200),
        (Drug.GABAPENTIN, 3600),
        (Drug.PREGABALIN, 600),
        (Drug.TRAMADOL, 400),
        (Drug.NALTREXONE, 4.5),
    ],
)
def test_adult_caps_follow_part_0_3(drug: Drug, cap: float) -> None:
    """The adult cap of each drug is clinical.md Part 0.3's."""
    assert monograph(drug).caps[0].max_mg_day == cap


@pytest.mark.parametrize(
    ("band", "columns", "doses"),
    [
        (RenalBand.NORMAL, (900, 1200, 1800, 2400, 3600), 3),
        (RenalBand.MODERATE, (400, 600, 800, 1000, 1400), 2),
        (RenalBand.SEVERE, (200, 300, 400, 500, 700), 1),
        (RenalBand.END_STAGE, (100, 125, 150, 200, 300), 1),
    ],
)
def test_gabapentin_table_1(band: RenalBand, columns: tuple[int, ...], doses: int) -> None:
    """Gabapentin label Table 1 (clinical.md Part B2): the 5 columns of each row."""
    rule = monograph(Drug.GABAPENTIN).band(band)
    assert rule.columns_mg_day == columns
    assert rule.max_doses_per_day == doses


def test_gabapentin_dialysis_supplements() -> None:
    """Label Table 1 post-haemodialysis row: 125, 150, 200, 250, 350 mg."""
    rows = monograph(Drug.GABAPENTIN).dialysis_supplements
    assert [r.supplement_mg for r in rows] == [125, 150, 200, 250, 350]
    assert [r.maintenance_from_mg_day for r in rows] == [100, 125, 150, 200, 300]


@pytest.mark.parametrize(
    ("band", "cap"),
    [
        (RenalBand.NORMAL, 600),
        (RenalBand.MODERATE, 300),
        (RenalBand.SEVERE, 150),
        (RenalBand.END_STAGE, 75),
    ],
)
def test_pregabalin_bands(band: RenalBand, cap: float) -> None:
    """Pregabalin bands (clinical.md Part 0.2): 150-600, 75-300, 25-150, 25-75 mg/day."""
    assert monograph(Drug.PREGABALIN).band(band).cap_mg_day == cap


def test_pregabalin_supplement_follows_label_not_droracle() -> None:
    """Part B2: 75 mg QD -> 100 or 150 mg (the droracle "75 or 100" is an error)."""
    last = monograph(Drug.PREGABALIN).dialysis_supplements[-1]
    assert (last.supplement_mg, last.alternative_mg) == (100, 150)


def test_gk_rules_are_unverified() -> None:
    """GK rules are reported as unverified (pregabalin's label cells are [GK], Part B2)."""
    rule = monograph(Drug.PREGABALIN).band(RenalBand.MODERATE)
    assert rule.mark is SourceMark.GK
    assert not rule.verified


def test_decision_rules_are_decisions_not_unverified() -> None:
    """Part 0 decisions are marked as decisions, not "unverified", and cite their decision."""
    rule = titration_rule("titration.rounding.down")
    assert rule.mark is SourceMark.DECISION
    assert rule.verified
    assert rule.citation == "decision_round_down_marketed_strengths"


def test_band_lookup_without_table_raises_key_error() -> None:
    """Drugs without a renal table have no band rules."""
    with pytest.raises(KeyError):
        monograph(Drug.NORTRIPTYLINE).band(RenalBand.SEVERE)


def test_unknown_titration_rule() -> None:
    """Unknown rule ids are a cluneal error naming the argument."""
    with pytest.raises(UnknownTermError, match="rule_id"):
        titration_rule("titration.nope")


@pytest.mark.parametrize("value", ["aspirin", 3, None])
def test_parse_drug_refuses_unknown(value: object) -> None:
    """An unknown drug is an UnknownTermError naming the argument."""
    with pytest.raises(UnknownTermError, match=r"^drug"):
        parse_drug(value)


def test_broken_monograph_raises_knowledge_base_error() -> None:
    """A malformed monograph raises KnowledgeBaseError when loaded."""
    data = {**read_toml("monographs/tramadol.toml"), "caps": []}
    with pytest.raises(KnowledgeBaseError, match="tramadol"):
        kb.parse_monograph(Drug.TRAMADOL, data)


def test_unknown_citation_raises_knowledge_base_error() -> None:
    """A rule citing an unknown source raises KnowledgeBaseError."""
    rules = list(read_toml("titration.toml")["rule"])
    rules[0] = {**rules[0], "citation": "no_such_source"}
    with pytest.raises(KnowledgeBaseError, match="no_such_source"):
        kb.parse_titration_rules({"rule": rules})


def test_monograph_citing_an_unknown_source_is_refused() -> None:
    """A monograph whose main citation does not resolve is refused, naming its file."""
    data = {**read_toml("monographs/nortriptyline.toml"), "citation": "no_such_source"}
    with pytest.raises(KnowledgeBaseError, match=r"nortriptyline\.toml.*no_such_source"):
        kb.parse_monograph(Drug.NORTRIPTYLINE, data)


def test_missing_file_raises_knowledge_base_error() -> None:
    """A missing data file is a KnowledgeBaseError, not an OSError."""
    with pytest.raises(KnowledgeBaseError, match=r"nope\.toml"):
        read_toml("nope.toml")


def _protocol(**extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "standard",
        "rule_id": "x.protocol.a",
        "citation": "decision_default_protocols",
        "mark": "GK",
        "text": "t",
        "start_mg_day": [1],
        "increment_mg_day": 1,
        "interval_days": 7,
        "target_mg_day": 3,
        "once_daily_timing": "bedtime",
    }
    return {**base, **extra}


@pytest.mark.parametrize(
    ("model", "data", "problem"),
    [
        (kb.Protocol, _protocol(increment_above=50), "go together"),
        (kb.Protocol, _protocol(start_mg_day=[3, 1]), "must not decrease"),
        (kb.DoseSplit, {"min_doses": 3, "max_doses": 1}, "exceeds"),
    ],
)
def test_model_validators(model: type[BaseModel], data: dict[str, object], problem: str) -> None:
    """Malformed entries are refused when loaded."""
    with pytest.raises(ValueError, match=problem):
        model.model_validate(data)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"strengths": [], "compounded": None}, "strengths or a compounded"),
        ({"protocols": "same"}, "one standard and one start_low"),
        ({"caps": "reversed"}, "adult cap"),
        ({"renal_bands": "first"}, "every band"),
        ({"dose_splits": [{"upto_mg_day": 5, "min_doses": 1, "max_doses": 1}]}, "no upper limit"),
    ],
)
def test_monograph_validators(change: dict[str, object], problem: str) -> None:
    """A monograph must be complete and consistent."""
    data = monograph(Drug.GABAPENTIN).model_dump(mode="json")
    for key, value in change.items():
        if value == "same":
            data[key] = [data[key][0], data[key][0]]
        elif value == "reversed":
            data[key] = [{**data[key][0], "when": {"older_adult": True}}]
        elif value == "first":
            data[key] = data[key][:1]
        else:
            data[key] = value
    with pytest.raises(ValueError, match=problem):
        kb.Monograph.model_validate(data)


def test_monograph_for_wrong_drug() -> None:
    """A file describing another drug is refused."""
    with pytest.raises(KnowledgeBaseError, match=r"not 'gabapentin'"):
        kb.parse_monograph(Drug.GABAPENTIN, read_toml("monographs/pregabalin.toml"))


def test_duplicate_rule_ids_refused() -> None:
    """Rule ids must be unique within a file."""
    rules = list(read_toml("titration.toml")["rule"])
    with pytest.raises(KnowledgeBaseError, match="duplicate"):
        kb.parse_titration_rules({"rule": [*rules, rules[0]]})


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"message": "{nope}"}, "template"),
        ({"kind": "interaction", "drug": "tramadol"}, "partner"),
        ({"kind": "bogus"}, "kind"),
        ({"rule_id": "titration.rounding.down"}, "duplicate"),
        ({"citation": "no_such_source"}, "no_such_source"),
    ],
)
def test_safety_rule_validation(change: dict[str, object], problem: str) -> None:
    """Safety rules: bad templates, missing partners and duplicate ids are refused."""
    from cluneal.knowledge import safety_rules as sr

    base = {
        "kind": "unscreened",
        "rule_id": "x.y",
        "severity": "info",
        "citation": "decision_default_protocols",
        "mark": "GK",
        "message": "m",
    }
    rules = list(read_toml("safety.toml")["rule"])
    with pytest.raises(KnowledgeBaseError, match=problem):
        sr.parse_safety_rules({"rule": [*rules, {**base, **change}]})
