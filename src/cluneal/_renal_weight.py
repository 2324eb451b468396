"""Which body weight Cockcroft-Gault uses, and the clearance with its explanation.

Private machinery of :mod:`cluneal.renal` (decision_obesity_weight_basis,
decision_ideal_body_weight_from_152_cm), in plain floats: the caller reads
the patient's numbers once (the readers here) and passes the knowledge base's
renal table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cluneal.errors import InsufficientDataError, UnknownTermError
from cluneal.renal_equations import FEMALE_FACTOR, cockcroft_gault_ml_min, devine_kg
from cluneal.units import Kind, magnitude_in, quantity_in
from cluneal.vocabulary import WeightBasis

if TYPE_CHECKING:
    from cluneal.knowledge.renal import RenalTable
    from cluneal.patient import Patient
    from cluneal.units import Quantity

__all__ = [
    "AGE",
    "CLEARANCE",
    "CREATININE",
    "HEIGHT",
    "WEIGHT",
    "Body",
    "Clearance",
    "Reader",
    "actual_weight_reason",
    "age_in_years",
    "clearance",
    "clearance_ml_min",
    "cockcroft_gault",
    "explain",
    "ibw_kg",
    "parse_weight_basis",
    "weight_for",
]


@dataclass(frozen=True, slots=True)
class Body:
    """The patient's numbers the equations read, in canonical units (read once)."""

    age_years: float
    female: bool
    weight_kg: float | None
    height_cm: float | None
    creatinine_mg_dl: float | None


@dataclass(frozen=True, slots=True)
class Clearance:
    """A Cockcroft-Gault clearance: value, weight basis used, weight, explanation."""

    ml_min: float
    basis: WeightBasis
    weight_kg: float
    explanation: str


def parse_weight_basis(value: object) -> WeightBasis | None:
    """Turn a caller's weight basis into a :class:`WeightBasis` (the one parser for it).

    Args:
        value: A :class:`WeightBasis`, its value, or ``None`` for the package default.

    Returns:
        The basis, or ``None``.

    Raises:
        UnknownTermError: Anything else (never a ``TypeError`` for an odd type).

    Example:
        >>> parse_weight_basis("ideal")
        <WeightBasis.IDEAL: 'ideal'>
    """
    if value is None:
        return None
    if isinstance(value, str) and value in WeightBasis.__members__.values():
        return WeightBasis(value)
    raise UnknownTermError("weight_basis", value, [w.value for w in WeightBasis])


def ibw_kg(body: Body, table: RenalTable) -> float | None:
    """Devine IBW in kg, or ``None`` when height is unknown or below the formula's start."""
    height_cm = body.height_cm
    rule = table.ideal_body_weight
    if height_cm is None or height_cm < rule.min_height_cm:
        return None
    base = rule.female_base_kg if body.female else rule.male_base_kg
    ibw: float = devine_kg(height_cm, base, rule)
    return round(ibw, 10)


def _adjusted(ibw: float, actual: float, table: RenalTable) -> float:
    return ibw + table.obesity.adjustment_factor * (actual - ibw)


def _default_basis(body: Body, actual: float, table: RenalTable) -> tuple[float, WeightBasis, str]:
    """The package default: actual weight, adjusted in obesity (decision_obesity_weight_basis)."""
    ibw = ibw_kg(body, table)
    rule = table.obesity
    if ibw is not None and actual > rule.adjusted_above_ibw_ratio * ibw:
        adjusted = _adjusted(ibw, actual, table)
        return (
            adjusted,
            WeightBasis.ADJUSTED,
            (
                f"adjusted body weight {adjusted:.1f} kg = IBW {ibw:.1f} + "
                f"{rule.adjustment_factor:g} x ({actual:.1f} - {ibw:.1f}), the default because "
                f"actual weight is above {rule.adjusted_above_ibw_ratio * 100:g}% of IBW "
                f"({rule.rule_id})"
            ),
        )
    return actual, WeightBasis.ACTUAL, f"actual body weight {actual:.1f} kg"


def weight_for(
    body: Body, basis: WeightBasis | None, table: RenalTable
) -> tuple[float, WeightBasis, str]:
    """The weight Cockcroft-Gault uses, its basis and the words for it.

    Raises:
        InsufficientDataError: Weight (or height for a non-actual basis) unknown.
    """
    actual = body.weight_kg
    if actual is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["weight"])
    if basis is None:
        return _default_basis(body, actual, table)
    if basis is WeightBasis.ACTUAL:
        return actual, basis, f"actual body weight {actual:.1f} kg"
    if body.height_cm is None:
        raise InsufficientDataError(f"Cockcroft-Gault with {basis.value} body weight", ["height"])
    ibw = ibw_kg(body, table)
    if ibw is None:
        rule = table.ideal_body_weight
        return (
            actual,
            WeightBasis.ACTUAL,
            (
                f"actual body weight {actual:.1f} kg, because no ideal body weight is defined "
                f"below {rule.min_height_cm:g} cm (height {body.height_cm:g} cm; "
                f"{rule.rule_id})"
            ),
        )
    if actual < ibw:
        return (
            actual,
            WeightBasis.ACTUAL,
            (f"actual body weight {actual:.1f} kg, because it is below the ideal {ibw:.1f} kg"),
        )
    if basis is WeightBasis.IDEAL:
        return ibw, basis, f"ideal body weight (Devine) {ibw:.1f} kg"
    adjusted = _adjusted(ibw, actual, table)
    factor = table.obesity.adjustment_factor
    return (
        adjusted,
        basis,
        (
            f"adjusted body weight {adjusted:.1f} kg"
            f" = IBW {ibw:.1f} + {factor:g} x ({actual:.1f} - {ibw:.1f})"
        ),
    )


def cockcroft_gault(body: Body, basis: WeightBasis | None, table: RenalTable) -> Clearance:
    """The clearance in floats, with the weight basis used and its explanation.

    Raises:
        InsufficientDataError: Creatinine, weight (or height for a non-actual basis) unknown.
    """
    creatinine = body.creatinine_mg_dl
    if creatinine is None:
        raise InsufficientDataError("Cockcroft-Gault creatinine clearance", ["serum_creatinine"])
    weight, used, weight_text = weight_for(body, basis, table)
    age = body.age_years
    female = body.female
    value = clearance_ml_min(age, weight, creatinine, female=female)
    return Clearance(
        value, used, weight, explain(age, weight, creatinine, value, weight_text, female=female)
    )


def clearance_ml_min(age: float, weight: float, creatinine: float, *, female: bool) -> float:
    """Cockcroft-Gault in mL/min, rounded to 10 decimals.

    Rounded so that a clearance exactly on a band boundary (e.g. 72 x 72 /
    86.4 = 60) is not pushed across it by float error.
    """
    value: float = cockcroft_gault_ml_min(age, weight, creatinine, FEMALE_FACTOR if female else 1.0)
    return round(value, 10)


def explain(
    age: float, weight: float, creatinine: float, value: float, weight_text: str, *, female: bool
) -> str:
    """How a Cockcroft-Gault clearance was computed, in words."""
    sex_text = f" x {FEMALE_FACTOR:g} (female)" if female else ""
    return (
        f"Cockcroft-Gault: (140 - {age:g}) x {weight:.1f} kg / (72 x {creatinine:.4g} mg/dL)"
        f"{sex_text} = {value:.1f} mL/min, using {weight_text}"
    )


class Reader:
    """Reads a validated quantity in its kind's canonical unit, as ``magnitude_in`` does.

    A quantity in the canonical unit's own units object (what validation builds)
    is read with the same multiplication, without the table lookup; any other
    goes through ``magnitude_in``.
    """

    __slots__ = ("_factor", "_kind", "_units")

    def __init__(self, kind: Kind, ucum: str) -> None:
        probe = quantity_in(1.0, ucum)
        self._kind = kind
        # The units object validation builds quantities with (compared by identity).
        self._units: object = probe._units
        self._factor = magnitude_in(probe, kind)

    def __call__(self, quantity: Quantity) -> float:
        if quantity._units is self._units:
            return float(quantity._magnitude) * self._factor
        return magnitude_in(quantity, self._kind)


AGE: Final = Reader(Kind.AGE, "a")
WEIGHT: Final = Reader(Kind.BODY_WEIGHT, "kg")
HEIGHT: Final = Reader(Kind.HEIGHT, "cm")
CREATININE: Final = Reader(Kind.SERUM_CREATININE, "mg/dL")
CLEARANCE: Final = Reader(Kind.CLEARANCE, "mL/min")


def age_in_years(patient: Patient) -> float:
    """The patient's age in years (``Patient.age_years``, read cheaply)."""
    return AGE(patient.age)


def actual_weight_reason(  # noqa: PLR0917 - the numbers of one sentence
    age: float,
    weight: float,
    creatinine: float,
    crcl: float,
    female: bool,  # noqa: FBT001 - a Deferred's arguments are positional
    band: str,
) -> str:
    """The reason of a clearance on actual weight by default, and its band (rendered when read)."""
    words = f"actual body weight {weight:.1f} kg"
    return explain(age, weight, creatinine, crcl, words, female=female) + band


def clearance(  # noqa: PLR0917 - the patient's numbers, read once by the caller
    age: float,
    female: bool,  # noqa: FBT001 - a value, as the others
    weight: float | None,
    height: float | None,
    creatinine: float,
    basis: WeightBasis | None,
    table: RenalTable,
) -> tuple[float | None, WeightBasis | None, str | None, tuple[str, ...]]:
    """(CrCl, weight basis used, explanation, missing) from a known creatinine.

    The explanation is ``None`` for the package default on actual weight: the
    caller defers it (:func:`actual_weight_reason`).
    """
    if weight is None:
        return None, None, "", ("weight",)
    if basis is None and height is None:
        # The package default with no height: actual weight (no ideal weight to compare).
        return (
            clearance_ml_min(age, weight, creatinine, female=female),
            WeightBasis.ACTUAL,
            None,
            (),
        )
    try:
        estimate = cockcroft_gault(Body(age, female, weight, height, creatinine), basis, table)
    except InsufficientDataError as exc:
        return None, None, "", exc.missing  # height for the ideal/adjusted basis
    return estimate.ml_min, estimate.basis, estimate.explanation, ()
