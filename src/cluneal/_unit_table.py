"""The units cluneal accepts: the package's one registry and the table of UCUM codes and spellings.

Private to :mod:`cluneal.units` (and its JSON Schema, :mod:`cluneal._quantity_schema`):
every unit a caller may write, with its UCUM code, its Pint unit and the
spellings matched without case and without spaces, and the lookups built from
them once.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, NamedTuple, cast

import pint
from pint.facets.plain import PrefixDefinition, ScaleConverter, UnitDefinition
from pint.util import UnitsContainer

from cluneal._patterns import WHITESPACE, spelling_pattern

if TYPE_CHECKING:
    from collections.abc import Mapping
    from numbers import Number

__all__ = [
    "CONTAINER_BY_UCUM",
    "MAX_TEXT",
    "UCUM_BY_SPELLING",
    "UCUM_BY_UNIT",
    "UCUM_SYSTEM",
    "UNITS_BY_UCUM",
    "UNIT_TABLE",
    "UnitEntry",
    "display_unit",
    "other_units_pattern",
    "spelling_key",
    "unit_pattern",
    "unit_title",
    "ureg",
]

# Only the units the package needs. Pint's default registry (~1,000 units) takes ~115 ms
# to build, and the small vocabulary is also a safety property: nothing outside it can be
# parsed into a cluneal quantity. The units are given to Pint as its definition objects,
# the same ones its text parser makes from "milli- = 1e-3 = m-" or "hour = 60 * minute =
# h = hr", which costs ~5 ms at import for these twenty lines.
# Prefixes: name, factor, symbol, aliases.
_PREFIXES: Final[tuple[tuple[str, float, str, tuple[str, ...]], ...]] = (
    ("micro", 1e-6, "µ", ("μ", "u")),
    ("milli", 1e-3, "m", ()),
    ("centi", 1e-2, "c", ()),
    ("deci", 1e-1, "d", ()),
    ("kilo", 1e3, "k", ()),
)
# Units: name, factor, reference (a dimension for a base unit, else units), symbol, aliases.
_UNITS: Final[tuple[tuple[str, float, dict[str, int], str, tuple[str, ...]], ...]] = (
    ("meter", 1, {"[length]": 1}, "m", ("metre",)),
    ("gram", 1, {"[mass]": 1}, "g", ()),
    ("second", 1, {"[time]": 1}, "s", ("sec",)),
    ("mole", 1, {"[substance]": 1}, "mol", ()),
    ("liter", 1, {"decimeter": 3}, "l", ("L", "litre")),
    ("inch", 2.54, {"centimeter": 1}, "in", ()),
    ("pound", 0.45359237, {"kilogram": 1}, "lb", ()),
    ("minute", 60, {"second": 1}, "min", ()),
    ("hour", 60, {"minute": 1}, "h", ("hr",)),
    ("day", 24, {"hour": 1}, "d", ()),
    ("week", 7, {"day": 1}, "wk", ()),
    # UCUM's "a" is the Julian year; a month is a twelfth of it (UCUM "mo").
    ("year", 365.25, {"day": 1}, "a", ("yr",)),
    ("month", 1 / 12, {"year": 1}, "mo", ()),
    # eGFR is indexed to a standard body-surface area of 1.73 m².
    ("standard_body_surface_area", 1.73, {"meter": 2}, "BSA_1_73", ()),
)


def _registry() -> pint.UnitRegistry[Any]:
    registry: pint.UnitRegistry[Any] = pint.UnitRegistry(
        None, cache_folder=None, on_redefinition="raise"
    )
    # Pint's annotations say define() takes text; it takes these objects as well (its docstring).
    definitions: list[Any] = [
        PrefixDefinition(name, cast("Number", factor), symbol, aliases)
        for name, factor, symbol, aliases in _PREFIXES
    ]
    definitions.extend(
        UnitDefinition(name, symbol, aliases, ScaleConverter(scale), UnitsContainer(reference))
        for name, scale, reference, symbol, aliases in _UNITS
    )
    for definition in definitions:
        registry.define(definition)
    # What Pint does after reading a definitions file: each unit's root units and
    # dimensionality, and the equivalents ``get_compatible_units`` reads.
    registry._build_cache()
    return registry


ureg: Final[pint.UnitRegistry[Any]] = _registry()
"""The package's one unit registry. Use it (or :data:`Q_`) for every quantity."""

MAX_TEXT: Final = 64
"""The longest quantity text (or unit text) read at all."""
UCUM_SYSTEM: Final = "http://unitsofmeasure.org"
"""The UCUM code system URI, the ``system`` of every FHIR Quantity cluneal reads or writes."""
# The characters of every spelling in the table: anything else (a Kelvin sign
# that case-folds to "k", a full-width letter) is not a unit cluneal reads.
UNIT_CHARACTERS: Final = re.compile(r"[A-Za-z0-9/\[\]{}_.µμ²]+")
SPACES: Final = re.compile(f"{WHITESPACE}+")


class UnitEntry(NamedTuple):
    """A unit cluneal accepts: its UCUM code, Pint unit and spellings.

    A named tuple, not a frozen dataclass: a table row needs no more, and the
    class costs a tenth to create at import.
    """

    ucum: str
    pint_name: str
    spellings: tuple[str, ...]


# Every unit a caller may write. The first spelling is the display form; all
# spellings are matched without case and without spaces ("mg / dL" = "mg/dl").
UNIT_TABLE: Final = (
    UnitEntry("mg", "milligram", ("mg", "milligram", "milligrams")),
    UnitEntry("g", "gram", ("g", "gram", "grams", "gm")),
    UnitEntry("ug", "microgram", ("µg", "ug", "μg", "mcg", "microgram", "micrograms")),
    UnitEntry("kg", "kilogram", ("kg", "kgs", "kilogram", "kilograms")),
    UnitEntry("[lb_av]", "pound", ("lb", "lbs", "[lb_av]", "pound", "pounds")),
    UnitEntry("cm", "centimeter", ("cm", "centimeter", "centimeters", "centimetre", "centimetres")),
    UnitEntry("m", "meter", ("m", "meter", "meters", "metre", "metres")),
    UnitEntry("mm", "millimeter", ("mm", "millimeter", "millimeters", "millimetre", "millimetres")),
    UnitEntry("[in_i]", "inch", ("in", "[in_i]", "inch", "inches")),
    UnitEntry("mg/dL", "milligram / deciliter", ("mg/dL", "mg/100mL")),
    UnitEntry("mg/L", "milligram / liter", ("mg/L",)),
    UnitEntry("umol/L", "micromole / liter", ("µmol/L", "umol/L", "μmol/L", "micromol/L")),
    UnitEntry("mmol/L", "millimole / liter", ("mmol/L",)),
    UnitEntry("mg/d", "milligram / day", ("mg/d", "mg/day", "mg/24h")),
    UnitEntry("g/d", "gram / day", ("g/d", "g/day")),
    UnitEntry("ug/d", "microgram / day", ("µg/d", "ug/d", "μg/d", "mcg/d", "mcg/day", "ug/day")),
    UnitEntry("mL/min", "milliliter / minute", ("mL/min", "ml/minute")),
    UnitEntry(
        "mL/min/{1.73_m2}",
        "milliliter / minute / standard_body_surface_area",
        ("mL/min/1.73m2", "mL/min/{1.73_m2}", "mL/min/1.73m²"),
    ),
    UnitEntry("min", "minute", ("min", "minute", "minutes", "mins")),
    UnitEntry("h", "hour", ("hours", "h", "hr", "hrs", "hour")),
    UnitEntry("d", "day", ("days", "d", "day")),
    UnitEntry("wk", "week", ("weeks", "wk", "wks", "week")),
    UnitEntry("mo", "month", ("months", "mo", "month")),
    UnitEntry("a", "year", ("years", "a", "y", "yr", "yrs", "year")),
)


def spelling_key(text: str) -> str:
    compact = SPACES.sub("", text)
    return compact.casefold() if UNIT_CHARACTERS.fullmatch(compact) else ""


def _unit(pint_name: str) -> pint.Unit:
    # The table's form, "milligram / deciliter / ...": the first name over the others. Built
    # from its exponents, without Pint's expression parser (whose tokenizer alone costs ~2 ms
    # to set up); tests/test_units.py checks each equals what Pint parses.
    first, *over = pint_name.split(" / ")
    powers = {first: 1}
    for name in over:
        powers[name] = powers.get(name, 0) - 1
    return ureg.Unit(UnitsContainer(powers))


UNITS_BY_UCUM: Final = MappingProxyType({e.ucum: _unit(e.pint_name) for e in UNIT_TABLE})
CONTAINER_BY_UCUM: Final = MappingProxyType({c: u._units for c, u in UNITS_BY_UCUM.items()})
UCUM_BY_SPELLING: Final = MappingProxyType(
    {spelling_key(s): e.ucum for e in UNIT_TABLE for s in (*e.spellings, e.ucum)}
)
# Keyed by Pint's UnitsContainer (``quantity._units``): it hashes in ~0.1 µs,
# where building a ``quantity.units`` Unit and comparing it costs ~2 µs. This
# lookup is on every hot path (validation, magnitude_in, JSON).
UCUM_BY_UNIT: Final[Mapping[object, str]] = MappingProxyType(
    {unit._units: code for code, unit in UNITS_BY_UCUM.items()}
)


def display_unit(code: str) -> str:
    for entry in UNIT_TABLE:
        if entry.ucum == code:
            return entry.spellings[0]
    return code  # pragma: no cover - every code comes from the table


def unit_title(code: str) -> str:
    entry = next(e for e in UNIT_TABLE if e.ucum == code)
    words = entry.pint_name.replace("/", " per ").replace("_", " ").split()
    return "".join(word.capitalize() for word in words)


def other_units_pattern(code: str) -> str:
    """Every spelling of every unit in the table but ``code``'s."""
    spellings = dict.fromkeys(
        spelling
        for entry in UNIT_TABLE
        if entry.ucum != code
        for spelling in (*entry.spellings, entry.ucum)
    )
    return "(?:" + "|".join(spelling_pattern(s) for s in spellings) + ")"


def unit_pattern(code: str) -> str:
    entry = next(e for e in UNIT_TABLE if e.ucum == code)
    spellings = dict.fromkeys((*entry.spellings, entry.ucum))
    return "(?:" + "|".join(spelling_pattern(s) for s in spellings) + ")"
