"""The JSON Schema of a kind of quantity: what :func:`cluneal.units.parse_quantity` accepts.

Private to :mod:`cluneal.units`, which re-exports :func:`quantity_json_schema`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from cluneal._patterns import WHITESPACE, decimal_range
from cluneal._unit_table import (
    MAX_TEXT,
    UCUM_SYSTEM,
    display_unit,
    other_units_pattern,
    unit_pattern,
    unit_title,
)
from cluneal.vocabulary import Kind

if TYPE_CHECKING:
    from cluneal.units import QuantityKind

__all__ = ["quantity_json_schema"]

_BOUND_STEP: Final = Decimal("0.000001")


def _bounds_in(spec: QuantityKind, code: str) -> tuple[Decimal, Decimal | None]:
    """The plausible range in one unit, to six decimals, such that the parser accepts both ends.

    The parser compares the caller's number with the bounds in the caller's
    unit (:meth:`QuantityKind.bounds_in`); each bound is rounded to six
    decimals and nudged inwards until that comparison passes, so nothing the
    schema accepts is refused (the schema may refuse a value within a millionth
    of a bound that the model accepts).
    """
    low_float, high_float = spec.bounds_in(code)
    low_limit = 0.0 if low_float is None else low_float
    low = Decimal(repr(low_limit)).quantize(_BOUND_STEP)
    while spec.minimum_inclusive and float(low) < low_limit:
        low += _BOUND_STEP
    if high_float is None:
        return low.normalize(), None
    high = Decimal(repr(high_float)).quantize(_BOUND_STEP)
    while float(high) > high_float:
        high -= _BOUND_STEP
    return low.normalize(), high.normalize()


def _number_schema(low: Decimal, high: Decimal | None, spec: QuantityKind) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    bound = int(low) if low == low.to_integral_value() else float(low)
    schema["minimum" if spec.minimum_inclusive else "exclusiveMinimum"] = bound
    if high is not None:
        schema["maximum"] = int(high) if high == high.to_integral_value() else float(high)
    return schema


def quantity_json_schema(spec: QuantityKind, mode: str = "validation") -> dict[str, Any]:
    """Return the JSON Schema of one kind of quantity: what the parser accepts, as far as it can.

    In validation mode: one object form per accepted unit (the unit as a
    pattern of its spellings, the value within the plausible range in that
    unit), the text form as a pattern that encodes each unit's range (so
    ``"900 kg"`` and ``"70 furlongs"`` are refused), a FHIR Quantity (UCUM
    ``system`` and ``code``, the value within range), and for age a bare number
    of years. What JSON Schema cannot say: the parser's arithmetic at the last
    digits of a bound (the schema's bounds are rounded inwards to a millionth), and a FHIR
    Quantity whose display ``unit`` names another unit than its ``code``.

    Args:
        spec: The kind.
        mode: ``"validation"`` (what the package accepts) or ``"serialization"``
            (what it writes).

    Returns:
        A JSON Schema object.

    Example:
        >>> from cluneal.units import KINDS, Kind, quantity_json_schema
        >>> schema = quantity_json_schema(KINDS[Kind.BODY_WEIGHT])
        >>> [option.get("title") for option in schema["anyOf"]]
        ['BodyWeightInKilogram', 'BodyWeightInPound', 'BodyWeightInGram', 'BodyWeightText',
         'BodyWeightFhirQuantity']
        >>> schema["anyOf"][1]["properties"]["value"]
        {'type': 'number', 'minimum': 44.092453, 'maximum': 881.849048}
    """
    codes = [c for c in spec.accepted if c in spec.factors]
    description = f"{spec.description[0].upper()}{spec.description[1:]}: {spec.expected()}."
    name = "".join(part.capitalize() for part in spec.kind.value.split("_"))
    if spec.kind is Kind.GFR:
        name = "Gfr"
    if mode == "serialization":
        return {
            "title": f"{name}Quantity",
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "unit": {"type": "string", "enum": codes, "description": "UCUM code"},
            },
            "required": ["value", "unit"],
            "additionalProperties": False,
            "description": description,
        }
    options: list[dict[str, Any]] = []
    fhir: list[dict[str, Any]] = []
    texts = []
    for code in codes:
        low, high = _bounds_in(spec, code)
        unit = unit_pattern(code)
        options.append(
            {
                "title": f"{name}In{unit_title(code)}",
                "type": "object",
                "properties": {
                    "value": _number_schema(low, high, spec),
                    "unit": {
                        "type": "string",
                        "maxLength": MAX_TEXT,
                        "pattern": f"^{WHITESPACE}*{unit}{WHITESPACE}*$",
                        "description": f"{display_unit(code)} (UCUM {code!r}) or another spelling",
                    },
                },
                "required": ["value", "unit"],
                "additionalProperties": False,
            }
        )
        number = decimal_range(low, high, minimum_inclusive=spec.minimum_inclusive)
        texts.append(f"{number}{WHITESPACE}*{unit}")
        fhir.append(
            {
                "title": f"{name}FhirIn{unit_title(code)}",
                "type": "object",
                "properties": {
                    "value": _number_schema(low, high, spec),
                    "unit": {
                        "type": "string",
                        "maxLength": MAX_TEXT,
                        # Display text, but never the name of another unit.
                        "not": {
                            "pattern": f"^{WHITESPACE}*{other_units_pattern(code)}{WHITESPACE}*$"
                        },
                    },
                    "system": {"const": UCUM_SYSTEM},
                    "code": {"const": code},
                },
                "required": ["value", "system", "code"],
                "additionalProperties": False,
            }
        )
    options.append(
        {
            "title": f"{name}Text",
            "type": "string",
            "maxLength": MAX_TEXT,
            "pattern": f"^{WHITESPACE}*(?:{'|'.join(texts)}){WHITESPACE}*$",
            "description": "One number and one unit, e.g. " + repr(spec.example),
        }
    )
    options.append(
        {
            "title": f"{name}FhirQuantity",
            "anyOf": fhir,
            "description": "A FHIR Quantity: the UCUM code counts, the unit is display text",
        }
    )
    if spec.bare_number_unit is not None:
        low, high = _bounds_in(spec, spec.canonical)
        options.append(
            {
                "title": f"{name}Number",
                **_number_schema(low, high, spec),
                "description": f"A bare number of {spec.bare_number_unit}",
            }
        )
    return {"anyOf": options, "description": description}
