"""Reading a caller's quantity: a Pint quantity, text, a mapping or a FHIR Quantity.

Private to :func:`cluneal.units.parse_quantity`: each reader returns the number
and the UCUM code of the unit the caller used (``None`` when the kind does not
accept it) and refuses anything that is not one finite number and one unit.
Caller text never reaches Pint's expression parser.
"""

from __future__ import annotations

import math
import numbers
import re
from typing import TYPE_CHECKING, Any, Final

import pint

from cluneal._patterns import WHITESPACE
from cluneal._unit_table import (
    MAX_TEXT,
    UCUM_BY_SPELLING,
    UCUM_BY_UNIT,
    UCUM_SYSTEM,
    UNIT_TABLE,
    UNITS_BY_UCUM,
    spelling_key,
)
from cluneal.errors import InvalidQuantityError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cluneal.units import Quantity, QuantityKind

__all__ = [
    "finite",
    "from_fhir_quantity",
    "from_foreign_quantity",
    "from_mapping",
    "from_own_quantity",
    "from_text",
    "is_number",
]

# One number as people write it (no sign but "+", no exponent: a negative or
# "1e2 mg" is never a clinical value), then one unit. Whitespace is ASCII only.
# The JSON Schema patterns (cluneal._patterns) describe exactly this grammar.
_NUMBER_AND_UNIT: Final = re.compile(
    rf"{WHITESPACE}*(\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)){WHITESPACE}*(\S.*?){WHITESPACE}*",
    re.ASCII | re.DOTALL,
)


def is_number(value: object) -> bool:
    """Whether a value is a real number and not a boolean."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def finite(magnitude: object, value: object, field_name: str, spec: QuantityKind) -> float:
    """The number, refused unless it is a finite real (not a boolean); an int stays an int."""
    expected = f"a finite number: {spec.expected()}"
    if not is_number(magnitude):
        raise InvalidQuantityError(field_name, value, expected)
    try:
        # An int beyond the float range overflows here, before any arithmetic.
        result = float(magnitude)  # type: ignore[arg-type]
    except (OverflowError, ValueError, TypeError):
        raise InvalidQuantityError(field_name, value, expected) from None
    if not math.isfinite(result):
        raise InvalidQuantityError(field_name, value, expected)
    # Keep an int as an int (78 years stays 78 in JSON); other real types become floats.
    return magnitude if type(magnitude) in (int, float) else result  # type: ignore[return-value]


def _code_for_unit(unit: object, spec: QuantityKind) -> str | None:
    code = UCUM_BY_UNIT.get(unit)
    return code if code in spec.factors else None


def from_own_quantity(
    value: Quantity, field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    """A quantity of the package's registry: its number and the UCUM code of its unit."""
    magnitude = finite(value.magnitude, value, field_name, spec)
    code = _code_for_unit(value._units, spec)
    if code is not None:
        return magnitude, code
    # A unit outside the table (the result of arithmetic, say): convert it to
    # the canonical unit when the dimension fits.
    for candidate in spec.accepted:
        unit = UNITS_BY_UCUM[candidate]
        if candidate in spec.factors and value.dimensionality == unit.dimensionality:
            return float(value.m_as(unit)), candidate
    return magnitude, None


def from_foreign_quantity(
    value: Quantity, field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    """A quantity of another Pint registry, converted inside that registry."""
    finite(value.magnitude, value, field_name, spec)
    # Convert inside the caller's registry, to a unit every Pint registry knows.
    for candidate in spec.accepted:
        if candidate not in spec.factors:
            continue
        entry_name = next(e.pint_name for e in UNIT_TABLE if e.ucum == candidate)
        try:
            converted = value.m_as(entry_name)
        except (pint.errors.PintError, AttributeError, TypeError, ValueError):
            continue
        return finite(converted, value, field_name, spec), candidate
    return 0.0, None


def from_text(value: str, field_name: str, spec: QuantityKind) -> tuple[float, str | None]:
    """One number and one unit from the allow-list, as text."""
    if len(value) > MAX_TEXT:
        raise InvalidQuantityError(
            field_name, value, f"at most {MAX_TEXT} characters: {spec.expected()}"
        )
    match = _NUMBER_AND_UNIT.fullmatch(value)
    if match is None:
        raise InvalidQuantityError(field_name, value, spec.expected())
    magnitude = finite(float(match.group(1)), value, field_name, spec)
    code = UCUM_BY_SPELLING.get(spelling_key(match.group(2)))
    return magnitude, (code if code in spec.factors else None)


def from_mapping(
    value: Mapping[Any, Any], field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    """``{"value": <number>, "unit": <text>}``, or a FHIR Quantity."""
    if "system" in value or "code" in value:
        return from_fhir_quantity(value, field_name, spec)
    if set(value) != {"value", "unit"} or not isinstance(value["unit"], str):
        raise InvalidQuantityError(
            field_name, value, f'a mapping {{"value": <number>, "unit": <text>}}: {spec.expected()}'
        )
    magnitude = finite(value["value"], value, field_name, spec)
    unit_text: str = value["unit"]
    if len(unit_text) > MAX_TEXT:
        raise InvalidQuantityError(field_name, value, spec.expected())
    code = UCUM_BY_SPELLING.get(spelling_key(unit_text))
    return magnitude, (code if code in spec.factors else None)


_FHIR_QUANTITY_KEYS: Final = frozenset({"value", "unit", "system", "code"})


def from_fhir_quantity(
    value: Mapping[Any, Any], field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    """A FHIR Quantity: the UCUM ``code`` counts, ``unit`` is display text."""
    # A FHIR Quantity: the UCUM `code` is what counts, `unit` is display text.
    # A comparator ("<"), another code system or a display unit that names a
    # different unit than the code makes the value unusable, so it is refused.
    expected = (
        'a FHIR Quantity {"value": <number>, "unit": <text>, '
        f'"system": "{UCUM_SYSTEM}", "code": <UCUM code>}}: {spec.expected()}'
    )
    code = value.get("code")
    if (
        not set(value) <= _FHIR_QUANTITY_KEYS
        or value.get("system") != UCUM_SYSTEM
        or not isinstance(code, str)
        or code not in UNITS_BY_UCUM
    ):
        raise InvalidQuantityError(field_name, value, expected)
    unit = value.get("unit", code)
    named = UCUM_BY_SPELLING.get(spelling_key(unit)) if isinstance(unit, str) else None
    if not isinstance(unit, str) or named not in {None, code}:
        raise InvalidQuantityError(field_name, value, expected)
    magnitude = finite(value.get("value"), value, field_name, spec)
    return magnitude, (code if code in spec.factors else None)
