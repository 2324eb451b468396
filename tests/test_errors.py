"""The error tree (STYLE.md: one base, each error keeps its inputs)."""

from __future__ import annotations

import pickle

import pytest

import cluneal
from cluneal.alerts import SafetyAlert
from cluneal.errors import (
    ClunealError,
    ContraindicatedError,
    InsufficientDataError,
    InvalidQuantityError,
    KnowledgeBaseError,
    MissingExtraError,
    UnknownTermError,
)


@pytest.mark.parametrize(
    "cls",
    [
        InvalidQuantityError,
        UnknownTermError,
        InsufficientDataError,
        ContraindicatedError,
        KnowledgeBaseError,
        MissingExtraError,
    ],
)
def test_every_error_is_a_cluneal_error_and_a_value_error(cls: type[Exception]) -> None:
    """API.md: ClunealError is a ValueError and the base of the package's own errors."""
    assert issubclass(cls, ClunealError)
    assert issubclass(cls, ValueError)


def test_missing_extra_is_also_an_import_error() -> None:
    """An absent optional extra is also what it means: an ImportError."""
    err = MissingExtraError("fhir", "FHIR export")
    assert isinstance(err, ImportError)
    assert 'pip install "cluneal[fhir]"' in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert again.extra == "fhir"


def test_invalid_quantity_keeps_inputs_and_truncates_long_values() -> None:
    """Messages name the field, the value and the expectation; huge values are cut."""
    err = InvalidQuantityError("weight", "x" * 1000, "a body weight")
    assert (err.field, err.expected) == ("weight", "a body weight")
    assert err.value == "x" * 1000
    assert "(1000 characters)" in str(err)
    assert len(str(err)) < 200


def test_contraindicated_error_carries_alerts() -> None:
    """API.md: ContraindicatedError(ClunealError) carries .alerts."""
    alert = SafetyAlert(
        severity="contraindicated",
        drugs=("tramadol", "phenelzine"),
        message="MAOI within 14 days.",
        rule_id="contra.maoi",
        citation="tramadol_label",
    )
    err = cluneal.ContraindicatedError("tramadol", [alert])
    assert err.alerts == (alert,)
    assert err.drug == "tramadol"
    assert "MAOI within 14 days. [contra.maoi]" in str(err)


def test_insufficient_data_grammar() -> None:
    """One missing value is 'is missing'; several are 'are missing'."""
    assert str(InsufficientDataError("X", ["a"])).endswith("a, which is missing")
    assert str(InsufficientDataError("X", ["a", "b"])).endswith("a and b, which are missing")
