"""Units: the package's one registry, strict parsing, and dimension-typed fields.

cluneal owns one :class:`pint.UnitRegistry`, :data:`ureg`, built eagerly from a
small table of unit definitions when the package is imported. Eager construction
avoids the race in Pint's lazily built application registry (Pint issue 2039) and
the small vocabulary keeps the import fast (about a millisecond instead of ~100).

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeAlias

import pint
from pydantic_core import core_schema

from cluneal._quantity_readers import (
    finite,
    from_foreign_quantity,
    from_mapping,
    from_own_quantity,
    from_text,
    is_number,
)
from cluneal._quantity_schema import quantity_json_schema
from cluneal._unit_table import (
    CONTAINER_BY_UCUM,
    UCUM_BY_UNIT,
    UCUM_SYSTEM,
    UNITS_BY_UCUM,
    display_unit,
)
from cluneal._unit_table import ureg as _registry
from cluneal.errors import InvalidQuantityError, KnowledgeBaseError
from cluneal.knowledge.parameters import clinical_parameters
from cluneal.vocabulary import Kind

if TYPE_CHECKING:
    from pint.facets.plain import PlainQuantity
    from pint.util import UnitsContainer
    from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue

    from cluneal.knowledge.parameters import ClinicalParameters

__all__ = [
    "CREATININE_UMOL_L_PER_MG_DL",
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
    "quantity_json_schema",
    "quantity_kinds",
    "quantity_to_json",
    "ureg",
]

ureg: Final[pint.UnitRegistry[Any]] = _registry
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
        return UNITS_BY_UCUM[self.canonical]

    def expected(self) -> str:
        """Describe, for an error message, what this kind accepts."""
        units = ", ".join(display_unit(code) for code in self.accepted)
        bare = f" or a bare number of {self.bare_number_unit}" if self.bare_number_unit else ""
        return (
            f"{self.description} as one number and one unit ({units}){bare}, e.g. {self.example!r}"
        )

    def range_text(self) -> str:
        """Describe the plausible range, for an error message."""
        unit = display_unit(self.canonical)
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


def _exact_factors(
    parameters: ClinicalParameters, kind: Kind, canonical: str, accepted: tuple[str, ...]
) -> dict[str, Fraction]:
    target = UNITS_BY_UCUM[canonical]
    factors: dict[str, Fraction] = {}
    for code in accepted:
        unit = UNITS_BY_UCUM[code]
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

    The field types use :data:`KINDS`, built by it once from the built-in ``parameters.toml``.

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
    (kind, CONTAINER_BY_UCUM[code]): factor
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
        magnitude, code = from_own_quantity(value, field_name, spec)
    elif isinstance(value, pint.Quantity):
        magnitude, code = from_foreign_quantity(value, field_name, spec)
    elif isinstance(value, str):
        magnitude, code = from_text(value, field_name, spec)
    elif isinstance(value, Mapping):
        magnitude, code = from_mapping(value, field_name, spec)
    elif is_number(value) and spec.bare_number_unit is not None:
        # NaN passes every range comparison: an unknown age must never read as young.
        magnitude, code = finite(value, value, field_name, spec), spec.canonical
    else:
        raise InvalidQuantityError(field_name, value, spec.expected())
    if code is None:
        raise InvalidQuantityError(field_name, value, spec.expected())
    _check_range(magnitude, code, value, field_name, spec)
    return _new_quantity(magnitude, CONTAINER_BY_UCUM[code])


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
        container = CONTAINER_BY_UCUM[ucum]
    except KeyError:
        raise InvalidQuantityError("unit", ucum, "a UCUM code from cluneal's unit table") from None
    return _new_quantity(magnitude, container)


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
    code = UCUM_BY_UNIT.get(quantity._units)
    magnitude = quantity.magnitude
    if code is None:
        if kind is None:
            msg = f"cannot serialise {quantity!r} without its kind"
            raise InvalidQuantityError("quantity", quantity, msg)
        spec = kind if isinstance(kind, QuantityKind) else KINDS[kind]
        code = spec.canonical
        magnitude = quantity.m_as(UNITS_BY_UCUM[code])
    return {"value": magnitude, "unit": code}


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
