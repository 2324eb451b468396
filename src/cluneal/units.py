"""Units: the package's one registry, strict parsing, and dimension-typed fields.

cluneal owns one :class:`pint.UnitRegistry`, :data:`ureg`, built eagerly from a
small definitions file when the package is imported. Eager construction avoids
the race in Pint's lazily built application registry (Pint issue 2039) and the
small vocabulary keeps the import fast (a few milliseconds instead of ~100).

Caller text never reaches Pint's expression parser, which evaluates arithmetic:
:func:`parse_quantity` accepts exactly one number and one unit taken from an
allow-list. Quantities made with another registry (a notebook's own
``pint.UnitRegistry()``) are converted, never refused for their registry.

Every quantity field of every model is one of the ``Annotated`` types below
(:data:`BodyWeight`, :data:`SerumCreatinine`, ...). They validate the dimension
and the plausible range of the package's decision
``decision_units_and_plausible_ranges``, and serialise to JSON as
``{"value": <number>, "unit": "<UCUM code>"}``.

Example:
    >>> from cluneal import Q_
    >>> from cluneal.units import parse_quantity
    >>> parse_quantity("154 lb", "weight").to("kg").round(1)
    <Quantity(69.9, 'kilogram')>
    >>> parse_quantity({"value": 97, "unit": "umol/L"}, "serum_creatinine")
    <Quantity(97, 'micromole / liter')>
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeAlias

import pint
from pydantic_core import core_schema

from cluneal._patterns import WHITESPACE, decimal_range, spelling_pattern
from cluneal._vocabulary import Term
from cluneal.errors import InvalidQuantityError, KnowledgeBaseError
from cluneal.knowledge.parameters import clinical_parameters

if TYPE_CHECKING:
    from pint.facets.plain import PlainQuantity
    from pint.util import UnitsContainer
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

    from cluneal.knowledge.parameters import ClinicalParameters

__all__ = [
    "CREATININE_UMOL_L_PER_MG_DL",
    "KINDS",
    "Q_",
    "UCUM_SYSTEM",
    "Age",
    "AgeInput",
    "BodyWeight",
    "Clearance",
    "DailyDose",
    "Dose",
    "Duration",
    "GlomerularFiltrationRate",
    "Height",
    "Kind",
    "Quantity",
    "QuantityInput",
    "QuantityKind",
    "SerumCreatinine",
    "magnitude_in",
    "parse_quantity",
    "quantity_in",
    "quantity_kinds",
    "quantity_to_json",
    "ureg",
]

with resources.as_file(resources.files("cluneal") / "_units.txt") as _definitions:
    ureg: Final[pint.UnitRegistry[Any]] = pint.UnitRegistry(
        str(_definitions), cache_folder=None, on_redefinition="raise"
    )
    """The package's one unit registry. Use it (or :data:`Q_`) for every quantity."""

Q_: Final = ureg.Quantity
"""The quantity class of :data:`ureg`: ``Q_(25, "mg")``."""

Quantity: TypeAlias = pint.Quantity[Any]
"""The static type of every quantity cluneal accepts and returns."""

QuantityInput: TypeAlias = "PlainQuantity[Any] | str | Mapping[str, object]"
"""What a quantity argument or field accepts, for type checkers: a :data:`Q_`
(or any Pint quantity), ``"154 lb"``, or ``{"value": 154, "unit": "lb"}``. The
model fields themselves are :data:`Quantity`."""

AgeInput: TypeAlias = "QuantityInput | int | float"
"""What ``age`` accepts: a quantity input or a bare number of years."""

_PARAMETERS: Final = clinical_parameters()

CREATININE_UMOL_L_PER_MG_DL: Final = _PARAMETERS.creatinine.umol_l_per_mg_dl
"""Micromoles per litre of creatinine in 1 mg/dL (88.4: molar mass 113.12 g/mol), from
``parameters.toml`` (``units.creatinine_umol_l_per_mg_dl``)."""

_MAX_TEXT: Final = 64
# One number as people write it (no sign but "+", no exponent: a negative or
# "1e2 mg" is never a clinical value), then one unit. Whitespace is ASCII only.
# The JSON Schema patterns (cluneal._patterns) describe exactly this grammar.
_NUMBER_AND_UNIT: Final = re.compile(
    rf"{WHITESPACE}*(\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)){WHITESPACE}*(\S.*?){WHITESPACE}*",
    re.ASCII | re.DOTALL,
)
# The characters of every spelling in the table: anything else (a Kelvin sign
# that case-folds to "k", a full-width letter) is not a unit cluneal reads.
_UNIT_CHARACTERS: Final = re.compile(r"[A-Za-z0-9/\[\]{}_.µμ²]+")
_SPACES: Final = re.compile(f"{WHITESPACE}+")


@dataclass(frozen=True, slots=True)
class _UnitEntry:
    """A unit cluneal accepts: its UCUM code, Pint unit and spellings."""

    ucum: str
    pint_name: str
    spellings: tuple[str, ...]


# Every unit a caller may write. The first spelling is the display form; all
# spellings are matched without case and without spaces ("mg / dL" = "mg/dl").
_UNIT_TABLE: Final = (
    _UnitEntry("mg", "milligram", ("mg", "milligram", "milligrams")),
    _UnitEntry("g", "gram", ("g", "gram", "grams", "gm")),
    _UnitEntry("ug", "microgram", ("µg", "ug", "μg", "mcg", "microgram", "micrograms")),
    _UnitEntry("kg", "kilogram", ("kg", "kgs", "kilogram", "kilograms")),
    _UnitEntry("[lb_av]", "pound", ("lb", "lbs", "[lb_av]", "pound", "pounds")),
    _UnitEntry(
        "cm", "centimeter", ("cm", "centimeter", "centimeters", "centimetre", "centimetres")
    ),
    _UnitEntry("m", "meter", ("m", "meter", "meters", "metre", "metres")),
    _UnitEntry(
        "mm", "millimeter", ("mm", "millimeter", "millimeters", "millimetre", "millimetres")
    ),
    _UnitEntry("[in_i]", "inch", ("in", "[in_i]", "inch", "inches")),
    _UnitEntry("mg/dL", "milligram / deciliter", ("mg/dL", "mg/100mL")),
    _UnitEntry("mg/L", "milligram / liter", ("mg/L",)),
    _UnitEntry("umol/L", "micromole / liter", ("µmol/L", "umol/L", "μmol/L", "micromol/L")),
    _UnitEntry("mmol/L", "millimole / liter", ("mmol/L",)),
    _UnitEntry("mg/d", "milligram / day", ("mg/d", "mg/day", "mg/24h")),
    _UnitEntry("g/d", "gram / day", ("g/d", "g/day")),
    _UnitEntry("ug/d", "microgram / day", ("µg/d", "ug/d", "μg/d", "mcg/d", "mcg/day", "ug/day")),
    _UnitEntry("mL/min", "milliliter / minute", ("mL/min", "ml/minute")),
    _UnitEntry(
        "mL/min/{1.73_m2}",
        "milliliter / minute / standard_body_surface_area",
        ("mL/min/1.73m2", "mL/min/{1.73_m2}", "mL/min/1.73m²"),
    ),
    _UnitEntry("min", "minute", ("min", "minute", "minutes", "mins")),
    _UnitEntry("h", "hour", ("hours", "h", "hr", "hrs", "hour")),
    _UnitEntry("d", "day", ("days", "d", "day")),
    _UnitEntry("wk", "week", ("weeks", "wk", "wks", "week")),
    _UnitEntry("mo", "month", ("months", "mo", "month")),
    _UnitEntry("a", "year", ("years", "a", "y", "yr", "yrs", "year")),
)


def _spelling_key(text: str) -> str:
    compact = _SPACES.sub("", text)
    return compact.casefold() if _UNIT_CHARACTERS.fullmatch(compact) else ""


_UNITS_BY_UCUM: Final = MappingProxyType({e.ucum: ureg.Unit(e.pint_name) for e in _UNIT_TABLE})
_CONTAINER_BY_UCUM: Final = MappingProxyType({c: u._units for c, u in _UNITS_BY_UCUM.items()})
_UCUM_BY_SPELLING: Final = MappingProxyType(
    {_spelling_key(s): e.ucum for e in _UNIT_TABLE for s in (*e.spellings, e.ucum)}
)
# Keyed by Pint's UnitsContainer (``quantity._units``): it hashes in ~0.1 µs,
# where building a ``quantity.units`` Unit and comparing it costs ~2 µs. This
# lookup is on every hot path (validation, magnitude_in, JSON).
_UCUM_BY_UNIT: Final[Mapping[object, str]] = MappingProxyType(
    {unit._units: code for code, unit in _UNITS_BY_UCUM.items()}
)


class Kind(Term):
    """The kinds of quantity cluneal accepts, each with its own units and range."""

    AGE = "age"
    BODY_WEIGHT = "body_weight"
    HEIGHT = "height"
    SERUM_CREATININE = "serum_creatinine"
    DOSE = "dose"
    DAILY_DOSE = "daily_dose"
    CLEARANCE = "clearance"
    GFR = "gfr"
    DURATION = "duration"


@dataclass(frozen=True, slots=True)
class QuantityKind:
    """What one kind of quantity accepts: units, canonical unit and plausible range.

    ``factors`` maps each accepted UCUM code to the factor that converts a
    magnitude in that unit to the canonical unit. They are computed once, at
    import, so that validation and the hot paths never ask Pint to convert.
    """

    kind: Kind
    description: str
    example: str
    canonical: str
    accepted: tuple[str, ...]
    minimum: float | None = None
    maximum: float | None = None
    minimum_inclusive: bool = True
    bare_number_unit: str | None = None
    below_minimum_hint: str | None = None
    factors: Mapping[str, float] = field(default_factory=dict, compare=False)
    bounds: Mapping[str, tuple[float | None, float | None]] = field(
        default_factory=dict, compare=False
    )

    def bounds_in(self, code: str) -> tuple[float | None, float | None]:
        """The plausible range in one accepted unit: (minimum, maximum), ``None`` for open.

        Each bound is converted exactly from the unit it is written in and
        rounded once, so a value typed in another unit that equals a bound is
        at the bound (8.84 µmol/L is 0.1 mg/dL). Comparing after converting the
        caller's value instead would round twice, and refuse it.
        """
        return self.bounds[code]

    @property
    def canonical_unit(self) -> pint.Unit:
        """The Pint unit of the canonical form."""
        return _UNITS_BY_UCUM[self.canonical]

    def expected(self) -> str:
        """Describe, for an error message, what this kind accepts."""
        units = ", ".join(_display(code) for code in self.accepted)
        bare = f" or a bare number of {self.bare_number_unit}" if self.bare_number_unit else ""
        return (
            f"{self.description} as one number and one unit ({units}){bare}, e.g. {self.example!r}"
        )

    def range_text(self) -> str:
        """Describe the plausible range, for an error message."""
        unit = _display(self.canonical)
        if self.maximum is None:
            op = "at least" if self.minimum_inclusive else "greater than"
            return f"{self.description} {op} {self.minimum:g} {unit}"
        if self.minimum is None:
            return f"{self.description} of at most {self.maximum:g} {unit}"
        if not self.minimum_inclusive:
            return (
                f"{self.description} greater than {self.minimum:g}"
                f" and at most {self.maximum:g} {unit}"
            )
        return f"{self.description} between {self.minimum:g} and {self.maximum:g} {unit}"

    # pydantic integration -------------------------------------------------
    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            self._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                self._serialize, info_arg=True
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return quantity_json_schema(self, mode=handler.mode)

    def _validate(self, value: object, info: core_schema.ValidationInfo) -> Quantity:
        return parse_quantity(value, info.field_name or self.kind.value, self)

    def _serialize(self, value: Quantity, info: core_schema.SerializationInfo) -> object:
        if info.mode_is_json():
            return quantity_to_json(value, self)
        return value


def _display(code: str) -> str:
    for entry in _UNIT_TABLE:
        if entry.ucum == code:
            return entry.spellings[0]
    return code  # pragma: no cover - every code comes from the table


def _exact_factors(
    parameters: ClinicalParameters, kind: Kind, canonical: str, accepted: tuple[str, ...]
) -> dict[str, Fraction]:
    target = _UNITS_BY_UCUM[canonical]
    factors: dict[str, Fraction] = {}
    for code in accepted:
        unit = _UNITS_BY_UCUM[code]
        if unit.dimensionality == target.dimensionality:
            # Pint's factors between these units are short decimals (0.45359237, 2.54, ...).
            factors[code] = Fraction(repr(float(ureg.Quantity(1.0, unit).m_as(target))))
    if kind is Kind.SERUM_CREATININE:
        # Amount concentration converts through creatinine's molar mass (parameters.toml),
        # not a Pint context.
        per_mg_dl = Fraction(repr(parameters.creatinine.umol_l_per_mg_dl))
        factors["umol/L"] = 1 / per_mg_dl
        factors["mmol/L"] = 1000 / per_mg_dl
    return factors


def _bound(limit: float | None, factor: Fraction) -> float | None:
    return None if limit is None else float(Fraction(repr(limit)) / factor)


def _kind(  # noqa: PLR0917 - one row of the table of kinds, read across
    parameters: ClinicalParameters,
    kind: Kind,
    description: str,
    example: str,
    canonical: str,
    accepted: tuple[str, ...],
    *,
    bare_number_unit: str | None = None,
    below_minimum_hint: str | None = None,
) -> QuantityKind:
    plausible = parameters.plausible.get(kind.value)
    if plausible is None or plausible.unit != canonical:
        found = "none" if plausible is None else repr(plausible.unit)
        problem = f"plausible.{kind.value}: expected a range in {canonical!r}, found {found}"
        raise KnowledgeBaseError("parameters.toml", problem)
    exact = _exact_factors(parameters, kind, canonical, accepted)
    return QuantityKind(
        kind=kind,
        description=description,
        example=example,
        canonical=canonical,
        accepted=accepted,
        minimum=plausible.minimum,
        maximum=plausible.maximum,
        minimum_inclusive=plausible.minimum_inclusive,
        bare_number_unit=bare_number_unit,
        below_minimum_hint=(
            None
            if below_minimum_hint is None or plausible.minimum is None
            else below_minimum_hint.format(minimum=plausible.minimum)
        ),
        factors=MappingProxyType({code: float(f) for code, f in exact.items()}),
        bounds=MappingProxyType(
            {
                code: (_bound(plausible.minimum, f), _bound(plausible.maximum, f))
                for code, f in exact.items()
            }
        ),
    )


_MASS = ("mg", "g", "ug")
_DAILY = ("mg/d", "g/d", "ug/d")
_DURATIONS = ("min", "h", "d", "wk", "mo", "a")


def quantity_kinds(parameters: ClinicalParameters) -> Mapping[Kind, QuantityKind]:
    """Build every kind of quantity from the plausible ranges of a set of parameters.

    The package's field types use :data:`KINDS`, built once from the built-in
    ``parameters.toml``; this function is how they are built, and how a test
    shows that every range of the file is the one the parser applies.

    Args:
        parameters: The clinical parameters (``plausible`` and ``creatinine``).

    Returns:
        Every kind, by :class:`Kind`.

    Raises:
        KnowledgeBaseError: A kind has no range, or a range in another unit.

    Example:
        >>> from cluneal.knowledge.parameters import clinical_parameters
        >>> quantity_kinds(clinical_parameters())[Kind.BODY_WEIGHT].bounds_in("kg")
        (20.0, 400.0)
    """
    return MappingProxyType(
        {
            k.kind: k
            for k in (
                _kind(
                    parameters,
                    Kind.AGE,
                    "an age",
                    "70 years",
                    "a",
                    ("a", "mo"),
                    bare_number_unit="years",
                    below_minimum_hint=(
                        "an age of at least {minimum:g} years (cluneal is for adults only)"
                    ),
                ),
                _kind(
                    parameters,
                    Kind.BODY_WEIGHT,
                    "a body weight",
                    "70 kg",
                    "kg",
                    ("kg", "[lb_av]", "g"),
                ),
                _kind(
                    parameters,
                    Kind.HEIGHT,
                    "a height",
                    "175 cm",
                    "cm",
                    ("cm", "m", "mm", "[in_i]"),
                ),
                _kind(
                    parameters,
                    Kind.SERUM_CREATININE,
                    "a serum creatinine",
                    "1.1 mg/dL",
                    "mg/dL",
                    ("mg/dL", "mg/L", "umol/L", "mmol/L"),
                ),
                _kind(
                    parameters,
                    Kind.DOSE,
                    "a dose",
                    "25 mg",
                    "mg",
                    _MASS,
                ),
                _kind(
                    parameters,
                    Kind.DAILY_DOSE,
                    "a daily dose",
                    "300 mg/d",
                    "mg/d",
                    _DAILY,
                ),
                _kind(
                    parameters, Kind.CLEARANCE, "a clearance", "60 mL/min", "mL/min", ("mL/min",)
                ),
                _kind(
                    parameters,
                    Kind.GFR,
                    "an eGFR",
                    "60 mL/min/1.73m2",
                    "mL/min/{1.73_m2}",
                    ("mL/min/{1.73_m2}",),
                ),
                _kind(
                    parameters,
                    Kind.DURATION,
                    "a duration",
                    "2 weeks",
                    "d",
                    _DURATIONS,
                ),
            )
        }
    )


KINDS: Final[Mapping[Kind, QuantityKind]] = quantity_kinds(_PARAMETERS)
"""Every kind of quantity the package accepts, with the built-in plausible ranges."""


# (kind, UnitsContainer) -> factor to the kind's canonical unit: the one dict
# lookup behind magnitude_in, which the calculations call many times per result.
_FACTORS: Final[dict[tuple[Kind, object], float]] = {
    (kind, _CONTAINER_BY_UCUM[code]): factor
    for kind, spec in KINDS.items()
    for code, factor in spec.factors.items()
}

# The field names that the error helpers and ``parse_quantity`` understand.
_FIELD_KINDS: Final = MappingProxyType(
    {
        "age": Kind.AGE,
        "weight": Kind.BODY_WEIGHT,
        "height": Kind.HEIGHT,
        "serum_creatinine": Kind.SERUM_CREATININE,
        "creatinine": Kind.SERUM_CREATININE,
        "dose": Kind.DOSE,
        "daily_dose": Kind.DAILY_DOSE,
        "target_daily_dose": Kind.DAILY_DOSE,
        "duration": Kind.DURATION,
        "relief_duration": Kind.DURATION,
    }
)


def _resolve_kind(field_name: str, kind: QuantityKind | Kind | None) -> QuantityKind:
    if isinstance(kind, QuantityKind):
        return kind
    if kind is not None:
        return KINDS[kind]
    try:
        return KINDS[_FIELD_KINDS[field_name]]
    except KeyError:
        msg = f"no quantity kind is known for field {field_name!r}; pass kind="
        raise TypeError(msg) from None


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def parse_quantity(
    value: object, field_name: str, kind: QuantityKind | Kind | None = None
) -> Quantity:
    """Turn a caller's value into a validated quantity of :data:`ureg`.

    Accepts a :class:`pint.Quantity` (from any registry), a string of one
    number and one allow-listed unit (``"154 lb"``), or a mapping
    ``{"value": <number>, "unit": "<unit>"}``. A bare number is accepted only
    for a kind with a bare-number unit (age, in years).

    Args:
        value: What the caller passed.
        field_name: The field or argument name, used in error messages; it also
            selects the kind when ``kind`` is not given (``"weight"``,
            ``"serum_creatinine"``, ``"target_daily_dose"``, ...).
        kind: The kind of quantity expected.

    Returns:
        A new quantity of :data:`ureg`, in the unit the caller used.

    Raises:
        InvalidQuantityError: Anything but one finite, non-negative number with
            one accepted unit of the right dimension, inside the plausible range.

    Example:
        >>> parse_quantity("1.1 mg/dL", "serum_creatinine")
        <Quantity(1.1, 'milligram / deciliter')>
        >>> parse_quantity("2*3 mg", "dose")
        Traceback (most recent call last):
        cluneal.errors.InvalidQuantityError: dose: got '2*3 mg'; expected a dose as one number ...
    """
    spec = _resolve_kind(field_name, kind)
    magnitude: float
    code: str | None
    if isinstance(value, ureg.Quantity):
        magnitude, code = _from_own_quantity(value, field_name, spec)
    elif isinstance(value, pint.Quantity):
        magnitude, code = _from_foreign_quantity(value, field_name, spec)
    elif isinstance(value, str):
        magnitude, code = _from_text(value, field_name, spec)
    elif isinstance(value, Mapping):
        magnitude, code = _from_mapping(value, field_name, spec)
    elif _is_number(value) and spec.bare_number_unit is not None:
        # NaN passes every range comparison: an unknown age must never read as young.
        magnitude, code = _finite(value, value, field_name, spec), spec.canonical
    else:
        raise InvalidQuantityError(field_name, value, spec.expected())
    if code is None:
        raise InvalidQuantityError(field_name, value, spec.expected())
    _check_range(magnitude, code, value, field_name, spec)
    return _new_quantity(magnitude, _CONTAINER_BY_UCUM[code])


_QUANTITY_CLASS: Final = ureg.Quantity


def _new_quantity(magnitude: float, container: UnitsContainer) -> Quantity:
    # Pint's Quantity.__new__ spends ~4 µs on checks that a finite float and a
    # UnitsContainer from our own table do not need (it is on every hot path:
    # validation, result properties). The two attributes set here are what
    # __new__ sets for such inputs; tests/test_units.py checks the result equals
    # Q_(magnitude, unit) for every unit in the table, so a Pint change that
    # broke this would fail the suite.
    inst = object.__new__(_QUANTITY_CLASS)
    inst._magnitude = magnitude
    inst._units = container
    return inst


def quantity_in(magnitude: float, ucum: str) -> Quantity:
    """Build a quantity of :data:`ureg` from a trusted float and a UCUM code, cheaply.

    For results computed inside the package (floats in fixed units), where the
    general constructor's checks are wasted work.

    Args:
        magnitude: A finite number, already validated.
        ucum: A UCUM code from cluneal's table (``"mg"``, ``"mg/d"``, ``"mL/min"``, ...).

    Returns:
        The quantity.

    Raises:
        InvalidQuantityError: The code is not in the table.

    Example:
        >>> from cluneal.units import quantity_in
        >>> quantity_in(300.0, "mg/d")
        <Quantity(300.0, 'milligram / day')>
    """
    try:
        container = _CONTAINER_BY_UCUM[ucum]
    except KeyError:
        raise InvalidQuantityError("unit", ucum, "a UCUM code from cluneal's unit table") from None
    return _new_quantity(magnitude, container)


def _finite(magnitude: object, value: object, field_name: str, spec: QuantityKind) -> float:
    expected = f"a finite number: {spec.expected()}"
    if not _is_number(magnitude):
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
    code = _UCUM_BY_UNIT.get(unit)
    return code if code in spec.factors else None


def _from_own_quantity(
    value: Quantity, field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    magnitude = _finite(value.magnitude, value, field_name, spec)
    code = _code_for_unit(value._units, spec)
    if code is not None:
        return magnitude, code
    # A unit outside the table (the result of arithmetic, say): convert it to
    # the canonical unit when the dimension fits.
    for candidate in spec.accepted:
        unit = _UNITS_BY_UCUM[candidate]
        if candidate in spec.factors and value.dimensionality == unit.dimensionality:
            return float(value.m_as(unit)), candidate
    return magnitude, None


def _from_foreign_quantity(
    value: Quantity, field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    _finite(value.magnitude, value, field_name, spec)
    # Convert inside the caller's registry, to a unit every Pint registry knows.
    for candidate in spec.accepted:
        if candidate not in spec.factors:
            continue
        entry_name = next(e.pint_name for e in _UNIT_TABLE if e.ucum == candidate)
        try:
            converted = value.m_as(entry_name)
        except (pint.errors.PintError, AttributeError, TypeError, ValueError):
            continue
        return _finite(converted, value, field_name, spec), candidate
    return 0.0, None


def _from_text(value: str, field_name: str, spec: QuantityKind) -> tuple[float, str | None]:
    if len(value) > _MAX_TEXT:
        raise InvalidQuantityError(
            field_name, value, f"at most {_MAX_TEXT} characters: {spec.expected()}"
        )
    match = _NUMBER_AND_UNIT.fullmatch(value)
    if match is None:
        raise InvalidQuantityError(field_name, value, spec.expected())
    magnitude = _finite(float(match.group(1)), value, field_name, spec)
    code = _UCUM_BY_SPELLING.get(_spelling_key(match.group(2)))
    return magnitude, (code if code in spec.factors else None)


def _from_mapping(
    value: Mapping[Any, Any], field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
    if "system" in value or "code" in value:
        return _from_fhir_quantity(value, field_name, spec)
    if set(value) != {"value", "unit"} or not isinstance(value["unit"], str):
        raise InvalidQuantityError(
            field_name, value, f'a mapping {{"value": <number>, "unit": <text>}}: {spec.expected()}'
        )
    magnitude = _finite(value["value"], value, field_name, spec)
    unit_text: str = value["unit"]
    if len(unit_text) > _MAX_TEXT:
        raise InvalidQuantityError(field_name, value, spec.expected())
    code = _UCUM_BY_SPELLING.get(_spelling_key(unit_text))
    return magnitude, (code if code in spec.factors else None)


UCUM_SYSTEM: Final = "http://unitsofmeasure.org"
"""The UCUM code system URI, the ``system`` of every FHIR Quantity cluneal reads or writes."""

_FHIR_QUANTITY_KEYS: Final = frozenset({"value", "unit", "system", "code"})


def _from_fhir_quantity(
    value: Mapping[Any, Any], field_name: str, spec: QuantityKind
) -> tuple[float, str | None]:
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
        or code not in _UNITS_BY_UCUM
    ):
        raise InvalidQuantityError(field_name, value, expected)
    unit = value.get("unit", code)
    named = _UCUM_BY_SPELLING.get(_spelling_key(unit)) if isinstance(unit, str) else None
    if not isinstance(unit, str) or named not in {None, code}:
        raise InvalidQuantityError(field_name, value, expected)
    magnitude = _finite(value.get("value"), value, field_name, spec)
    return magnitude, (code if code in spec.factors else None)


def _check_range(
    magnitude: float, code: str, value: object, field_name: str, spec: QuantityKind
) -> None:
    # In the caller's unit, against the bound converted exactly (QuantityKind.bounds_in).
    low, high = spec.bounds[code]
    too_low = low is not None and (
        magnitude < low or (not spec.minimum_inclusive and magnitude == low)
    )
    if too_low and spec.below_minimum_hint is not None and magnitude >= 0:
        raise InvalidQuantityError(field_name, value, spec.below_minimum_hint)
    if too_low or (high is not None and magnitude > high):
        raise InvalidQuantityError(field_name, value, spec.range_text())


def magnitude_in(quantity: Quantity, kind: Kind) -> float:
    """Return a validated quantity's magnitude in its kind's canonical unit.

    This is the cheap path the calculations use: a table lookup and one
    multiplication, no Pint conversion, for every unit cluneal accepts.

    Args:
        quantity: A quantity already accepted by :func:`parse_quantity`.
        kind: Its kind.

    Returns:
        The magnitude in the canonical unit (kg, cm, mg/dL, mg, mg/d, mL/min, d, years).

    Example:
        >>> magnitude_in(Q_(97, "umol/L"), Kind.SERUM_CREATININE)
        1.097...
    """
    factor = _FACTORS.get((kind, getattr(quantity, "_units", None)))
    if factor is None:
        spec = KINDS[kind]
        quantity = parse_quantity(quantity, kind.value, spec)
        factor = _FACTORS[(kind, quantity._units)]
    return float(quantity._magnitude) * factor


def quantity_to_json(
    quantity: PlainQuantity[Any], kind: QuantityKind | Kind | None = None
) -> dict[str, Any]:
    """Serialise a quantity as ``{"value": <number>, "unit": "<UCUM code>"}``.

    The caller's unit is kept when it has a UCUM code in cluneal's table, so a
    weight given in pounds comes back in pounds (``[lb_av]``): nothing is lost.

    Args:
        quantity: The quantity.
        kind: Its kind, used to convert a unit outside the table to the canonical one.

    Returns:
        The JSON-ready mapping.

    Example:
        >>> quantity_to_json(Q_(154, "lb"))
        {'value': 154, 'unit': '[lb_av]'}
    """
    code = _UCUM_BY_UNIT.get(quantity._units)
    magnitude = quantity.magnitude
    if code is None:
        if kind is None:
            msg = f"cannot serialise {quantity!r} without its kind"
            raise InvalidQuantityError("quantity", quantity, msg)
        spec = kind if isinstance(kind, QuantityKind) else KINDS[kind]
        code = spec.canonical
        magnitude = quantity.m_as(_UNITS_BY_UCUM[code])
    return {"value": magnitude, "unit": code}


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


def _unit_title(code: str) -> str:
    entry = next(e for e in _UNIT_TABLE if e.ucum == code)
    words = entry.pint_name.replace("/", " per ").replace("_", " ").split()
    return "".join(word.capitalize() for word in words)


def _other_units_pattern(code: str) -> str:
    """Every spelling of every unit in the table but ``code``'s."""
    spellings = dict.fromkeys(
        spelling
        for entry in _UNIT_TABLE
        if entry.ucum != code
        for spelling in (*entry.spellings, entry.ucum)
    )
    return "(?:" + "|".join(spelling_pattern(s) for s in spellings) + ")"


def _unit_pattern(code: str) -> str:
    entry = next(e for e in _UNIT_TABLE if e.ucum == code)
    spellings = dict.fromkeys((*entry.spellings, entry.ucum))
    return "(?:" + "|".join(spelling_pattern(s) for s in spellings) + ")"


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
        unit = _unit_pattern(code)
        options.append(
            {
                "title": f"{name}In{_unit_title(code)}",
                "type": "object",
                "properties": {
                    "value": _number_schema(low, high, spec),
                    "unit": {
                        "type": "string",
                        "maxLength": _MAX_TEXT,
                        "pattern": f"^{WHITESPACE}*{unit}{WHITESPACE}*$",
                        "description": f"{_display(code)} (UCUM {code!r}) or another spelling",
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
                "title": f"{name}FhirIn{_unit_title(code)}",
                "type": "object",
                "properties": {
                    "value": _number_schema(low, high, spec),
                    "unit": {
                        "type": "string",
                        "maxLength": _MAX_TEXT,
                        # Display text, but never the name of another unit.
                        "not": {
                            "pattern": f"^{WHITESPACE}*{_other_units_pattern(code)}{WHITESPACE}*$"
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
            "maxLength": _MAX_TEXT,
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


Age: TypeAlias = Annotated[Quantity, KINDS[Kind.AGE]]
"""An adult's age (range: ``plausible.age`` of ``parameters.toml``); a bare number means years."""
BodyWeight: TypeAlias = Annotated[Quantity, KINDS[Kind.BODY_WEIGHT]]
"""A body weight in kg, lb or g (range: ``plausible.body_weight``)."""
Height: TypeAlias = Annotated[Quantity, KINDS[Kind.HEIGHT]]
"""A height in cm, m, mm or in (range: ``plausible.height``)."""
SerumCreatinine: TypeAlias = Annotated[Quantity, KINDS[Kind.SERUM_CREATININE]]
"""A serum creatinine in mg/dL, mg/L, µmol/L or mmol/L (range: ``plausible.serum_creatinine``)."""
Dose: TypeAlias = Annotated[Quantity, KINDS[Kind.DOSE]]
"""A dose per administration (a mass), in mg, g or µg."""
DailyDose: TypeAlias = Annotated[Quantity, KINDS[Kind.DAILY_DOSE]]
"""A daily dose (mass per time), in mg/d, g/d or µg/d."""
Clearance: TypeAlias = Annotated[Quantity, KINDS[Kind.CLEARANCE]]
"""A creatinine clearance in mL/min."""
GlomerularFiltrationRate: TypeAlias = Annotated[Quantity, KINDS[Kind.GFR]]
"""An eGFR in mL/min/1.73 m²."""
Duration: TypeAlias = Annotated[Quantity, KINDS[Kind.DURATION]]
"""A duration, in minutes, hours, days, weeks, months or years."""
