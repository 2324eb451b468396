"""Issue 11: one vocabulary module, one findings module, and every old import path kept."""

from __future__ import annotations

import importlib

import pytest

import cluneal
from cluneal import findings, vocabulary

# (old module, name): each name was defined in the old module before it moved.
OLD_PATHS = [
    *[
        ("cluneal.diagnosis", name)
        for name in (
            "NerveBranch",
            "TenderPointSite",
            "Side",
            "Guidance",
            "CriterionId",
            "RedFlagKind",
            "DiagnosticClass",
            "Flag",
            "BranchSet",
            "ReliefPercent",
        )
    ],
    *[("cluneal.patient", n) for n in ("Sex", "HepaticImpairment", "Condition", "MedicationClass")],
    ("cluneal.drug", "Drug"),
    ("cluneal.alerts", "Severity"),
    *[("cluneal.renal", n) for n in ("WeightBasis", "RenalBand", "GfrCategory")],
    *[
        ("cluneal.interventions", n)
        for n in (
            "Intervention",
            "LocalAnaesthetic",
            "Corticosteroid",
            "RadiofrequencyTechnique",
            "PnsMode",
            "SurgicalTechnique",
        )
    ],
    *[("cluneal.pathway", n) for n in ("PathwayStep", "OutcomeClass")],
    ("cluneal.units", "Kind"),
]


@pytest.mark.parametrize(("module", "name"), OLD_PATHS)
def test_old_import_paths_give_the_one_definition(module: str, name: str) -> None:
    """Old import paths keep working and name the very object in cluneal.vocabulary."""
    assert getattr(importlib.import_module(module), name) is getattr(vocabulary, name)


@pytest.mark.parametrize("name", findings.__all__)
def test_findings_are_the_diagnosis_inputs(name: str) -> None:
    """The findings moved out of diagnosis; cluneal.diagnosis and cluneal export the same class."""
    diagnosis = importlib.import_module("cluneal.diagnosis")
    assert getattr(diagnosis, name) is getattr(findings, name) is getattr(cluneal, name)


def test_every_vocabulary_is_a_guarded_term() -> None:
    """Every enum of the vocabulary refuses a hostile value with a ValueError (Term's guard)."""
    enums = [
        getattr(vocabulary, n)
        for n in vocabulary.__all__
        if isinstance(getattr(vocabulary, n), type) and n != "Term"
    ]
    assert len(enums) == 25
    for enum in enums:
        assert issubclass(enum, vocabulary.Term)
        with pytest.raises(ValueError, match="is not a valid"):
            enum([[[]]])


def test_vocabulary_ranks_keep_their_order() -> None:
    """Severities, classifications and renal bands order by rank, not by text."""
    ranks = [s.rank for s in vocabulary.Severity]
    assert ranks == sorted(ranks, reverse=True)
    assert [c.rank for c in vocabulary.DiagnosticClass] == [3, 2, 1, 0]
    assert [b.severity for b in vocabulary.RenalBand] == [0, 1, 2, 3]


@pytest.mark.parametrize("name", ["CareHistory", "InterventionOutcome"])
def test_the_history_is_an_input(name: str) -> None:
    """The care history moved out of pathway; cluneal.pathway and cluneal export the same class."""
    history = importlib.import_module("cluneal.history")
    pathway = importlib.import_module("cluneal.pathway")
    assert getattr(pathway, name) is getattr(history, name) is getattr(cluneal, name)
