"""Issue 10: the published JSON Schema accepts what the models accept, as far as it can say.

Quantities: one object form per unit with that unit's plausible range, and a
text pattern that encodes the ranges (decision_units_and_plausible_ranges: weight 20-400 kg,
age 18-120 years). The fuzz harness checks agreement both ways on random
documents; these are the cases the issue names, and the number patterns checked
against exact decimal arithmetic.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

import cluneal
from cluneal._patterns import decimal_range, spelling_pattern
from cluneal.case import case_json_schema

VALIDATOR = jsonschema.Draft202012Validator(case_json_schema())


def _case(**patient: object) -> dict[str, Any]:
    return {"patient": {"age": 50, "sex": "male", **patient}}


def _model_accepts(document: dict[str, Any]) -> bool:
    try:
        cluneal.Case.model_validate(document)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("document", "accepted"),
    [
        (_case(weight={"value": 154, "unit": "lb"}), True),  # 69.9 kg
        (_case(weight={"value": 154, "unit": "LB"}), True),
        (_case(weight=" 154  lb "), True),
        (_case(weight="70"), False),  # no unit
        (_case(weight="70 furlongs"), False),  # not a weight unit
        (_case(weight="900 kg"), False),  # above 400 kg
        (_case(weight="900 lb"), False),  # 408 kg
        (_case(weight={"value": 900, "unit": "kg"}), False),
        (_case(weight="-70 kg"), False),
        (_case(weight="7e1 kg"), False),
        (_case(age=12), False),  # adults only: 18-120 years
        (_case(age="12 years"), False),
        (_case(age="216 months"), True),  # 18 years
        (_case(age="215.9 months"), False),
        (_case(serum_creatinine="97 umol/L"), True),
        (_case(serum_creatinine="97 µmol/L"), True),
        (_case(serum_creatinine="2300 umol/L"), False),  # above 25 mg/dL
        (_case(medications=["Sertraline", " vitamin d "]), True),
        (_case(medications=["-x"]), False),
        (_case(conditions=["pregnancy"]), False),  # sex "male"
        ({"patient": {"age": 30, "sex": "female", "conditions": ["pregnancy"]}}, True),
    ],
)
def test_schema_and_model_agree(document: dict[str, Any], accepted: bool) -> None:
    """Each document: the schema and the model give the same answer, the expected one."""
    assert VALIDATOR.is_valid(document) is accepted
    assert _model_accepts(document) is accepted


def test_cli_schema_is_the_case_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`cluneal schema` prints exactly this schema."""
    import json

    from cluneal.cli import main

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == case_json_schema()


def test_quantity_forms_have_usable_type_names() -> None:
    """Generated TypeScript types get names from titles, not Weight1, Weight2, ..."""
    weight = case_json_schema()["$defs"]["Patient"]["properties"]["weight"]["anyOf"][0]
    titles = [option["title"] for option in weight["anyOf"]]
    assert titles == [
        "BodyWeightInKilogram",
        "BodyWeightInPound",
        "BodyWeightInGram",
        "BodyWeightText",
        "BodyWeightFhirQuantity",
    ]
    fhir = [option["title"] for option in weight["anyOf"][-1]["anyOf"]]
    assert fhir == ["BodyWeightFhirInKilogram", "BodyWeightFhirInPound", "BodyWeightFhirInGram"]


def _decimals() -> list[str]:
    wholes = ["", "0", "00", "1", "9", "17", "18", "19", "20", "99", "100", "119", "120", "121"]
    wholes += ["399", "400", "401", "881", "882", "1440", "100000", "100001"]
    fractions = ["", ".", ".0", ".00", ".000001", ".09", ".1", ".5", ".849048", ".849049", ".99"]
    return [w + f for w in wholes for f in fractions if w or f not in {"", "."}]


@pytest.mark.parametrize(
    ("low", "high", "inclusive"),
    [
        ("18", "120", True),
        ("20", "400", True),
        ("44.092453", "881.849048", True),
        ("0", "100000", False),
        ("0.1", "25", True),
        ("0", None, True),
    ],
)
def test_decimal_range_matches_exactly_the_numbers_in_range(
    low: str, high: str | None, inclusive: bool
) -> None:
    """The text pattern's numbers, checked against exact decimal comparison."""
    pattern = re.compile(
        decimal_range(
            Decimal(low), None if high is None else Decimal(high), minimum_inclusive=inclusive
        )
    )
    for text in _decimals():
        value = Decimal("0" + text if text.startswith(".") else text.rstrip(".") or "0")
        above = value >= Decimal(low) if inclusive else value > Decimal(low)
        expected = above and (high is None or value <= Decimal(high))
        assert bool(pattern.fullmatch(text)) is expected, text
        assert bool(pattern.fullmatch("+" + text)) is expected, text


def test_spelling_pattern_ignores_case_and_spaces_only() -> None:
    """mg/dL in any case and spacing; not another unit, not a look-alike letter."""
    pattern = re.compile(spelling_pattern("mg/dL"))
    assert pattern.fullmatch("MG / dl")
    assert not pattern.fullmatch("mg/L")
    assert not pattern.fullmatch("mg/d\u2113")  # script small l
