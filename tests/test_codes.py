"""The terminology tables (knowledge/codes.toml): every code's source, checked at load."""

from __future__ import annotations

import copy

import pytest

import cluneal
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.codes import (
    ConditionCode,
    StateCode,
    code_tables,
    parse_code_tables,
)


def test_every_snomed_code_is_verified_or_marked() -> None:
    """A SNOMED CT code is either cited by a checked source or listed as unverified."""
    entries: tuple[ConditionCode | StateCode, ...] = (
        *code_tables().conditions,
        *code_tables().states,
    )
    for entry in entries:
        checked = [c for c in entry.citations if cluneal.citation(c).verified]
        for code in entry.snomed:
            assert code in entry.unverified or "snomed_ct_checked" in checked, code
        if entry.unverified:
            assert any(not cluneal.citation(c).verified for c in entry.citations)


def test_unverified_codes_must_belong_to_the_entry() -> None:
    raw = copy.deepcopy(read_toml("codes.toml"))
    raw["condition"][0]["unverified"] = ["99999999"]
    with pytest.raises(KnowledgeBaseError, match="not codes of the entry"):
        parse_code_tables(raw)


def test_unverified_codes_need_an_unverified_source() -> None:
    raw = copy.deepcopy(read_toml("codes.toml"))
    entry = raw["condition"][0]
    entry["unverified"] = [entry["snomed"][0]]
    entry["citations"] = ["snomed_ct_checked"]
    with pytest.raises(KnowledgeBaseError, match="need an unverified source"):
        parse_code_tables(raw)


def test_names_without_a_code_say_why() -> None:
    """The co-medications without an ingredient code are read by name, never guessed."""
    without = {n: why for g in code_tables().rxnorm for n, why in g.without_code.items()}
    assert len(without) == 6  # tests/test_code_sources.py names them and what was searched
    assert all(why.strip() for why in without.values())
    assert not any(code_tables().rxnorm_code(name) for name in without)
