"""Loader for ``parameters.toml``: the clinical parameters the rules act on.

Ages, renal bands and hepatic states that decide which rule applies live here
once, each with its rule id and citation, instead of as constants in the rule
modules. Values that name an enum of a higher layer (a renal band, a hepatic
impairment, a condition) are kept as their string values here and checked
against those enums when the knowledge base is assembled.

Example:
    >>> from cluneal.knowledge.parameters import clinical_parameters
    >>> clinical_parameters().older_adult.age_years
    65.0
"""

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, model_validator

from cluneal._base import FrozenModel
from cluneal.errors import KnowledgeBaseError
from cluneal.knowledge import read_toml

__all__ = [
    "AgeAbove",
    "AgeAtLeast",
    "ClinicalParameters",
    "CreatinineConversion",
    "PlausibleRange",
    "States",
    "clinical_parameters",
    "parse_parameters",
]

_SOURCE = "parameters.toml"


class _Parameter(FrozenModel):
    rule_id: Annotated[str, Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]


class AgeAtLeast(_Parameter):
    """An age group that starts at an age (inclusive).

    Attributes:
        age_years: The first age in the group.
    """

    age_years: Annotated[float, Field(gt=0, le=130)]

    def holds(self, age_years: float) -> bool:
        """Whether an age is in the group."""
        return age_years >= self.age_years


class AgeAbove(_Parameter):
    """An age group strictly above an age.

    Attributes:
        age_above_years: The age the group starts above.
    """

    age_above_years: Annotated[float, Field(gt=0, le=130)]

    def holds(self, age_years: float) -> bool:
        """Whether an age is in the group."""
        return age_years > self.age_above_years


class States(_Parameter):
    """A set of renal bands, or of hepatic impairments and conditions, that counts as one state.

    Attributes:
        bands: Renal band values.
        impairment: Hepatic impairment values.
        conditions: Condition values.
    """

    bands: tuple[str, ...] = ()
    impairment: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


class PlausibleRange(_Parameter):
    """The values of one kind of quantity the package accepts (decision_units_and_plausible_ranges).

    Attributes:
        unit: The UCUM code the bounds are written in (the kind's canonical unit).
        minimum: The lowest value, or ``None``.
        minimum_inclusive: Whether the minimum itself is accepted.
        maximum: The highest value accepted, or ``None``.
    """

    unit: Annotated[str, Field(min_length=1)]
    minimum: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    minimum_inclusive: bool = True
    maximum: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.minimum is not None and self.maximum is not None and self.minimum >= self.maximum:
            msg = f"{self.rule_id}: minimum {self.minimum} is not below maximum {self.maximum}"
            raise ValueError(msg)
        return self


class CreatinineConversion(_Parameter):
    """How mass and amount concentrations of creatinine convert.

    Attributes:
        umol_l_per_mg_dl: Micromoles per litre in one milligram per decilitre.
    """

    umol_l_per_mg_dl: Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ClinicalParameters(FrozenModel):
    """The clinical parameters the rules act on.

    Attributes:
        older_adult: "Older" (Beers 2023, start low, older-adult caps).
        age_over_75: Tramadol's older-patient cap.
        renal_restricted: The renal bands read as "CrCl < 30 mL/min".
        hepatic_significant: The hepatic states behind tramadol's hepatic cap.
        hepatic_start_low: The hepatic states that start a schedule low.
        creatinine: The creatinine unit conversion (cluneal.units).
        plausible: The plausible range of each kind of quantity, by kind
            (``"age"``, ``"body_weight"``, ...; cluneal.units builds its field
            types from them).
    """

    older_adult: AgeAtLeast
    age_over_75: AgeAbove
    renal_restricted: States
    hepatic_significant: States
    hepatic_start_low: States
    creatinine: CreatinineConversion
    plausible: Mapping[str, PlausibleRange]


@cache
def clinical_parameters() -> ClinicalParameters:
    """Return the built-in clinical parameters (read once, validated).

    Returns:
        The parameters.

    Raises:
        KnowledgeBaseError: The file is missing or malformed.

    Example:
        >>> clinical_parameters().age_over_75.holds(75.0)
        False
    """
    return parse_parameters(read_toml(_SOURCE))


def parse_parameters(raw: Mapping[str, Any]) -> ClinicalParameters:
    """Validate the parsed ``parameters.toml`` (what :func:`clinical_parameters` reads).

    Args:
        raw: The parsed TOML.

    Returns:
        The parameters.

    Raises:
        KnowledgeBaseError: The file is malformed.
    """
    try:
        return ClinicalParameters.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeBaseError(_SOURCE, str(exc)) from exc
