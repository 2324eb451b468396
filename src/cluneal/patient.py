"""The patient: demographics, renal and hepatic state, conditions, co-medication.

A :class:`Patient` is data, with no rules in it: the renal equations live in
:mod:`cluneal.renal`, the dosing and safety rules in the knowledge base.

Example:
    >>> from cluneal import Patient
    >>> p = Patient(age=78, sex="female", weight="154 lb", serum_creatinine="97 umol/L")
    >>> p.age
    <Quantity(78, 'year')>
    >>> round(p.weight_kg, 1), round(p.creatinine_mg_dl, 2)
    (69.9, 1.1)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import (
    BeforeValidator,
    ConfigDict,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from cluneal._base import FrozenModel
from cluneal._checks import choice, flag, text
from cluneal.errors import InvalidQuantityError, show
from cluneal.knowledge.medications import medication_catalogue, normalise_name
from cluneal.knowledge.parameters import clinical_parameters
from cluneal.units import Age, BodyWeight, Height, Kind, SerumCreatinine, magnitude_in
from cluneal.vocabulary import Condition, HepaticImpairment, MedicationClass, Sex

if TYPE_CHECKING:
    from cluneal.units import AgeInput, QuantityInput

__all__ = [
    "OLDER_ADULT_AGE_YEARS",
    "Condition",
    "HepaticImpairment",
    "MedicationClass",
    "Patient",
    "Sex",
    "classes_of",
    "is_recognized_medication",
]

OLDER_ADULT_AGE_YEARS: Final = clinical_parameters().older_adult.age_years
"""Age from which a patient is an older adult (Beers 2023; decision_start_low)."""


_MEDICATION_NAME = re.compile(r"[a-z0-9][a-z0-9 ().,+'/-]{0,79}")


def classes_of(medication: str) -> frozenset[MedicationClass]:
    """Return the classes of a medication by generic name (empty when unknown).

    Reads the built-in catalogue (``medications.toml``); the rules classify
    with the catalogue of the knowledge base they are given
    (:func:`cluneal.knowledge.criteria.facts_for`).

    Args:
        medication: A generic name; case and surrounding spaces are ignored.

    Returns:
        The classes the knowledge base assigns to it.

    Example:
        >>> sorted(c.value for c in classes_of("Pregabalin"))
        ['antiepileptic', 'gabapentinoid']
    """
    return medication_catalogue().get(normalise_name(text(medication, "medication")), frozenset())


def is_recognized_medication(medication: str) -> bool:
    """Whether the built-in knowledge base knows a medication's classes.

    Args:
        medication: A generic name.

    Returns:
        ``True`` when :func:`classes_of` has something to say about it.

    Example:
        >>> is_recognized_medication("warfarin"), is_recognized_medication("vitamin d")
        (True, False)
    """
    return normalise_name(text(medication, "medication")) in medication_catalogue()


def _items(value: object) -> list[object] | None:
    """The items of a collection field, or ``None`` to let pydantic refuse the value."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        # A single string would otherwise be read as a sequence of letters.
        return None
    try:
        return list(value)
    except Exception:
        return None


def _medication_names(value: object) -> object:
    items = _items(value)
    if items is None:
        return value
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            return value  # let pydantic name the bad item
        name = normalise_name(item)
        if not _MEDICATION_NAME.fullmatch(name):
            raise InvalidQuantityError(
                "medications",
                item,
                "a generic medication name (letters, digits, spaces; at most 80)",
            )
        names.append(name)
    return tuple(sorted(set(names)))


def _unique_sorted(value: object) -> object:
    items = _items(value)
    if items is None:
        return value
    names = [item for item in items if isinstance(item, str)]
    if len(names) != len(items):
        return tuple(items)  # pydantic names the bad item (hashing it could raise anything)
    return tuple(sorted(set(names)))


# What JSON Schema can say of a name: the parser also folds case and collapses
# whitespace before it checks the 80-character limit.
_NAME_PATTERN: Final = r"^[ \t\n\r\f\v]*[A-Za-z0-9][A-Za-z0-9 ().,+'/\-\t\n\r\f\v]*$"
MedicationNames = Annotated[
    tuple[str, ...],
    BeforeValidator(_medication_names),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "string", "maxLength": 80, "pattern": _NAME_PATTERN},
            "description": "Generic names: letters, digits, spaces and ().,+'/- ; at most 80.",
        }
    ),
]


class Patient(FrozenModel):
    """An adult patient, as the dosing and safety rules see them.

    Every quantity accepts a :data:`~cluneal.Q_`, a string of one number and
    one unit, or ``{"value": ..., "unit": ...}``; only ``age`` takes a bare
    number (years). Values outside the plausible ranges of decision_units_and_plausible_ranges
    are refused, never clamped.

    Attributes:
        age: 18-120 years.
        sex: ``"female"`` or ``"male"``.
        weight: Actual body weight, 20-400 kg (kg, lb or g); ``None`` if unknown.
        height: 100-250 cm (cm, m, mm or in); ``None`` if unknown.
        serum_creatinine: 0.1-25 mg/dL (mg/dL, mg/L, µmol/L or mmol/L); ``None`` if unknown.
        on_dialysis: Whether the patient is on haemodialysis.
        hepatic_impairment: ``"none"``, ``"mild"``, ``"moderate"`` or ``"severe"``.
        conditions: :class:`Condition` members (or their values).
        medications: Current medications other than the one being planned,
            generic names, lower case.
        recent_medications: Medications stopped within the last 14 days (MAOI
            washout, naltrexone's opioid-free interval).
        hla_b_1502: HLA-B*15:02 carrier status; ``None`` when not tested.
        allergies: Drugs the patient is known to be hypersensitive to, generic
            names (a listed drug is contraindicated: every label says so).

    Example:
        >>> Patient(age=45, sex="male", weight=70)
        Traceback (most recent call last):
        pydantic_core._pydantic_core.ValidationError: 1 validation error for Patient
        weight
          Value error, weight: got 70; expected a body weight as one number and one unit ...
    """

    # The one cross-field rule, said in JSON Schema too: no pregnancy for sex "male".
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"sex": {"const": "male"}}, "required": ["sex"]},
            "then": {"properties": {"conditions": {"not": {"contains": {"const": "pregnancy"}}}}},
        }
    )

    age: Age
    sex: Sex
    weight: BodyWeight | None = None
    height: Height | None = None
    serum_creatinine: SerumCreatinine | None = None
    on_dialysis: bool = False
    hepatic_impairment: HepaticImpairment = HepaticImpairment.NONE
    conditions: Annotated[tuple[Condition, ...], BeforeValidator(_unique_sorted)] = ()
    medications: MedicationNames = ()
    recent_medications: MedicationNames = ()
    hla_b_1502: bool | None = None
    allergies: MedicationNames = ()

    if TYPE_CHECKING:
        # The documented call style, for type checkers without the pydantic
        # plugin: inputs are wider than the fields (text, mappings, names).
        def __init__(
            self,
            *,
            age: AgeInput,
            sex: Sex | str,
            weight: QuantityInput | None = None,
            height: QuantityInput | None = None,
            serum_creatinine: QuantityInput | None = None,
            on_dialysis: bool = False,
            hepatic_impairment: HepaticImpairment | str = HepaticImpairment.NONE,
            conditions: Iterable[Condition | str] = (),
            medications: Iterable[str] = (),
            recent_medications: Iterable[str] = (),
            hla_b_1502: bool | None = None,
            allergies: Iterable[str] = (),
        ) -> None:
            """Validate the inputs into a patient (see the class docstring)."""

    @field_validator("on_dialysis", "hla_b_1502", mode="before")
    @classmethod
    def _strict_bool(cls, value: Any) -> Any:
        # "no" or 0 must not become False: a clinical flag is a real boolean.
        if value is None or isinstance(value, bool):
            return value
        msg = f"got {show(value)}; expected true or false"
        raise ValueError(msg)

    @model_validator(mode="after")
    def _consistent(self) -> Patient:
        if Condition.PREGNANCY in self.conditions and self.sex is Sex.MALE:
            msg = "conditions: 'pregnancy' was given for a patient of sex 'male'; check the record"
            raise ValueError(msg)
        return self

    # Cheap float views for the calculations (canonical units in the name).
    @property
    def age_years(self) -> float:
        """Age in years, as a float."""
        return magnitude_in(self.age, Kind.AGE)

    @property
    def weight_kg(self) -> float | None:
        """Actual body weight in kg, or ``None``."""
        return None if self.weight is None else magnitude_in(self.weight, Kind.BODY_WEIGHT)

    @property
    def height_cm(self) -> float | None:
        """Height in cm, or ``None``."""
        return None if self.height is None else magnitude_in(self.height, Kind.HEIGHT)

    @property
    def creatinine_mg_dl(self) -> float | None:
        """Serum creatinine in mg/dL (µmol/L divided by 88.4), or ``None``."""
        if self.serum_creatinine is None:
            return None
        return magnitude_in(self.serum_creatinine, Kind.SERUM_CREATININE)

    @property
    def is_older_adult(self) -> bool:
        """At or above the older-adult age (``population.older_adult``: Beers 2023, start low).

        The rules read the older-adult age of the knowledge base they are given
        (:func:`cluneal.knowledge.criteria.facts_for`); this property, like
        :data:`OLDER_ADULT_AGE_YEARS`, uses the built-in ``parameters.toml``.

        Example:
            >>> from cluneal import knowledge_base
            >>> age = knowledge_base().parameters.older_adult.age_years
            >>> [Patient(age=a, sex="male").is_older_adult for a in (age, age - 1)]
            [True, False]
        """
        return self.age_years >= OLDER_ADULT_AGE_YEARS

    @property
    def has_cardiac_disease(self) -> bool:
        """Any cardiac condition (for the nortriptyline 100 mg cap)."""
        return any(c.is_cardiac for c in self.conditions)

    def has(self, condition: Condition | str) -> bool:
        """Whether the patient has a condition.

        Args:
            condition: A :class:`Condition` or its value.

        Returns:
            ``True`` when it is recorded.
        """
        return choice(condition, Condition, "condition") in self.conditions

    @property
    def medication_classes(self) -> frozenset[MedicationClass]:
        """Every class among the current medications (built-in catalogue).

        The rules classify with the catalogue of the knowledge base they are
        given: ``facts_for(patient, knowledge).medication_classes``.
        """
        return frozenset(c for m in self.medications for c in classes_of(m))

    @property
    def recent_medication_classes(self) -> frozenset[MedicationClass]:
        """Every class among the medications stopped in the last 14 days (built-in catalogue)."""
        return frozenset(c for m in self.recent_medications for c in classes_of(m))

    def medications_in(
        self, cls: MedicationClass, *, include_recent: bool = False
    ) -> tuple[str, ...]:
        """Current (and optionally recent) medications of one class.

        Args:
            cls: The class.
            include_recent: Also look at medications stopped in the last 14 days.

        Returns:
            The names, sorted.

        Example:
            >>> p = Patient(age=50, sex="male", medications=["oxycodone", "sertraline"])
            >>> p.medications_in(MedicationClass.OPIOID)
            ('oxycodone',)
        """
        cls = choice(cls, MedicationClass, "cls")
        include_recent = flag(include_recent, "include_recent")
        pool = self.medications + (self.recent_medications if include_recent else ())
        return tuple(sorted({m for m in pool if cls in classes_of(m)}))

    @property
    def unrecognized_medications(self) -> tuple[str, ...]:
        """Medications the built-in catalogue cannot classify: they were not screened."""
        return tuple(m for m in self.medications if not is_recognized_medication(m))
