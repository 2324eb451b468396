"""The cohort engine: renal function vectorised, decisions once per distinct key.

How a row is decided (docs/cohort.md):

1. Its quantities are read in their canonical units and range-checked with
   numpy, with the same factors and limits the scalar parser uses
   (:data:`cluneal.units.KINDS`).
2. Cockcroft-Gault and the band are computed for every row at once, with the
   renal module's own equation (:func:`cluneal.renal.cockcroft_gault_ml_min`,
   :func:`cluneal.renal.devine_kg`) over the knowledge base's band table.
3. Rows are grouped by everything the decisions read apart from the clearance
   itself: the raw categorical inputs, the band, whether renal function is
   known, the renal alerts that fire, the weight basis, and the age groups of
   the knowledge base (older adult, over 75, every age limit of a safety rule).
   The scalar engine runs ONCE per group, on the group's first row, and its
   result is broadcast: exact by construction. The scalar result of that row
   is checked against the vectorised clearance and band; a disagreement sends
   the whole group to step 4.
4. Row by row, through the scalar functions: rows with a value the vectorised
   checks do not accept (missing age, out of range, NaN, text that does not
   parse: the scalar message is the row's ``error``), every row of a group
   whose first row raised, and rows whose dose scales with the clearance
   itself (a band rule with ``scale_below_ml_min``, gabapentin below 15 mL/min
   off dialysis).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from pydantic import BaseModel, ValidationError

from cluneal.errors import ClunealError, ContraindicatedError
from cluneal.knowledge.criteria import Criteria
from cluneal.pathway import next_step
from cluneal.patient import Patient, Sex
from cluneal.plan import _withhold_rule, care_plan
from cluneal.renal import (
    FEMALE_FACTOR,
    RenalBand,
    assess_renal_function,
    cockcroft_gault_ml_min,
    devine_kg,
)
from cluneal.titration import titration_schedule
from cluneal.units import KINDS, Kind, magnitude_in, parse_quantity

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

    from cluneal.alerts import SafetyAlert
    from cluneal.cohort._input import Columns
    from cluneal.drug import Drug
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.titration import TitrationSchedule

__all__ = [
    "Evaluation",
    "Part",
    "Row",
    "care_plan_row",
    "evaluate",
    "pathway_part",
    "schedule_row",
]

Row = dict[str, Any]
"""The output values of one row, by output column."""

_BANDS: Final = tuple(RenalBand)

# Quantity column -> (kind, unit code of a numeric value).
_QUANTITIES: Final = {
    "age": (Kind.AGE, "a"),
    "weight_kg": (Kind.BODY_WEIGHT, "kg"),
    "height_cm": (Kind.HEIGHT, "cm"),
    "serum_creatinine_mg_dl": (Kind.SERUM_CREATININE, "mg/dL"),
    "serum_creatinine_umol_l": (Kind.SERUM_CREATININE, "umol/L"),
}
_FIELD: Final = {
    "age": "age",
    "weight_kg": "weight",
    "height_cm": "height",
    "serum_creatinine_mg_dl": "serum_creatinine",
    "serum_creatinine_umol_l": "serum_creatinine",
}


def _renal(row: Row, patient: Patient, knowledge: KnowledgeBase) -> None:
    renal = assess_renal_function(patient, knowledge=knowledge)
    row["crcl_ml_min"] = renal.crcl_ml_min
    row["renal_band"] = renal.band.value


def schedule_row(patient: dict[str, Any], drug: Drug, knowledge: KnowledgeBase) -> Row:
    """One row of :func:`cluneal.cohort.schedules`, through the scalar functions."""
    row: Row = {}
    try:
        person = Patient.model_validate(patient)
        try:
            schedule = titration_schedule(drug, person, knowledge=knowledge)
        except ContraindicatedError as exc:
            _renal(row, person, knowledge)
            row["contraindicated"] = True
            row["alert_rule_ids"] = [a.rule_id for a in exc.alerts]
            row["_alerts"] = _alerts(exc.alerts)
            return row
    except (ClunealError, ValidationError) as exc:
        return {"error": str(exc)}
    row["crcl_ml_min"] = schedule.renal.crcl_ml_min
    row["renal_band"] = schedule.renal.band.value
    row["max_daily_dose_mg"] = schedule.max_daily_dose_mg
    row["final_daily_dose_mg"] = schedule.steps[-1].daily_dose_mg
    row["first_daily_dose_mg"] = schedule.steps[0].daily_dose_mg
    row["steps"] = len(schedule.steps)
    row["contraindicated"] = False
    row["alert_rule_ids"] = [a.rule_id for a in schedule.alerts]
    row["_alerts"] = _alerts(schedule.alerts)
    row["_steps"] = _steps(schedule)
    return row


def _alerts(alerts: Sequence[SafetyAlert]) -> tuple[tuple[str, str, str | None], ...]:
    """(rule id, severity, drugs) of each alert, for the long ``alerts`` table."""
    return tuple((a.rule_id, a.severity.value, ", ".join(a.drugs) or None) for a in alerts)


def _steps(schedule: TitrationSchedule) -> tuple[tuple[int, float, int, float], ...]:
    """(day, dose mg, doses a day, daily dose mg) of each step, for the long ``steps`` table."""
    return tuple((s.day, s.dose_mg, s.doses_per_day, s.daily_dose_mg) for s in schedule.steps)


def care_plan_row(
    patient: dict[str, Any], findings: dict[str, Any], knowledge: KnowledgeBase
) -> Row:
    """One row of :func:`cluneal.cohort.care_plans`, through the scalar functions."""
    try:
        plan = care_plan(patient, findings, knowledge=knowledge)
    except (ClunealError, ValidationError) as exc:
        return {"error": str(exc)}
    row: Row = {}
    _renal(row, plan.patient, knowledge)
    row["classification"] = plan.assessment.classification.value
    row["next_step"] = plan.recommendation.step.value
    if plan.medications:
        schedule = plan.medications[0]
        row["drug"] = schedule.drug.value
        row["max_daily_dose_mg"] = schedule.max_daily_dose_mg
        row["final_daily_dose_mg"] = schedule.steps[-1].daily_dose_mg
    row["alert_rule_ids"] = [a.rule_id for a in plan.alerts]
    row["_alerts"] = _alerts(plan.alerts)
    if plan.medications:
        row["_steps"] = _steps(plan.medications[0])
    return row


def pathway_part(findings: dict[str, Any], knowledge: KnowledgeBase) -> tuple[Row | None, Any]:
    """The pathway outputs of a care plan, which read the findings only.

    ``care_plan`` calls ``next_step`` on the findings exactly so; the code returned is
    the withholding rule that fired (the medication part depends on it), read by the
    plan module's own function.

    Returns:
        (classification and next step, or ``None`` when the findings are refused; the
        withholding rule id or ``None``).
    """
    try:
        recommendation = next_step(findings, knowledge=knowledge)
    except (ClunealError, ValidationError):
        return None, None
    assessment = recommendation.assessment
    rule = _withhold_rule(assessment, knowledge.pharmacotherapy)
    outputs: Row = {
        "classification": assessment.classification.value,
        "next_step": recommendation.step.value,
    }
    return outputs, None if rule is None else rule.rule_id


class _Quantities:
    """The patient's quantities in canonical units, with what the checks accepted."""

    def __init__(self, columns: Columns) -> None:
        n = columns.rows
        self.canonical: dict[str, NDArray[np.float64]] = {}
        self.present: dict[str, NDArray[np.bool_]] = {}
        self.valid = np.ones(n, dtype=bool)
        for name, (kind, code) in _QUANTITIES.items():
            listed = columns.values.get(name)
            if listed is None:
                self.canonical[name] = np.full(n, np.nan)
                self.present[name] = np.zeros(n, dtype=bool)
                continue
            present = columns.present[name]
            spec = KINDS[kind]
            if name in columns.numeric:
                values = columns.numeric[name] * spec.factors[code]
                with np.errstate(invalid="ignore"):
                    ok = np.isfinite(values)
                    if spec.minimum is not None:
                        ok &= values >= spec.minimum
                        if not spec.minimum_inclusive:
                            ok &= values != spec.minimum
                    if spec.maximum is not None:
                        ok &= values <= spec.maximum
            else:
                values, ok = self._parse_text(listed, _FIELD[name], kind)
            self.canonical[name] = values
            self.present[name] = present
            # A null optional value is fine; a null age is for the scalar path to refuse.
            self.valid &= ok | (~present if name != "age" else False)
        both = self.present["serum_creatinine_mg_dl"] & self.present["serum_creatinine_umol_l"]
        self.valid &= ~both

    @staticmethod
    def _parse_text(
        listed: Sequence[Any], field: str, kind: Kind
    ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """Quantity text, each distinct value parsed once by the scalar parser."""
        parsed: dict[Any, float] = {}
        spec = KINDS[kind]
        for value in set(listed) if all(isinstance(v, str | None) for v in listed) else ():
            if value is None:
                continue
            try:
                parsed[value] = magnitude_in(parse_quantity(value, field, spec), kind)
            except ClunealError:
                continue
        values = np.fromiter(
            (parsed.get(v, math.nan) if isinstance(v, str) else math.nan for v in listed),
            dtype=np.float64,
            count=len(listed),
        )
        return values, ~np.isnan(values)


_PLAIN: Final = (
    frozenset({str, type(None)}),
    frozenset({bool, type(None)}),
    frozenset({int, type(None)}),
    frozenset({float, type(None)}),  # each NaN is its own object: its own key
)


def _codes(columns: Columns, name: str) -> NDArray[np.int64]:
    """Integer codes of a column (Arrow's when it could encode it)."""
    encoded = columns.codes.get(name)
    return _factorize(columns.values[name]) if encoded is None else encoded


def _factorize(listed: Sequence[Any]) -> NDArray[np.int64]:
    """Integer codes of a column's raw values (equal values, equal codes)."""
    codes: dict[Any, int] = {}
    kinds = frozenset(map(type, listed))
    if any(kinds <= plain for plain in _PLAIN):
        # One plain type (and nulls): the values are their own keys (no True == 1 mix-up).
        return np.fromiter(
            (codes.setdefault(v, len(codes)) for v in listed), dtype=np.int64, count=len(listed)
        )
    return np.fromiter(
        (codes.setdefault(_hashable(v, i), len(codes)) for i, v in enumerate(listed)),
        dtype=np.int64,
        count=len(listed),
    )


def _hashable(value: Any, row: int) -> Any:
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list | tuple):
            return ("seq", *(_hashable(v, row) for v in items))
    if isinstance(value, float) and math.isnan(value):
        return ("nan", row)  # NaN equals nothing: its own group
    try:
        hash(value)
    except TypeError:
        return ("unhashable", row)
    return (type(value).__name__, value)


class _Renal:
    """Cockcroft-Gault and the band for every row, from the knowledge base's tables."""

    def __init__(self, columns: Columns, q: _Quantities, knowledge: KnowledgeBase) -> None:
        n = columns.rows
        self.valid = q.valid.copy()
        self.female = self._flags(columns, "sex")
        self.dialysis = self._flags(columns, "on_dialysis")
        self.age = q.canonical["age"]
        self.weight = q.canonical["weight_kg"]
        self.height = q.canonical["height_cm"]
        self.has_height = q.present["height_cm"]
        self.has_weight = q.present["weight_kg"]
        self.scr = np.where(
            q.present["serum_creatinine_mg_dl"],
            q.canonical["serum_creatinine_mg_dl"],
            q.canonical["serum_creatinine_umol_l"],
        )
        self.has_scr = q.present["serum_creatinine_mg_dl"] | q.present["serum_creatinine_umol_l"]
        computable = self.valid & ~self.dialysis & self.has_scr & self.has_weight
        self.crcl = np.full(n, np.nan)
        self.adjusted = np.zeros(n, dtype=bool)
        self._clearance(computable, knowledge)
        self.known = computable | (self.dialysis & self.valid)
        self.band = self._bands(computable, knowledge)
        self.heavy, self.low = self._alerts(knowledge)

    def _flags(self, columns: Columns, column: str) -> NDArray[np.bool_]:
        """Sex (female) or dialysis as the scalar model reads each distinct value."""
        n = columns.rows
        listed = columns.values.get(column)
        if listed is None:
            return np.zeros(n, dtype=bool)
        codes = _codes(columns, column)
        first = dict(zip(codes.tolist(), listed, strict=True))  # one value per code
        meaning = [self._read(column, first[c]) for c in range(len(first))]
        unreadable = np.asarray([m is None for m in meaning], dtype=bool)
        flags = np.asarray([bool(m) for m in meaning], dtype=bool)
        if n == 0:
            return np.zeros(0, dtype=bool)
        self.valid &= ~unreadable[codes]
        return flags[codes]

    def _clearance(self, computable: NDArray[np.bool_], knowledge: KnowledgeBase) -> None:
        """Cockcroft-Gault with the package's default weight basis (adjusted in obesity)."""
        table = knowledge.renal
        rule = table.ideal_body_weight
        with np.errstate(invalid="ignore"):
            ibw_rows = computable & self.has_height & (self.height >= rule.min_height_cm)
        ibw = np.full(len(self.crcl), np.nan)
        base = np.where(self.female, rule.female_base_kg, rule.male_base_kg)
        raw_ibw = devine_kg(self.height[ibw_rows], base[ibw_rows], rule)
        # Python's round, as the scalar path rounds (numpy's differs in the last bit).
        ibw[ibw_rows] = [round(v, 10) for v in raw_ibw.tolist()]
        obesity = table.obesity
        with np.errstate(invalid="ignore"):
            self.adjusted = ibw_rows & (self.weight > obesity.adjusted_above_ibw_ratio * ibw)
        used = np.where(
            self.adjusted, ibw + obesity.adjustment_factor * (self.weight - ibw), self.weight
        )
        raw = cockcroft_gault_ml_min(
            self.age[computable],
            used[computable],
            self.scr[computable],
            np.where(self.female[computable], FEMALE_FACTOR, 1.0),
        )
        self.crcl[computable] = [round(v, 10) for v in raw.tolist()]

    def _bands(self, computable: NDArray[np.bool_], knowledge: KnowledgeBase) -> NDArray[np.int64]:
        """The band of each row from the knowledge base's band table, in its order."""
        table = knowledge.renal
        band = np.full(len(self.crcl), _BANDS.index(table.unknown.band), dtype=np.int64)
        band[self.dialysis] = _BANDS.index(table.dialysis.band)
        assigned = ~computable
        for rule in table.bands:
            lower = rule.lower_ml_min
            with np.errstate(invalid="ignore"):
                hit = ~assigned & (
                    (self.crcl > lower) | ((self.crcl == lower) if rule.lower_inclusive else False)
                )
            band[hit] = _BANDS.index(rule.band)
            assigned |= hit
        band[~assigned] = _BANDS.index(table.bands[-1].band)
        return band

    def _alerts(self, knowledge: KnowledgeBase) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The numeric parts of the renal alerts (never on dialysis), from the same table.

        Which patients a rule concerns (its ``when`` criteria) reads only what the key
        holds (conditions, hepatic state, HLA, age groups): the scalar engine decides that.
        """
        table = knowledge.renal
        off = self.valid & ~self.dialysis
        heavy_rule = table.obesity_no_height
        heavy = np.zeros(len(off), dtype=bool)
        if heavy_rule.above_kg is not None:
            with np.errstate(invalid="ignore"):
                heavy = (
                    off & ~self.has_height & self.has_weight & (self.weight > heavy_rule.above_kg)
                )
        low_rule = table.low_creatinine_older_adult
        low = np.zeros(len(off), dtype=bool)
        if low_rule.below_mg_dl is not None:
            with np.errstate(invalid="ignore"):
                low = off & self.has_scr & (self.scr < low_rule.below_mg_dl)
        return heavy, low

    @staticmethod
    def _read(column: str, value: Any) -> bool | None:
        """What the scalar model reads in a sex or dialysis value (``None``: refused)."""
        probe: dict[str, Any] = {"age": 40, "sex": "female"}
        if value is not None or column == "sex":  # a null dialysis flag is left out: False
            probe[column] = value
        try:
            patient = Patient.model_validate(probe)
        except (ClunealError, ValidationError):
            return None
        return patient.sex is Sex.FEMALE if column == "sex" else patient.on_dialysis


def _age_limits(value: object, found: set[float], depth: int = 0) -> None:
    """Every ``age_over_years`` of every criteria table in the knowledge base."""
    if depth > 8:
        return
    if isinstance(value, Criteria):
        if value.age_over_years is not None:
            found.add(value.age_over_years)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _age_limits(getattr(value, name), found, depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            _age_limits(item, found, depth + 1)
    elif isinstance(value, tuple | list | frozenset):
        for item in value:
            _age_limits(item, found, depth + 1)


def _age_groups(age: NDArray[np.float64], knowledge: KnowledgeBase) -> list[NDArray[np.bool_]]:
    """Every age group a rule of the knowledge base reads (the criteria's age facts)."""
    params = knowledge.parameters
    limits: set[float] = set()
    for table in (
        knowledge.safety_rules,
        knowledge.monographs,
        knowledge.pharmacotherapy,
        knowledge.renal,
        knowledge.titration_rules,
        knowledge.complementary,
    ):
        _age_limits(table, limits)
    with np.errstate(invalid="ignore"):
        groups = [age >= params.older_adult.age_years, age > params.age_over_75.age_above_years]
        groups.extend(age > limit for limit in sorted(limits))
    return groups


def _scales(renal: _Renal, drugs: Sequence[Drug], knowledge: KnowledgeBase) -> NDArray[np.bool_]:
    """Rows whose dose scales with the clearance itself (decided row by row)."""
    limits = [
        b.scale_below_ml_min
        for d in drugs
        for b in knowledge.monographs[d].renal_bands
        if b.scale_below_ml_min is not None
    ]
    if not limits:
        return np.zeros(len(renal.crcl), dtype=bool)
    with np.errstate(invalid="ignore"):
        return renal.crcl < max(limits)


def _group(codes: list[NDArray[np.int64]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(first row of each distinct key, key of each row)."""
    sizes = [int(c.max()) + 1 if len(c) else 1 for c in codes]
    if math.prod(sizes) < 2**62:
        combined = np.zeros(len(codes[0]), dtype=np.int64)
        for code, size in zip(codes, sizes, strict=True):
            combined = combined * size + code
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    else:  # pragma: no cover - needs more distinct values than a cohort has
        stacked = np.stack(codes, axis=1)
        _, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


@dataclass(frozen=True, slots=True)
class Part:
    """A part of the outputs decided by its own key (the pathway part of a care plan).

    Attributes:
        columns: The input columns the part reads (its key).
        names: The output columns it gives.
        decide: The scalar evaluation of one row's part: its outputs (``None`` when the
            row's inputs for this part are refused) and a code the other outputs also
            depend on (for care plans: the withholding rule that fired, if any).
    """

    columns: tuple[str, ...]
    names: frozenset[str]
    decide: Callable[[int], tuple[Row | None, Any]]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every row decided.

    Attributes:
        results: The result of each distinct key (``None``: its rows were decided row by row).
        key: The key of each row; -1 for a row decided row by row.
        singles: The results of the rows decided row by row, in row order.
        crcl: The vectorised clearance of each row (NaN when unknown or not computed).
        band: The vectorised band of each row (index into :class:`RenalBand`).
        part: The outputs of the part of each distinct part key, and the part key of each row.
        part_names: The output columns that come from the part.
    """

    results: list[Row | None]
    key: NDArray[np.int64]
    singles: list[Row]
    crcl: NDArray[np.float64]
    band: NDArray[np.int64]
    part: list[Row | None]
    part_key: NDArray[np.int64]
    part_names: frozenset[str]


def _decide_part(
    columns: Columns, part: Part
) -> tuple[list[Row | None], NDArray[np.int64], NDArray[np.int64]]:
    """(outputs per part key, part key of each row, code of each row for the other key)."""
    n = columns.rows
    codes = [_codes(columns, c) for c in part.columns if c in columns.values]
    if not codes or n == 0:
        codes = [np.zeros(n, dtype=np.int64)]
    first, inverse = _group(codes)
    outputs: list[Row | None] = []
    linked: dict[Any, int] = {}
    link = np.empty(len(first), dtype=np.int64)
    for position, index in enumerate(first.tolist()):
        out, code = part.decide(int(index))
        outputs.append(out)
        link[position] = linked.setdefault(code, len(linked))
    return outputs, inverse, link[inverse] if n else np.zeros(0, dtype=np.int64)


def evaluate(
    columns: Columns,
    key_columns: Sequence[str],
    drugs: Sequence[Drug],
    row_of: Callable[[int], Row],
    *,
    knowledge: KnowledgeBase,
    part: Part | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Decide every row: once per distinct key, or row by row (see the module docstring).

    Args:
        columns: The input columns.
        key_columns: The input columns the decisions read (their raw values are keyed).
        drugs: The drugs that may be scheduled (whose dose may scale with the clearance).
        row_of: The scalar evaluation of one row, by index.
        knowledge: The knowledge base.
        part: Outputs decided by a key of their own (the pathway of a care plan reads the
            findings only); the rest of the key then includes the part's code.
        progress: Called with (done, total) as keys and rows are decided.

    Returns:
        The evaluation.
    """
    n = columns.rows
    quantities = _Quantities(columns)
    renal = _Renal(columns, quantities, knowledge)
    vector = renal.valid & ~_scales(renal, drugs, knowledge)
    codes = [_codes(columns, c) for c in key_columns if c in columns.values]
    part_outputs: list[Row | None] = []
    part_key = np.zeros(n, dtype=np.int64)
    if part is not None:
        part_outputs, part_key, link = _decide_part(columns, part)
        refused = np.asarray([o is None for o in part_outputs], dtype=bool)
        if n:
            vector &= ~refused[part_key]
        codes.append(link)
    codes += [
        renal.band,
        *(flag.astype(np.int64) for flag in (renal.known, renal.has_weight, renal.has_scr)),
        *(flag.astype(np.int64) for flag in (renal.heavy, renal.low, renal.adjusted)),
        *(g.astype(np.int64) for g in _age_groups(renal.age, knowledge)),
    ]
    keyed = np.flatnonzero(vector)
    key = np.full(n, -1, dtype=np.int64)
    results: list[Row | None] = []
    done = 0
    if len(keyed):
        first, inverse = _group([c[keyed] for c in codes])
        for position in first.tolist():
            index = int(keyed[position])
            result = row_of(index)
            crcl = float(renal.crcl[index])
            agrees = (
                "error" not in result
                and result.get("crcl_ml_min") == (None if math.isnan(crcl) else crcl)
                and result.get("renal_band") == _BANDS[renal.band[index]].value
            )
            if agrees and part is not None:
                mine = part_outputs[part_key[index]] or {}
                agrees = all(result.get(name) == mine.get(name) for name in part.names)
            results.append(result if agrees else None)
            done += 1
            if progress is not None:
                progress(done, n)
        undecided = np.asarray([r is None for r in results], dtype=bool)
        row_key = np.asarray(inverse, dtype=np.int64)
        key[keyed] = np.where(undecided[row_key], -1, row_key)
    singles: list[Row] = []
    for index in np.flatnonzero(key < 0).tolist():
        singles.append(row_of(index))
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(min(done, n), n)
    if progress is not None:
        progress(n, n)
    names = frozenset() if part is None else part.names
    return Evaluation(results, key, singles, renal.crcl, renal.band, part_outputs, part_key, names)
