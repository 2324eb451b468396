"""The results of the titration engine: steps, adjustments, supplements and the schedule.

Results keep doses as floats in fixed units (``dose_mg``) and build Pint
quantities only when read (``.dose``, ``.daily_dose``): Pint stays at the
boundary. JSON carries quantities as ``{"value": 300, "unit": "mg"}``.

The engine (:mod:`cluneal.titration._engine`) builds these models from values
it has already checked (:func:`cluneal._base.trusted`) and runs the schedule's
invariants once (:func:`check_invariants`); a caller's mapping or JSON is
validated in full, invariants included.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import Field, GetJsonSchemaHandler, computed_field, model_validator

from cluneal._base import FrozenModel, presenter
from cluneal._checks import number
from cluneal._lazy_text import TextOnRead
from cluneal.alerts import SafetyAlert
from cluneal.drug import Drug
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.drugs import ProtocolName, Timing
from cluneal.knowledge.monograph import DosesPerDay
from cluneal.renal import RenalAssessment
from cluneal.units import (
    KINDS,
    DailyDose,
    Dose,
    Kind,
    Quantity,
    magnitude_in,
    parse_quantity,
    quantity_in,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "Adjustment",
    "SupplementalInstruction",
    "TitrationSchedule",
    "TitrationStep",
    "check_invariants",
]

_EPS: Final = 1e-9


def _json_number(value: float) -> float | int:
    # Whole doses are ints, so JSON reads {"value": 300, "unit": "mg"}.
    return int(value) if value.is_integer() else value


def _mg(value: object, field: str, kind: Kind) -> float:
    return magnitude_in(parse_quantity(value, field, kind), kind)


def _swap_schema(
    schema: JsonSchemaValue,
    fields: dict[str, tuple[str, Kind, bool]],
    mode: str,
) -> JsonSchemaValue:
    """Describe float fields by the quantities JSON actually carries."""
    props: dict[str, Any] = schema.get("properties", {})
    required: list[str] = list(schema.get("required", []))
    for float_name, (name, kind, always) in fields.items():
        props.pop(float_name, None)
        if float_name in required:
            required.remove(float_name)
        spec = KINDS[kind]
        props[name] = {
            "type": "object",
            "properties": {
                "value": {"type": "number"},
                "unit": {"type": "string", "description": "UCUM code"},
            },
            "required": ["value", "unit"],
            "description": f"{spec.description[0].upper()}{spec.description[1:]}, e.g. "
            f"{{'value': 300, 'unit': '{spec.canonical}'}}",
        }
        if mode == "validation":
            props[name] = {
                "anyOf": [
                    props[name],
                    {
                        "type": "string",
                        "description": f"One number and one unit, e.g. {spec.example!r}",
                    },
                ]
            }
        if always or mode == "serialization":
            required.append(name)
    schema["properties"] = props
    schema["required"] = required
    return schema


def _quantity_input_schema(
    core_schema: CoreSchema,
    handler: GetJsonSchemaHandler,
    fields: dict[str, tuple[str, Kind, bool]],
) -> JsonSchemaValue:
    """JSON Schema of a float-backed model: the quantity names replace the float fields."""
    schema = handler.resolve_ref_schema(handler(core_schema))
    if handler.mode == "serialization":
        return schema  # the computed quantity fields describe the output
    return _swap_schema(schema, fields, handler.mode)


class TitrationStep(FrozenModel):
    """One step of a schedule: from ``day`` on, take ``dose`` ``doses_per_day`` times.

    Attributes:
        day: Days from the start (the first step is day 0).
        dose_mg: The dose per administration in mg (read ``dose`` for a quantity).
        doses_per_day: Administrations per day (at most the four a timing can name:
            a structural bound, ``knowledge.monograph.MAX_DOSES_PER_DAY``).
        timing: When the doses are taken.
        composition: The dose in marketed strengths ("1 x 300 mg capsule").
        date: The calendar date, when the schedule has a start date.
        reason: Why this step.

    Example:
        >>> st = TitrationStep(day=0, dose="300 mg", doses_per_day=1, timing="bedtime",
        ...                    composition="1 x 300 mg capsule", reason="start")
        >>> st.dose, st.daily_dose
        (<Quantity(300, 'milligram')>, <Quantity(300, 'milligram / day')>)
        >>> st.model_dump(mode="json")["daily_dose"]
        {'value': 300, 'unit': 'mg/d'}
    """

    day: Annotated[int, Field(ge=0)]
    dose_mg: Annotated[float, Field(gt=0, allow_inf_nan=False, exclude=True)]
    doses_per_day: DosesPerDay
    timing: Timing
    composition: Annotated[str, Field(min_length=1)]
    date: dt.date | None = None
    # Rendered when read or serialised where the engine defers it (cluneal._lazy_text).
    reason: TextOnRead

    @model_validator(mode="before")
    @classmethod
    def _from_quantities(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("dose" not in data and "daily_dose" not in data):
            return data
        data = dict(data)
        if "dose" in data:
            data["dose_mg"] = _mg(data.pop("dose"), "dose", Kind.DOSE)
        daily = data.pop("daily_dose", None)
        if daily is not None:
            daily_mg = _mg(daily, "daily_dose", Kind.DAILY_DOSE)
            count = data.get("doses_per_day")
            dose_mg = data.get("dose_mg")
            consistent = not (
                isinstance(count, int)
                and isinstance(dose_mg, int | float)
                and not math.isclose(daily_mg, dose_mg * count, rel_tol=1e-9, abs_tol=1e-9)
            )
            if not consistent:
                msg = f"daily_dose {daily_mg:g} mg/d is not dose x doses_per_day"
                raise ValueError(msg)
        return data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return _quantity_input_schema(
            core_schema,
            handler,
            {
                "dose_mg": ("dose", Kind.DOSE, True),
                "daily_dose_mg": ("daily_dose", Kind.DAILY_DOSE, False),
            },
        )

    @property
    def daily_dose_mg(self) -> float:
        """The daily dose in mg/day, as a float."""
        return round(self.dose_mg * self.doses_per_day, 9)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def dose(self) -> Dose:
        """The dose per administration (mg)."""
        return quantity_in(_json_number(self.dose_mg), "mg")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def daily_dose(self) -> DailyDose:
        """The daily dose (mg/day)."""
        return quantity_in(_json_number(self.daily_dose_mg), "mg/d")


class Adjustment(FrozenModel):
    """A change the rules made to the default schedule, and why.

    Attributes:
        rule_id: The knowledge-base rule.
        reason: What changed, from what, and why.
        citation: The citation id of the rule.
        verified: ``False`` for general-knowledge (GK) rules.

    Example:
        >>> Adjustment(rule_id="tramadol.cap.renal", reason="r", citation="tramadol_label").verified
        True
    """

    rule_id: Annotated[str, Field(min_length=1)]
    reason: Annotated[TextOnRead, Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]
    verified: bool = True


class SupplementalInstruction(FrozenModel):
    """An instruction outside the daily steps (the post-haemodialysis supplement).

    Attributes:
        rule_id: The knowledge-base rule.
        text: The instruction.
        citation: The citation id.
        dose: The supplemental dose, where there is one.
        composition: The dose in marketed strengths.
        from_day: The first day of the schedule it applies to (it follows the
            maintenance dose, so a schedule may carry several); ``None`` for
            the whole schedule.

    Example:
        >>> SupplementalInstruction(rule_id="r.x", text="t", citation="c", dose="125 mg").dose
        <Quantity(125.0, 'milligram')>
    """

    rule_id: Annotated[str, Field(min_length=1)]
    text: Annotated[str, Field(min_length=1)]
    citation: Annotated[str, Field(min_length=1)]
    dose: Dose | None = None
    composition: str | None = None
    from_day: Annotated[int, Field(ge=0)] | None = None


class TitrationSchedule(FrozenModel):
    """A titration schedule for one drug and one patient.

    Attributes:
        drug: The drug.
        protocol: The protocol used (standard or start low).
        steps: The steps; days strictly increase and daily doses never fall.
        max_daily_dose_mg: The cap that applied, mg/day (read ``max_daily_dose``).
        max_daily_dose_rule: The rule id of that cap.
        target_daily_dose_mg: The target after caps, mg/day (read ``target_daily_dose``).
        adjustments: What the rules changed and why.
        alerts: Safety alerts for this patient, most serious first.
        renal: The renal assessment used.
        supplemental_instructions: E.g. the post-haemodialysis supplement.
        monitoring: Monitoring advice from the monograph.
        start_date: Day 0, when given.
        knowledge_base_version: The knowledge base that produced it
            (``"<version>+<protocol>@<protocol version>"`` under a local protocol).
        protocol_sha256: The sha256 of the local protocol's content, or ``None``.

    Example:
        >>> import cluneal
        >>> from cluneal import Patient
        >>> s = cluneal.titration_schedule("naltrexone", Patient(age=40, sex="female"))
        >>> [str(st.dose) for st in s.steps], str(s.max_daily_dose)
        (['1.5 milligram', '3 milligram', '4.5 milligram'], '4.5 milligram / day')
    """

    drug: Drug
    protocol: ProtocolName
    steps: Annotated[tuple[TitrationStep, ...], Field(min_length=1)]
    max_daily_dose_mg: Annotated[float, Field(gt=0, allow_inf_nan=False, exclude=True)]
    max_daily_dose_rule: Annotated[str, Field(min_length=1)]
    target_daily_dose_mg: Annotated[float, Field(gt=0, allow_inf_nan=False, exclude=True)]
    adjustments: tuple[Adjustment, ...] = ()
    alerts: tuple[SafetyAlert, ...] = ()
    renal: RenalAssessment
    supplemental_instructions: tuple[SupplementalInstruction, ...] = ()
    monitoring: tuple[str, ...] = ()
    start_date: dt.date | None = None
    knowledge_base_version: str = KNOWLEDGE_BASE_VERSION
    protocol_sha256: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_quantities(cls, data: Any) -> Any:
        if not isinstance(data, dict) or (
            "max_daily_dose" not in data and "target_daily_dose" not in data
        ):
            return data
        data = dict(data)
        for name in ("max_daily_dose", "target_daily_dose"):
            if name in data:
                data[f"{name}_mg"] = _mg(data.pop(name), name, Kind.DAILY_DOSE)
        return data

    @model_validator(mode="after")
    def _invariants(self) -> TitrationSchedule:
        check_invariants(self.steps, self.max_daily_dose_mg)
        return self

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return _quantity_input_schema(
            core_schema,
            handler,
            {
                "max_daily_dose_mg": ("max_daily_dose", Kind.DAILY_DOSE, True),
                "target_daily_dose_mg": ("target_daily_dose", Kind.DAILY_DOSE, True),
            },
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def max_daily_dose(self) -> DailyDose:
        """The cap that applied (mg/day)."""
        return quantity_in(_json_number(self.max_daily_dose_mg), "mg/d")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def target_daily_dose(self) -> DailyDose:
        """The target daily dose after caps (mg/day)."""
        return quantity_in(_json_number(self.target_daily_dose_mg), "mg/d")

    @property
    def final_daily_dose(self) -> Quantity:
        """The daily dose of the last step (mg/day)."""
        return self.steps[-1].daily_dose

    def dose_on(self, day: int) -> TitrationStep:
        """Return the step in effect on a day (the last step at or before it).

        Args:
            day: Days from the start (0 or more).

        Returns:
            The step.

        Example:
            >>> import cluneal
            >>> from cluneal import Patient
            >>> s = cluneal.titration_schedule("naltrexone", Patient(age=40, sex="female"))
            >>> s.dose_on(10).dose_mg
            3.0
        """
        day = int(number(day, "day", minimum=0, integer=True))
        current = self.steps[0]
        for step in self.steps:
            if step.day > day:
                break
            current = step
        return current

    def to_dataframe(self, units: Literal["float", "pint"] = "float") -> Any:
        """Return the steps as a pandas DataFrame, one row per step (needs ``cluneal[dataframe]``).

        Columns: ``day``, ``date``, ``dose_mg``, ``doses_per_day``, ``daily_dose_mg``,
        ``timing``, ``composition``, ``reason``; with ``units="pint"``, pint-pandas
        columns ``dose`` and ``daily_dose`` on :data:`cluneal.ureg` replace the two
        float columns. See :func:`cluneal.dataframe.schedule_dataframe`.

        Args:
            units: ``"float"`` (default) or ``"pint"``.

        Returns:
            A new ``pandas.DataFrame``.

        Raises:
            MissingExtraError: pandas is not installed.

        Example:
            >>> import cluneal
            >>> from cluneal import Patient
            >>> s = cluneal.titration_schedule("naltrexone", Patient(age=40, sex="female"))
            >>> s.to_dataframe()["daily_dose_mg"].tolist()
            [1.5, 3.0, 4.5]
        """
        # Through the presentation hook: the domain never imports presentation modules.
        return presenter("dataframe").schedule_dataframe(self, units)

    def plot(self, ax: Any = None) -> Any:
        """Plot the daily dose over time with the cap as a dashed line (needs ``cluneal[plot]``).

        See :func:`cluneal.plotting.plot_schedule`; ``plt.show()`` is never called.

        Args:
            ax: A matplotlib ``Axes`` to draw on; ``None`` for a new pyplot figure.

        Returns:
            The matplotlib ``Axes``.

        Raises:
            MissingExtraError: matplotlib is not installed.

        Example:
            >>> from matplotlib.figure import Figure
            >>> import cluneal
            >>> from cluneal import Patient
            >>> s = cluneal.titration_schedule("naltrexone", Patient(age=40, sex="female"))
            >>> s.plot(ax=Figure().subplots()).get_xlabel()
            'Day'
        """
        return presenter("plot").plot_schedule(self, ax)


def check_invariants(steps: Sequence[TitrationStep], max_daily_dose_mg: float) -> None:
    """Check what every schedule guarantees (run once per schedule built).

    No step exceeds the cap, days strictly increase from day 0, daily doses
    never fall and neither do doses per day (decision_doses_per_day_never_fall).
    Plain arithmetic, no property calls: this runs in the hot path (the EPS
    tolerance covers float rounding).

    Args:
        steps: The steps.
        max_daily_dose_mg: The cap in mg/day.

    Raises:
        ValueError: An invariant does not hold (pydantic reports it as a
            ``ValidationError`` when a caller's data is validated).
    """
    cap = max_daily_dose_mg + _EPS
    last_day = -1
    last_daily = 0.0
    last_count = 0
    for step in steps:
        daily = step.dose_mg * step.doses_per_day
        if daily > cap:
            msg = f"step on day {step.day} exceeds the cap {max_daily_dose_mg:g} mg/d"
            raise ValueError(msg)
        if step.day <= last_day or daily < last_daily - _EPS:
            msg = "days must strictly increase and daily doses must not fall"
            raise ValueError(msg)
        if step.doses_per_day < last_count:
            msg = f"doses per day fall on day {step.day}: never within a schedule"
            raise ValueError(msg)
        last_day, last_daily, last_count = step.day, daily, step.doses_per_day
    if steps[0].day != 0:
        msg = "the first step must be on day 0"
        raise ValueError(msg)
