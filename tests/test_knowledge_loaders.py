"""The loaders of renal.toml, complementary.toml and medications.toml refuse malformed data."""

from __future__ import annotations

import pytest

from cluneal import KnowledgeBase
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.complementary import complementary_table, parse_complementary
from cluneal.knowledge.medications import parse_medications
from cluneal.knowledge.renal import parse_renal, renal_table
from cluneal.vocabulary import GfrCategory


def test_an_unknown_medication_class_is_refused() -> None:
    """A class the safety rules do not know cannot be silently ignored."""
    with pytest.raises(KnowledgeBaseError, match=r"medications\.toml"):
        parse_medications({"classes": {"stimulant": ["caffeine"]}})
    with pytest.raises(KnowledgeBaseError, match=r"medications\.toml"):
        parse_medications({})


def test_complementary_data_must_be_whole_and_consistent() -> None:
    """Every interaction names a measure of the file; every measure prints with its evidence."""
    raw = read_toml("complementary.toml")
    raw["interaction"][0]["measure"] = "reflexology"
    with pytest.raises(KnowledgeBaseError, match="unknown measure"):
        parse_complementary(raw)
    with pytest.raises(KnowledgeBaseError, match=r"complementary\.toml"):
        parse_complementary({"measure": []})
    measure = complementary_table().measures[0]
    assert str(measure).startswith(f"{measure.name}: ")
    assert measure.evidence_level.label in str(measure)


def test_renal_bands_must_be_listed_from_normal_to_end_stage() -> None:
    """decision_renal_band_boundaries: the bands are read in order, so the order is checked."""
    raw = read_toml("renal.toml")
    raw["band"] = list(reversed(raw["band"]))
    with pytest.raises(KnowledgeBaseError, match="normal, moderate, severe, end_stage"):
        parse_renal(raw)
    with pytest.raises(KnowledgeBaseError, match=r"renal\.toml"):
        KnowledgeBase.from_documents({"renal.toml": {"band": []}})


def test_kdigo_categories_and_bands_at_their_edges() -> None:
    """KDIGO 2012: G1 >= 90, G5 < 15 mL/min/1.73 m²; a negative clearance is end-stage."""
    table = renal_table()
    assert table.gfr_categories.category(90.0) is GfrCategory.G1
    assert table.gfr_categories.category(14.9) is GfrCategory.G5
    assert table.band_rule(-1.0).band.value == "end_stage"
