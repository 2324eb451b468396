"""Titration schedules with renal, age and hepatic adjustment.

:func:`titration_schedule` builds a day-by-day schedule for one of the six
drugs from its monograph (``knowledge/monographs/<drug>.toml``): the protocol
(standard or start low: decision_start_low, decision_default_protocols), the
caps (the lowest that applies wins, and is named: decision_lowest_cap_wins),
the renal bands (decision_renal_band_boundaries), the regimens of the dose
composer (:mod:`cluneal._compose`), and the safety alerts. A contraindicated
drug (decision_contraindications_refuse) raises
:class:`~cluneal.errors.ContraindicatedError`.

Results keep doses as floats in fixed units (``dose_mg``) and build Pint
quantities only when read (``.dose``, ``.daily_dose``): Pint stays at the
boundary, which keeps a schedule within a few times the cost of plain float
arithmetic (``benchmarks/bench_titration.py``). JSON carries quantities as
``{"value": 300, "unit": "mg"}``.

Example:
    >>> from cluneal import Patient
    >>> p = Patient(age=50, sex="male", weight="80 kg", serum_creatinine="1.0 mg/dL")
    >>> s = titration_schedule("gabapentin", p)
    >>> [(st.day, st.daily_dose_mg) for st in s.steps][:4]
    [(0, 300.0), (1, 600.0), (2, 900.0), (9, 1200.0)]
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

from pydantic import Field, GetJsonSchemaHandler, computed_field, model_validator

from cluneal._base import FrozenModel
from cluneal._checks import calendar_date, knowledge_argument, number
from cluneal._compose import (
    ComposedStep,
    Formulary,
    Regimen,
    compose_steps,
    formulary,
    formulary_of,
)
from cluneal._numbers import clinical_number
from cluneal._protocol_rules import protocol_limits
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.drug import Drug
from cluneal.errors import ContraindicatedError, ExcludedDrugError, UnknownTermError
from cluneal.evidence import SourceMark
from cluneal.knowledge import KNOWLEDGE_BASE_VERSION
from cluneal.knowledge.criteria import PatientFacts, matches, patient_facts
from cluneal.knowledge.drugs import (
    CapRule,
    DialysisSupplement,
    KnowledgeRule,
    Monograph,
    Protocol,
    ProtocolName,
    RenalBandRule,
    Timing,
    TriggerRule,
    all_monographs,
    parse_drug,
    titration_rules,
)
from cluneal.knowledge.parameters import ClinicalParameters, clinical_parameters
from cluneal.patient import Patient
from cluneal.renal import (
    RenalAssessment,
    RenalBand,
    WeightBasis,
    assess_renal_function,
    parse_weight_basis,
)
from cluneal.renal import _table as renal_table
from cluneal.safety import screen
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
    from collections.abc import Mapping

    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

    from cluneal.knowledge.base import KnowledgeBase

__all__ = [
    "Adjustment",
    "ProtocolName",
    "SupplementalInstruction",
    "Timing",
    "TitrationSchedule",
    "TitrationStep",
    "titration_schedule",
]

_EPS: Final = 1e-9
_UNVERIFIED: Final = " [unverified: general knowledge]"


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
        doses_per_day: Administrations per day.
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
    doses_per_day: Annotated[int, Field(ge=1, le=6)]
    timing: Timing
    composition: Annotated[str, Field(min_length=1)]
    date: dt.date | None = None
    reason: str

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
    reason: Annotated[str, Field(min_length=1)]
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
        >>> from cluneal import Patient
        >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
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
        # On every schedule built: plain arithmetic, no property calls, because
        # this runs in the hot path (the EPS tolerance covers float rounding).
        cap = self.max_daily_dose_mg + _EPS
        last_day = -1
        last_daily = 0.0
        last_count = 0
        for step in self.steps:
            daily = step.dose_mg * step.doses_per_day
            if daily > cap:
                msg = f"step on day {step.day} exceeds the cap {self.max_daily_dose_mg:g} mg/d"
                raise ValueError(msg)
            if step.day <= last_day or daily < last_daily - _EPS:
                msg = "days must strictly increase and daily doses must not fall"
                raise ValueError(msg)
            if step.doses_per_day < last_count:
                # decision_doses_per_day_never_fall
                msg = f"doses per day fall on day {step.day}: never within a schedule"
                raise ValueError(msg)
            last_day, last_daily, last_count = step.day, daily, step.doses_per_day
        if self.steps[0].day != 0:
            msg = "the first step must be on day 0"
            raise ValueError(msg)
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
            >>> from cluneal import Patient
            >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
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
            >>> from cluneal import Patient
            >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
            >>> s.to_dataframe()["daily_dose_mg"].tolist()
            [1.5, 3.0, 4.5]
        """
        from cluneal.dataframe import schedule_dataframe

        return schedule_dataframe(self, units)

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
            >>> from cluneal import Patient
            >>> s = titration_schedule("naltrexone", Patient(age=40, sex="female"))
            >>> s.plot(ax=Figure().subplots()).get_xlabel()
            'Day'
        """
        from cluneal.plotting import plot_schedule

        return plot_schedule(self, ax)


# --- the engine ------------------------------------------------------------------


def _parse_protocol(value: object) -> ProtocolName | None:
    if value is None:
        return None
    if isinstance(value, str) and value in ProtocolName.__members__.values():
        return ProtocolName(value)
    raise UnknownTermError("protocol", value, [p.value for p in ProtocolName])


def _parse_start_date(value: object) -> dt.date | None:
    return calendar_date(value, "start_date")


def _formulary(mono: Monograph, plan: _Plan, *, with_solution: bool) -> Formulary:
    if plan.knowledge is None:
        return formulary(mono.drug, with_solution=with_solution)
    return formulary_of(mono, with_solution=with_solution)


def _rule_adjustment(rule: KnowledgeRule, reason: str, citation: str | None = None) -> Adjustment:
    """An adjustment from a rule; ``citation`` names the adjusted drug's own label instead."""
    verified = rule.mark is not SourceMark.GK
    return Adjustment(
        rule_id=rule.rule_id,
        reason=reason if verified else reason + _UNVERIFIED,
        citation=rule.citation if citation is None else citation,
        verified=verified,
    )


def _largest_single_dose(
    mono: Monograph, band_rule: RenalBandRule | None, caps: list[CapRule]
) -> tuple[float, KnowledgeRule] | None:
    """The smallest of the largest single doses that apply, with its rule."""
    found: list[tuple[float, KnowledgeRule]] = [
        (c.max_single_dose_mg, c) for c in caps if c.max_single_dose_mg is not None
    ]
    if band_rule is not None and band_rule.max_single_dose_mg is not None:
        found.append((band_rule.max_single_dose_mg, band_rule))
    if mono.max_single_dose is not None:
        found.append((mono.max_single_dose.max_mg, mono.max_single_dose))
    return min(found, key=lambda item: item[0], default=None)


def _raw_steps(proto: Protocol, goal: float) -> list[tuple[int, float]]:
    """The protocol's (day, daily dose) sequence up to the goal, before rounding."""
    steps: list[tuple[int, float]] = []
    day = 0
    current = 0.0
    for value in proto.start_mg_day:
        current = min(value, goal)
        steps.append((day, current))
        if current >= goal - _EPS:
            return steps
        day += proto.start_interval_days
    day -= proto.start_interval_days
    while current < goal - _EPS:
        above = proto.increment_above_mg_day
        step = (
            proto.increment_above
            if above is not None and proto.increment_above is not None and current >= above - _EPS
            else proto.increment_mg_day
        )
        current = min(current + step, goal)
        day += proto.interval_days
        steps.append((day, current))
    return steps


def _timing(count: int, once: Timing, *, every_12_h: bool) -> Timing:
    if count == 1:
        return once
    if count == 2:
        return Timing.EVERY_12_H if every_12_h else Timing.TWICE_DAILY
    return Timing.THREE_TIMES_DAILY if count == 3 else Timing.FOUR_TIMES_DAILY


def _describe_protocol(proto: Protocol) -> str:
    return f"{proto.name.value.replace('_', ' ')} ({proto.text})"


class _Plan:
    """The decisions of one schedule, gathered before the result is built."""

    __slots__ = ("adjustments", "alerts", "knowledge", "params", "rules")

    def __init__(self, rules: Mapping[str, KnowledgeRule], params: ClinicalParameters) -> None:
        self.adjustments: list[Adjustment] = []
        self.alerts: list[SafetyAlert] = []
        self.rules = rules
        self.params = params
        self.knowledge: KnowledgeBase | None = None

    def rule(self, rule_id: str) -> KnowledgeRule:
        """One general titration rule of the knowledge base in use."""
        return self.rules[rule_id]


def _choose_protocol(  # noqa: PLR0917 - private helper, every argument is needed
    mono: Monograph,
    facts: PatientFacts,
    age: float,
    band: RenalBand,
    requested: ProtocolName | None,
    plan: _Plan,
) -> Protocol:
    # The start-low triggers of titration.toml, in file order, in the one condition language.
    args = {"age": age, "older_adult_age": plan.params.older_adult.age_years, "band": band.value}
    triggers = [
        (rule.rule_id, rule.reason.format(**args))
        for rule in plan.rules.values()
        if isinstance(rule, TriggerRule) and matches(rule.when, facts)
    ]
    standard = mono.protocol(ProtocolName.STANDARD)
    start_low = mono.protocol(ProtocolName.START_LOW)
    if requested is ProtocolName.STANDARD and triggers:
        rule = plan.rule("titration.protocol.caller_standard")
        why = "; ".join(text for _, text in triggers)
        plan.alerts.append(
            SafetyAlert(
                severity=Severity.MODERATE,
                drugs=(mono.drug.value,),
                message=f"The standard protocol was requested although start low applies ({why}).",
                rule_id=rule.rule_id,
                citation=rule.citation,
                action="Consider the start-low protocol.",
            )
        )
        return standard
    if requested is not None:
        return mono.protocol(requested)
    if not triggers:
        return standard
    for rule_id, text in triggers:
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule(rule_id),
                f"Protocol changed from {_describe_protocol(standard)} to "
                f"{_describe_protocol(start_low)}: {text}",
            )
        )
    return start_low


def _renal_adjustments(
    mono: Monograph, renal: RenalAssessment, band_rule: RenalBandRule | None, plan: _Plan
) -> None:
    drug = mono.drug.value
    if mono.renally_cleared and not renal.known:
        rule = plan.rule("titration.renal.unknown")
        missing = ", ".join(renal.missing) or "serum_creatinine"
        plan.adjustments.append(
            _rule_adjustment(
                rule,
                f"Scheduled for the most restrictive renal band because renal function is "
                f"unknown (missing: {missing}); it was not assumed normal",
            )
        )
        plan.alerts.append(
            SafetyAlert(
                severity=Severity.MAJOR,
                drugs=(drug,),
                message=f"Renal function unknown (missing: {missing}): {drug} is renally "
                "cleared and "
                "was scheduled for the most restrictive band.",
                rule_id=rule.rule_id,
                citation=rule.citation,
                action="Measure a serum creatinine (and weight) and recalculate the schedule.",
            )
        )
    if renal.on_dialysis:
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule("titration.renal.dialysis"),
                f"Haemodialysis: {drug} dosed in the lowest renal band",
                citation=mono.citation,
            )
        )
    if band_rule is not None and band_rule.band is not RenalBand.NORMAL:
        crcl = renal.crcl_ml_min
        if renal.on_dialysis:
            where = "haemodialysis"
        elif crcl is not None:
            where = f"CrCl {crcl:.1f} mL/min"
        else:
            where = "renal function unknown"
        plan.adjustments.append(
            _rule_adjustment(
                band_rule,
                f"Renal band {band_rule.band.value} ({where}): "
                f"at most {band_rule.cap_mg_day:g} mg/day "
                f"in at most {band_rule.max_doses_per_day} dose(s) a day, instead of "
                f"{mono.band(RenalBand.NORMAL).cap_mg_day:g} mg/day ({band_rule.text})",
            )
        )


def _supplements(
    mono: Monograph,
    renal: RenalAssessment,
    steps: tuple[TitrationStep, ...],
    cap_mg: float,
    plan: _Plan,
) -> tuple[SupplementalInstruction, ...]:
    """Post-haemodialysis supplements that follow the maintenance dose, step by step.

    Each step takes the label row with the largest maintenance dose not above
    its daily dose (decision_dialysis_supplements_follow_maintenance); a new
    instruction starts on the day the row changes.
    """
    if not renal.on_dialysis:
        return ()
    if not mono.dialysis_supplements:
        rule = plan.rule("titration.renal.dialysis")
        return (
            SupplementalInstruction(
                rule_id=rule.rule_id, text=mono.dialysis_note, citation=mono.citation
            ),
        )
    form = _formulary(mono, plan, with_solution=mono.solution is not None)
    out: list[SupplementalInstruction] = []
    current: DialysisSupplement | None = None
    for step in steps:
        daily = step.daily_dose_mg
        row = mono.dialysis_supplement_for(daily)
        if row is None or row is current:
            continue
        current = row
        dose = form.round_down(row.supplement_mg)
        if dose <= 0:
            # Never a silent gap: the label's supplement is stated, with who doses it.
            out.append(
                SupplementalInstruction(
                    rule_id=row.rule_id,
                    text=(
                        f"From day {step.day} (maintenance {daily:g} mg/day): the label's "
                        f"supplemental dose after each haemodialysis session "
                        f"({row.supplement_mg:g} mg) cannot be made from the available "
                        f"strengths: ask a pharmacist or specialist to dose it. {row.text}."
                    ),
                    citation=row.citation,
                    from_day=step.day,
                )
            )
            continue
        alternative = (
            f" (label: {row.supplement_mg:g} or {row.alternative_mg:g} mg)"
            if row.alternative_mg
            else ""
        )
        composition = form.compose(dose)
        text = (
            f"From day {step.day} (maintenance {daily:g} mg/day): after each 4-hour "
            f"haemodialysis session, give a supplemental dose of {dose:g} mg ({composition})"
            f"{alternative}. A separate instruction, not counted against the maximum daily "
            f"dose of {cap_mg:g} mg/day. {row.text}."
        )
        out.append(
            SupplementalInstruction(
                rule_id=row.rule_id,
                text=text,
                citation=row.citation,
                dose=quantity_in(dose, "mg"),
                composition=composition,
                from_day=step.day,
            )
        )
    return tuple(out)


def _stocked_adjustment(
    mono: Monograph, knowledge: KnowledgeBase | None, first: ComposedStep, plan: _Plan
) -> None:
    """Say so when a local protocol limits the strengths the doses are made of.

    When even the smallest stocked strength is above the intended first dose
    (start low with only larger strengths stocked), the schedule starts with it
    (decision_first_step_day_0) and carries a moderate alert, because the
    stock, not the patient, set the start.
    """
    protocol = None if knowledge is None else knowledge.protocol
    if protocol is None or mono.drug not in protocol.strengths:
        return
    limits = protocol_limits()
    made = ", ".join(f"{s.mg:g} mg {s.form}" for s in mono.strengths)
    plan.adjustments.append(
        Adjustment(
            rule_id=limits.rules.strengths,
            reason=f"Doses made only of the strengths the local protocol {protocol.label} "
            f"stocks: {made}",
            citation=limits.citation,
        )
    )
    if first.smallest:
        intended = clinical_number(first.intended_mg_day, down=True)
        plan.alerts.append(
            SafetyAlert(
                severity=Severity.MODERATE,
                drugs=(mono.drug.value,),
                message=f"The first dose, {first.dose_mg:g} mg, is the smallest the strengths "
                f"stocked by the local protocol {protocol.label} make; the intended start "
                f"was {intended} mg/day.",
                rule_id=limits.rules.first_dose,
                citation=limits.citation,
                action="Consider a smaller marketed strength, or review the start for this "
                "patient.",
            )
        )


# The steps depend only on knowledge-base data and these few scalars, never on
# the patient directly, so they are memoised: a pure function, a bounded LRU
# (thread-safe), and frozen results that schedules can share. A service sees
# few distinct keys (drug x protocol x cap x band), so this removes the
# composing work from most calls without changing any answer.
@lru_cache(maxsize=2048)
def _plan_steps(  # noqa: PLR0917 - private, memoised on exactly these arguments
    knowledge: KnowledgeBase | None,
    drug: Drug,
    protocol: ProtocolName,
    goal: float,
    cap: float,
    band: RenalBand | None,
    max_doses: int | None,
    max_single: float | None,
    every_12_h: bool,  # noqa: FBT001 - a cache key, not a flag argument
    scale: float,
    use_solution: bool,  # noqa: FBT001 - a cache key, not a flag argument
    day0: dt.date | None,
) -> tuple[tuple[TitrationStep, ...], bool, tuple[ComposedStep, ...]]:
    mono = (all_monographs() if knowledge is None else knowledge.monographs)[drug]
    proto = mono.protocol(protocol)
    band_rule = None if band is None else mono.band(band)
    form = (
        formulary(drug, with_solution=use_solution)
        if knowledge is None
        else formulary_of(mono, with_solution=use_solution)
    )

    def counts(intended: float) -> tuple[int, int]:
        split = next(
            s
            for s in mono.dose_splits
            if s.upto_mg_day is None or intended <= s.upto_mg_day * scale + _EPS
        )
        high = split.max_doses if max_doses is None else min(split.max_doses, max_doses)
        low = split.min_doses
        if band_rule is not None:
            high = min(high, band_rule.max_doses_per_day)
            if band_rule.min_doses_per_day is not None:
                low = band_rule.min_doses_per_day
        return min(low, high), high

    regimen = Regimen(
        counts=counts,
        max_single_mg=max_single,
        ramp_mg=None if proto.ramp_dose_mg is None else proto.ramp_dose_mg * scale,
        starts_once_daily=proto.starts_once_daily,
    )
    intended = [(day, daily * scale) for day, daily in _raw_steps(proto, goal)]
    composed = compose_steps(intended, form, regimen, cap * scale)
    steps: list[TitrationStep] = []
    for index, c in enumerate(composed):
        daily = c.daily_mg
        reason = (
            f"Start: {proto.text}"
            if index == 0
            else f"Increase to {clinical_number(c.intended_mg_day, down=True)} mg/day"
        )
        if c.smallest:
            reason += (
                f"; {clinical_number(c.intended_mg_day, down=True)} mg/day rounds down to "
                "nothing, so day 0 uses the "
                f"smallest dose the strengths make, {c.dose_mg:g} mg (within the cap)"
            )
        elif daily < c.intended_mg_day - _EPS:
            reason += (
                f"; rounded down to {daily:g} mg/day, the largest total {c.doses_per_day} equal "
                "dose(s) of marketed strengths make"
            )
        if c.held_days:
            held = ", ".join(str(d) for d in c.held_days)
            reason += (
                f" (dose held on day {held}: equal doses could not make a larger total, "
                "and fewer, larger doses are never used)"
            )
        steps.append(
            TitrationStep(
                day=c.day,
                dose_mg=c.dose_mg,
                doses_per_day=c.doses_per_day,
                timing=_timing(c.doses_per_day, proto.once_daily_timing, every_12_h=every_12_h),
                composition=form.compose(c.dose_mg),
                date=None if day0 is None else day0 + dt.timedelta(days=c.day),
                reason=reason,
            )
        )
    used_solution = any("solution" in st.composition for st in steps)
    return tuple(steps), used_solution, composed


def titration_schedule(  # noqa: PLR0912, PLR0915 - one readable pass over the rules
    drug: Drug | str,
    patient: Patient | Mapping[str, Any],
    target_daily_dose: object = None,
    *,
    start_date: dt.date | str | None = None,
    protocol: ProtocolName | str | None = None,
    weight_basis: WeightBasis | str | None = None,
    knowledge: KnowledgeBase | None = None,
) -> TitrationSchedule:
    """Build a titration schedule for one drug and one patient.

    Rules (decision_start_low, decision_lowest_cap_wins,
    decision_renal_band_boundaries, decision_doses_per_day_never_fall and after):

    * Protocol: the standard protocol, or start low for an older adult (65 or
      over), any renal band below normal, or any hepatic impairment (cirrhosis
      and acute hepatitis count). A caller may ask for either; asking for the
      standard one when start low applies adds an alert.
    * Caps: the adult cap, the age, cardiac, renal and hepatic caps and the
      renal band's cap; the lowest that applies wins and is named. A target
      above it is lowered to it. No step exceeds it.
    * Renal function: Cockcroft-Gault CrCl and the bands of
      decision_renal_band_boundaries. Tramadol's "CrCl < 30" is read
      conservatively as the severe or end-stage band, so exactly 30 is
      restricted. Unknown renal function for a renally cleared
      drug (gabapentin, pregabalin, tramadol) is scheduled in the most
      restrictive band with an alert asking for a creatinine. Haemodialysis
      uses the lowest band; the post-dialysis supplement is a separate
      instruction. Gabapentin below 15 mL/min is scaled by CrCl/15 and may need
      the 50 mg/mL oral solution.
    * Every dose is made of marketed strengths and rounded down, never up.

    Args:
        drug: A :class:`~cluneal.Drug` or its name.
        patient: The patient.
        target_daily_dose: The daily dose to reach (``"1200 mg/d"``, a quantity or
            a mapping); ``None`` for the protocol's default.
        start_date: The calendar date of day 0, for dated steps.
        protocol: ``"standard"`` or ``"start_low"``; ``None`` chooses by the rules.
        weight_basis: The Cockcroft-Gault weight basis; ``None`` for the package
            default (actual weight, adjusted weight in obesity).
        knowledge: The knowledge base to apply; ``None`` for the built-in
            :func:`~cluneal.knowledge_base`. The schedule reports its version.

    Returns:
        The schedule, with its adjustments, alerts and the renal assessment used.

    Raises:
        ContraindicatedError: The drug must not be started
            (decision_contraindications_refuse); ``alerts`` carries the
            reasons. There is no override.
        ExcludedDrugError: The local protocol of ``knowledge`` excludes the drug.
        UnknownTermError: Unknown drug, protocol or weight basis.
        InvalidQuantityError: ``target_daily_dose`` or ``start_date`` is not valid.
        ValidationError: ``patient`` is not a valid :class:`~cluneal.Patient`.

    References:
        gabapentin_label, pregabalin_label, tramadol_label, carbamazepine_label,
        nortriptyline_label, bruun_plesner_2020, beers_2023, decision_start_low,
        decision_lowest_cap_wins, decision_doses_per_day_never_fall,
        decision_largest_single_dose, decision_first_step_day_0

    Example:
        >>> from cluneal import Patient
        >>> p = Patient(age=80, sex="female", weight="60 kg", serum_creatinine="1.0 mg/dL")
        >>> s = titration_schedule("tramadol", p)
        >>> str(s.max_daily_dose), s.max_daily_dose_rule
        ('300 milligram / day', 'tramadol.cap.age_over_75')
        >>> [(st.day, st.dose_mg, st.doses_per_day) for st in s.steps][:3]
        [(0, 25.0, 1), (7, 25.0, 2), (14, 25.0, 3)]
    """
    knowledge = knowledge_argument(knowledge)
    chosen = parse_drug(drug)
    local = None if knowledge is None else knowledge.protocol
    if knowledge is not None and local is not None and chosen in local.excluded_drugs:
        raise ExcludedDrugError(chosen.value, knowledge.version)
    if not isinstance(patient, Patient):
        patient = Patient.model_validate(patient)
    target = (
        None
        if target_daily_dose is None
        else _mg(target_daily_dose, "target_daily_dose", Kind.DAILY_DOSE)
    )
    requested = _parse_protocol(protocol)
    day0 = _parse_start_date(start_date)
    basis = parse_weight_basis(weight_basis)
    renal = assess_renal_function(patient, basis, knowledge=knowledge)
    monographs = all_monographs() if knowledge is None else knowledge.monographs
    mono = monographs[chosen]

    age = patient.age_years
    screened = screen((chosen,), patient, age, knowledge=knowledge)
    refused = [a for a in screened if a.severity is Severity.CONTRAINDICATED]
    if refused:
        raise ContraindicatedError(chosen.value, sort_alerts(refused))

    plan = (
        _Plan(titration_rules(), clinical_parameters())
        if knowledge is None
        else _Plan(knowledge.titration_rules, knowledge.parameters)
    )
    plan.knowledge = knowledge
    plan.alerts.extend(screened)
    if mono.renally_cleared:
        # What may make the clearance estimate mislead, where it sets the dose.
        plan.alerts.extend(renal.alerts)
        if basis is None and renal.weight_basis is WeightBasis.ADJUSTED:
            obesity = (renal_table() if knowledge is None else knowledge.renal).obesity
            plan.adjustments.append(
                Adjustment(
                    rule_id=obesity.rule_id,
                    reason="Creatinine clearance uses adjusted body weight by default: actual "
                    f"weight is above {obesity.adjusted_above_ibw_ratio * 100:g}% of ideal "
                    "body weight",
                    citation=obesity.citation,
                )
            )
    # Unknown renal function restricts only renally cleared drugs (decision_unknown_renal_function);
    # for the others it neither triggers start low nor a cap.
    band = renal.band if (mono.renally_cleared or renal.known) else RenalBand.NORMAL
    band_rule = mono.band(band) if mono.renal_bands else None
    # The patient's facts once, for the start-low triggers and the caps alike.
    facts = patient_facts(patient, plan.params, band.value, age_years=age)
    proto = _choose_protocol(mono, facts, age, band, requested, plan)
    _renal_adjustments(mono, renal, band_rule, plan)

    # Caps: lowest wins; ties go to the rule listed first (adult cap first).
    applicable = [c for c in mono.caps if matches(c.when, facts)]
    caps: list[tuple[float, KnowledgeRule]] = [(c.max_mg_day, c) for c in applicable]
    # No cap limiting doses a day: the protocol's own dose splits decide.
    max_doses = min((c.max_doses_per_day for c in applicable if c.max_doses_per_day), default=None)
    every_12_h = any(c.max_doses_per_day == 2 for c in applicable)
    if band_rule is not None:
        caps.append((band_rule.cap_mg_day, band_rule))
        max_doses = (
            band_rule.max_doses_per_day
            if max_doses is None
            else min(max_doses, band_rule.max_doses_per_day)
        )
    cap_mg, cap_rule = min(caps, key=lambda item: item[0])
    adult = mono.caps[0]
    for cap in applicable:
        doses = (
            f"at most {cap.max_doses_per_day} doses a day (every 12 h)"
            if cap.max_doses_per_day is not None
            else ""
        )
        if cap is cap_rule and cap is not adult:
            lowered = (
                f"Maximum daily dose lowered from {adult.max_mg_day:g} mg/day (adult) to "
                f"{cap_mg:g} mg/day"
            )
            plan.adjustments.append(
                _rule_adjustment(cap, f"{lowered}{' and ' + doses if doses else ''}: {cap.text}")
            )
        elif doses:
            plan.adjustments.append(
                _rule_adjustment(cap, f"{doses[0].upper()}{doses[1:]}: {cap.text}")
            )

    # Gabapentin below 15 mL/min: every daily dose in proportion to CrCl.
    scale = 1.0
    crcl = renal.crcl_ml_min
    if (
        band_rule is not None
        and band_rule.scale_below_ml_min is not None
        and renal.known
        and not renal.on_dialysis
        and crcl is not None
        and crcl < band_rule.scale_below_ml_min
    ):
        scale = crcl / band_rule.scale_below_ml_min
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule("titration.renal.scaled"),
                f"Every daily dose multiplied by CrCl/15 = {crcl:.1f}/15 = {scale:.3f}; "
                f"the band's cap {cap_mg:g} mg/day becomes "
                f"{clinical_number(cap_mg * scale, down=True)} mg/day",
                citation=mono.citation,
            )
        )

    default_target = proto.target_mg_day
    wanted = default_target if target is None else target
    goal = min(wanted, cap_mg)
    if wanted > cap_mg + _EPS:
        who = "default target" if target is None else "requested target"
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule("titration.target.capped"),
                f"The {who} {wanted:g} mg/day was lowered to the cap {cap_mg:g} mg/day "
                f"({cap_rule.rule_id})",
            )
        )

    use_solution = scale < 1.0 and mono.solution is not None and band in mono.solution.bands
    single = _largest_single_dose(mono, band_rule, applicable)
    steps, used_solution, composed = _plan_steps(
        knowledge,
        chosen,
        proto.name,
        goal,
        cap_mg,
        None if band_rule is None else band_rule.band,
        max_doses,
        None if single is None else single[0],
        every_12_h,
        scale,
        use_solution,
        day0,
    )

    if not steps:
        rule = plan.rule("titration.no_achievable_dose")
        raise ContraindicatedError(
            chosen.value,
            (
                SafetyAlert(
                    severity=Severity.CONTRAINDICATED,
                    drugs=(chosen.value,),
                    message=f"Not even the smallest dose of {chosen.value} that its strengths "
                    "can make is within the permitted "
                    f"{clinical_number(cap_mg * scale, down=True)} mg/day.",
                    rule_id=rule.rule_id,
                    citation=rule.citation,
                    action="Seek specialist dosing, or choose another drug.",
                ),
            ),
        )
    if single is not None and any(
        c.intended_mg_day / c.doses_per_day > single[0] + _EPS for c in composed
    ):
        plan.adjustments.append(
            _rule_adjustment(
                single[1],
                f"No single dose above {single[0]:g} mg: {single[1].text}",
                citation=mono.citation,
            )
        )
    if composed[0].smallest:
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule("titration.first_step.smallest_dose"),
                f"The intended first dose rounds down to nothing: day 0 is the smallest dose "
                f"the strengths make, {composed[0].dose_mg:g} mg, within the cap "
                f"{clinical_number(cap_mg * scale, down=True)} mg/day",
            )
        )
    final = steps[-1].daily_dose_mg
    if final < goal * scale - _EPS:
        plan.adjustments.append(
            _rule_adjustment(
                plan.rule("titration.rounding.down"),
                f"Target {clinical_number(goal * scale, down=True)} mg/day rounded down to "
                f"{final:g} mg/day: "
                "the nearest daily dose the marketed strengths make",
            )
        )
    if used_solution and mono.solution is not None:
        plan.adjustments.append(
            _rule_adjustment(
                mono.solution,
                "Doses below what capsules can make: use the "
                f"{mono.solution.mg_per_ml:g} mg/mL oral solution",
            )
        )
    _stocked_adjustment(mono, knowledge, composed[0], plan)
    for rule in mono.dose_alerts:
        if final > rule.above_mg_day + _EPS:
            plan.alerts.append(
                SafetyAlert(
                    severity=rule.severity,
                    drugs=(chosen.value,),
                    message=rule.text,
                    rule_id=rule.rule_id,
                    citation=rule.citation,
                    action=rule.action,
                )
            )
    return TitrationSchedule(
        drug=chosen,
        protocol=proto.name,
        steps=tuple(steps),
        max_daily_dose_mg=cap_mg * scale,
        max_daily_dose_rule=cap_rule.rule_id,
        target_daily_dose_mg=goal * scale,
        adjustments=tuple(plan.adjustments),
        alerts=sort_alerts(plan.alerts),
        renal=renal,
        supplemental_instructions=_supplements(mono, renal, steps, cap_mg * scale, plan),
        monitoring=tuple(m.text for m in mono.monitoring),
        start_date=day0,
        knowledge_base_version=KNOWLEDGE_BASE_VERSION if knowledge is None else knowledge.version,
        protocol_sha256=None if knowledge is None else knowledge.protocol_sha256,
    )
