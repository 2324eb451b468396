"""Principle 3 across the public API: bad input is a ClunealError or a ValidationError.

API.md: "no other exception escapes a public function on bad input" (no TypeError,
AttributeError, KeyError or Pint error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

import cluneal

if TYPE_CHECKING:
    from collections.abc import Callable

P = cluneal.Patient(age=50, sex="male")

CALLS: dict[str, Callable[[], Any]] = {
    "titration_schedule drug int": lambda: cluneal.titration_schedule(123, P),  # type: ignore[arg-type]
    "titration_schedule patient str": lambda: cluneal.titration_schedule("gabapentin", "x"),  # type: ignore[arg-type]
    "titration_schedule patient None": lambda: cluneal.titration_schedule("gabapentin", None),  # type: ignore[arg-type]
    "titration_schedule target list": lambda: cluneal.titration_schedule("gabapentin", P, [1]),
    "titration_schedule bare target": lambda: cluneal.titration_schedule("gabapentin", P, 900),
    "titration_schedule start date": lambda: cluneal.titration_schedule(
        "gabapentin", P, start_date="tomorrow"
    ),
    "titration_schedule protocol": lambda: cluneal.titration_schedule(
        "gabapentin", P, protocol="fast"
    ),
    "check_regimen None": lambda: cluneal.check_regimen(None, P),
    "check_regimen unknown drug": lambda: cluneal.check_regimen(["aspirin"], P),
    "check_regimen patient int": lambda: cluneal.check_regimen(["gabapentin"], 5),  # type: ignore[arg-type]
    "creatinine_clearance str": lambda: cluneal.creatinine_clearance("x"),  # type: ignore[arg-type]
    "creatinine_clearance None": lambda: cluneal.creatinine_clearance(None),  # type: ignore[arg-type]
    "creatinine_clearance no data": lambda: cluneal.creatinine_clearance(P),
    "egfr None": lambda: cluneal.egfr(None),  # type: ignore[arg-type]
    "ideal_body_weight None": lambda: cluneal.ideal_body_weight(None),  # type: ignore[arg-type]
    "assess_renal_function None": lambda: cluneal.assess_renal_function(None),  # type: ignore[arg-type]
    "renal_band text": lambda: cluneal.renal_band("abc"),
    "gfr_category bare": lambda: cluneal.gfr_category(5),  # type: ignore[arg-type]
    "assess_diagnosis int": lambda: cluneal.assess_diagnosis(42),  # type: ignore[arg-type]
    "assess_diagnosis threshold": lambda: cluneal.assess_diagnosis(
        cluneal.Findings(),
        block_threshold="x",  # type: ignore[arg-type]
    ),
    "next_step None": lambda: cluneal.next_step(None),  # type: ignore[arg-type]
    "care_plan None": lambda: cluneal.care_plan(None, None),  # type: ignore[arg-type]
    "complementary_care None": lambda: cluneal.complementary_care(None),  # type: ignore[arg-type]
    "citation unknown": lambda: cluneal.citation("nope"),
    "evidence_for unknown": lambda: cluneal.evidence_for("laser"),
    "parse_procedure int": lambda: cluneal.parse_procedure(5),
    "pathway_mermaid unknown": lambda: cluneal.pathway_mermaid("nowhere"),
    "pathway_dot int": lambda: cluneal.pathway_dot(5),  # type: ignore[arg-type]
    "Case bad": lambda: cluneal.Case.model_validate({"patient": 1}),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_bad_input_never_leaks_python_internals(name: str) -> None:
    """Every public function refuses bad input with the package's own errors."""
    with pytest.raises((cluneal.ClunealError, ValidationError)):
        CALLS[name]()
