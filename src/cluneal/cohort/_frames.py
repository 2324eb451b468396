"""Cohort frames, eagerly: pandas, pyarrow and polars through one narwhals code path.

The public functions are re-exported by :mod:`cluneal.cohort`, which also
sends Dask DataFrames to :mod:`cluneal.cohort._dask`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Final

from cluneal.errors import MissingExtraError

try:
    import numpy as np
    import pyarrow
except ImportError as _exc:  # pragma: no cover - the extra is installed in every test session
    raise MissingExtraError("cohort", "cluneal.cohort") from _exc

from cluneal.cohort._engine import Evaluation, Part, evaluate
from cluneal.cohort._input import (
    CARE_PLAN_OUTPUT,
    FINDINGS_COLUMNS,
    PATIENT_COLUMNS,
    SCHEDULE_OUTPUT,
    Columns,
    findings_input,
    narwhals,
    patient_input,
    read_columns,
)
from cluneal.cohort._rows import Row, care_plan_row, pathway_part, schedule_row
from cluneal.errors import ClunealError, show
from cluneal.knowledge.drugs import parse_drug
from cluneal.plan import care_plan
from cluneal.titration import titration_schedule
from cluneal.vocabulary import RenalBand

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.plan import CarePlan
    from cluneal.titration import TitrationSchedule
    from cluneal.vocabulary import Drug

__all__ = ["alerts", "care_plans", "explain", "knowledge_of", "schedules", "steps"]

_BANDS: Final = tuple(RenalBand)
_KEYS: Final = tuple(
    c
    for c in (*PATIENT_COLUMNS, *FINDINGS_COLUMNS)
    if c
    not in {"age", "weight_kg", "height_cm", "serum_creatinine_mg_dl", "serum_creatinine_umol_l"}
)


def knowledge_of(knowledge: KnowledgeBase | None) -> KnowledgeBase:
    """The knowledge base to use: the built-in one for ``None``; anything else is refused."""
    from cluneal.knowledge.base import KnowledgeBase, knowledge_base

    if knowledge is None:
        return knowledge_base()
    if not isinstance(knowledge, KnowledgeBase):
        raise ClunealError(f"knowledge: got {show(knowledge)}; expected a KnowledgeBase or None")
    return knowledge


def _is_dask(frame: object) -> bool:
    return type(frame).__module__.split(".")[0] in {"dask", "dask_expr"}


class _Bar:
    """A progress bar on stderr (only when asked)."""

    def __init__(self) -> None:
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else done * 100 // total
        if percent != self.shown:
            self.shown = percent
            filled = percent // 4
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rcohort [{'#' * filled}{'.' * (25 - filled)}] {percent:3d}%{end}")
            sys.stderr.flush()


_FLOATS: Final = {"crcl_ml_min", "max_daily_dose_mg", "final_daily_dose_mg", "first_daily_dose_mg"}


def _kind(name: str) -> Any:
    pa = pyarrow
    if name in _FLOATS:
        return pa.float64()
    if name == "steps":
        return pa.int64()
    if name == "contraindicated":
        return pa.bool_()
    if name == "alert_rule_ids":
        return pa.list_(pa.string())
    return pa.string()


def _output_table(evaluation: Evaluation, names: Sequence[str], n: int) -> Any:
    """The output columns as a pyarrow Table: each distinct value built once, then taken."""
    pa = pyarrow
    if n == 0:
        return pa.table({name: pa.array([], type=_kind(name)) for name in names})
    single_rows = np.flatnonzero(evaluation.key < 0)
    singles = evaluation.singles
    keyed = evaluation.key >= 0

    def take(per_key: list[Any], key: Any, name: str) -> Any:
        values = pa.array([*per_key, *(row.get(name) for row in singles)], type=_kind(name))
        index = np.where(keyed, key, 0)
        index[single_rows] = len(per_key) + np.arange(len(singles))
        return values.take(pa.array(index, pa.int64()))

    arrays = {}
    for name in names:
        if name == "crcl_ml_min":
            values = evaluation.crcl.copy()
            # The clearance of a row decided row by row comes from its scalar result.
            for index, row in zip(single_rows.tolist(), singles, strict=True):
                crcl = row.get("crcl_ml_min")
                values[index] = np.nan if crcl is None else crcl
            arrays[name] = pa.array(values, pa.float64(), mask=np.isnan(values))
        elif name == "renal_band":
            arrays[name] = take([b.value for b in _BANDS], evaluation.band, name)
        elif name in evaluation.part_names:
            part = [None if r is None else r.get(name) for r in evaluation.part]
            arrays[name] = take(part, evaluation.part_key, name)
        else:
            results = [None if r is None else r.get(name) for r in evaluation.results]
            arrays[name] = take(results, evaluation.key, name)
    return pa.table(arrays)


def _attach(df: Any, outputs: Any) -> Any:
    """The input frame with the output columns, as the input's own kind."""
    nw = narwhals()
    clash = [c for c in outputs.column_names if c in df.columns]
    if clash:
        raise ClunealError(
            f"frame: column(s) {', '.join(repr(c) for c in clash)} would be overwritten by the "
            "cohort's output; rename them"
        )
    new = nw.from_arrow(outputs, backend=nw.get_native_namespace(df))
    result = df.with_columns(*(new[c] for c in new.columns))
    native = result.to_native()
    if type(native).__module__.startswith("pandas"):
        # pandas holds each list as a numpy array: give back lists, as documented;
        # counts and flags in pandas' nullable types, so every partition has one dtype.
        native["alert_rule_ids"] = [
            None if v is None else list(v) for v in native["alert_rule_ids"].tolist()
        ]
        for name, dtype in (("steps", "Int64"), ("contraindicated", "boolean")):
            if name in outputs.column_names:
                native[name] = native[name].astype(dtype)
    return native


def _run(  # noqa: PLR0917 - private, one call per public function
    frame: Any,
    spec: dict[str, tuple[str, bool]],
    names: Sequence[str],
    drugs: Sequence[Drug],
    make_row: Callable[[Columns], Callable[[int], Row]],
    knowledge: KnowledgeBase,
    *,
    progress: bool,
) -> Any:
    df, columns = read_columns(frame, spec)
    evaluation = evaluate(
        columns,
        [k for k in _KEYS if k in spec],
        drugs,
        make_row(columns),
        knowledge=knowledge,
        progress=_Bar() if progress else None,
    )
    return _attach(df, _output_table(evaluation, names, columns.rows))


def _evaluate(
    frame: Any, drug: Drug | str | None, knowledge: KnowledgeBase | None
) -> tuple[Any, Evaluation]:
    """Read and decide an eager frame (for the long tables)."""
    kb = knowledge_of(knowledge)
    if _is_dask(frame):
        raise ClunealError(
            "frame: the long tables are built from an eager frame; compute the Dask "
            "DataFrame first (or map this call over its partitions)"
        )
    if drug is None:
        df, columns = read_columns(frame, {**PATIENT_COLUMNS, **FINDINGS_COLUMNS})
        return df, _care_plan_evaluation(columns, kb)
    chosen = parse_drug(drug)
    df, columns = read_columns(frame, PATIENT_COLUMNS)
    row = _guarded(lambda i: schedule_row(patient_input(columns, i), chosen, kb))
    keys = [k for k in _KEYS if k in PATIENT_COLUMNS]
    return df, evaluate(columns, keys, (chosen,), row, knowledge=kb)


def _long(
    df: Any, evaluation: Evaluation, field: str, names: Sequence[str], types: Sequence[Any]
) -> Any:
    """A long table: one line per item of each row's ``field``, the row's position first."""
    pa = pyarrow
    sources: list[Row | None] = [*evaluation.results, *evaluation.singles]
    source = evaluation.key.copy()
    source[evaluation.key < 0] = len(evaluation.results) + np.arange(len(evaluation.singles))
    items = [() if s is None else s.get(field, ()) for s in sources]
    lengths = np.fromiter((len(i) for i in items), dtype=np.int64, count=len(items))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1])) if items else lengths
    flat = [value for item in items for value in item]
    per_row = lengths[source] if len(source) else np.zeros(0, dtype=np.int64)
    total = int(per_row.sum())
    rows = np.repeat(np.arange(len(source)), per_row)
    within = np.arange(total) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    position = (np.repeat(starts[source], per_row) + within) if total else within
    arrays = {"row": pa.array(rows, pa.int64())}
    picked = [flat[p] for p in position.tolist()]
    for index, (name, kind) in enumerate(zip(names, types, strict=True)):
        arrays[name] = pa.array([p[index] for p in picked], type=kind)
    table = pa.table(arrays)
    nw = narwhals()
    return nw.from_arrow(table, backend=nw.get_native_namespace(df)).to_native()


def steps(
    frame: Any, drug: Drug | str | None = None, *, knowledge: KnowledgeBase | None = None
) -> Any:
    """Every titration step of every row, as a long (tidy) table.

    Args:
        frame: A pandas DataFrame, a pyarrow Table or a polars DataFrame (see :func:`schedules`).
        drug: The drug (the steps of :func:`schedules`); ``None`` for the steps of each
            care plan's first-line drug (:func:`care_plans`).
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The same kind of frame, one line per step: ``row`` (the 0-based position of the
        input row), ``day``, ``dose_mg``, ``doses_per_day``, ``daily_dose_mg``. Rows with
        an error or no schedule have no lines.

    Example:
        >>> import polars as pl
        >>> frame = pl.DataFrame({"age": [40, 15], "sex": ["male", "male"],
        ...                       "weight_kg": [70.0, 70.0]})
        >>> steps(frame, "naltrexone").rows()
        [(0, 0, 1.5, 1, 1.5), (0, 7, 3.0, 1, 3.0), (0, 14, 4.5, 1, 4.5)]
    """
    df, evaluation = _evaluate(frame, drug, knowledge)
    pa = pyarrow
    return _long(
        df,
        evaluation,
        "_steps",
        ("day", "dose_mg", "doses_per_day", "daily_dose_mg"),
        (pa.int64(), pa.float64(), pa.int64(), pa.float64()),
    )


def alerts(
    frame: Any, drug: Drug | str | None = None, *, knowledge: KnowledgeBase | None = None
) -> Any:
    """Every alert of every row, as a long (tidy) table.

    Args:
        frame: A pandas DataFrame, a pyarrow Table or a polars DataFrame.
        drug: The drug (the alerts of :func:`schedules`, including the refusals of a
            contraindicated drug); ``None`` for the alerts of each care plan.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The same kind of frame, one line per alert, most serious first within a row:
        ``row``, ``rule_id``, ``severity``, ``drug`` (the drugs the alert concerns,
        comma separated).

    Example:
        >>> import polars as pl
        >>> frame = pl.DataFrame({"age": [50], "sex": ["male"], "weight_kg": [70.0],
        ...                       "medications": ["phenelzine"]})
        >>> alerts(frame, "tramadol").select("rule_id", "severity").rows()[0]
        ('contraindication.tramadol.maoi', 'contraindicated')
    """
    df, evaluation = _evaluate(frame, drug, knowledge)
    pa = pyarrow
    return _long(
        df,
        evaluation,
        "_alerts",
        ("rule_id", "severity", "drug"),
        (pa.string(), pa.string(), pa.string()),
    )


def explain(
    frame: Any,
    row: int,
    drug: Drug | str | None = None,
    *,
    knowledge: KnowledgeBase | None = None,
) -> TitrationSchedule | CarePlan:
    """The full scalar result of one row: its schedule (with ``drug``) or its care plan.

    Everything the compact columns leave out (steps, adjustments and their reasons,
    alerts with their text and citations, the rationale) is here, computed by the scalar
    functions from the row's values exactly as the cohort read them.

    Args:
        frame: A pandas DataFrame, a pyarrow Table or a polars DataFrame.
        row: The 0-based position of the row.
        drug: The drug whose schedule to return; ``None`` for the care plan.
        knowledge: The knowledge base; ``None`` for the built-in one.

    Returns:
        The :class:`~cluneal.titration.TitrationSchedule` or :class:`~cluneal.plan.CarePlan`.

    Raises:
        ClunealError: ``row`` is not a position of the frame; or what the scalar call
            raises for this row (the row's ``error``), e.g. ``ContraindicatedError``.
        ValidationError: The row is not a valid patient or findings.

    Example:
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"age": [78], "sex": ["female"], "weight_kg": [60.0],
        ...                       "serum_creatinine_mg_dl": [1.3]})
        >>> s = explain(frame, 0, "gabapentin")
        >>> s.renal.band.value, s.max_daily_dose_mg
        ('moderate', 1400.0)
    """
    kb = knowledge_of(knowledge)
    spec = PATIENT_COLUMNS if drug is not None else {**PATIENT_COLUMNS, **FINDINGS_COLUMNS}
    _, columns = read_columns(frame, spec)
    position: object = row  # checked: a caller may pass anything
    if (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 0 <= position < columns.rows
    ):
        raise ClunealError(
            f"row: got {show(row)}; expected a row position from 0 to {columns.rows - 1}"
        )
    if drug is not None:
        return titration_schedule(drug, patient_input(columns, row), knowledge=kb)
    return care_plan(patient_input(columns, row), findings_input(columns, row), knowledge=kb)


def _guarded(row: Callable[[int], Row]) -> Callable[[int], Row]:
    def call(index: int) -> Row:
        try:
            return row(index)
        except ClunealError as exc:  # the row's inputs conflict (both creatinine columns)
            return {"error": str(exc)}

    return call


def schedules(
    frame: Any,
    drug: Drug | str,
    *,
    knowledge: KnowledgeBase | None = None,
    progress: bool = False,
) -> Any:
    """Schedules of one drug for an eager frame (see :func:`cluneal.cohort.schedules`)."""
    chosen = parse_drug(drug)
    kb = knowledge_of(knowledge)

    def make_row(columns: Columns) -> Callable[[int], Row]:
        return _guarded(lambda i: schedule_row(patient_input(columns, i), chosen, kb))

    return _run(frame, PATIENT_COLUMNS, SCHEDULE_OUTPUT, (chosen,), make_row, kb, progress=progress)


def care_plans(
    frame: Any, *, knowledge: KnowledgeBase | None = None, progress: bool = False
) -> Any:
    """Care plans for an eager frame (see :func:`cluneal.cohort.care_plans`)."""
    kb = knowledge_of(knowledge)
    df, columns = read_columns(frame, {**PATIENT_COLUMNS, **FINDINGS_COLUMNS})
    evaluation = _care_plan_evaluation(columns, kb, _Bar() if progress else None)
    return _attach(df, _output_table(evaluation, CARE_PLAN_OUTPUT, columns.rows))


def _care_plan_evaluation(
    columns: Columns, kb: KnowledgeBase, progress: Callable[[int, int], None] | None = None
) -> Evaluation:
    """Care plans: the pathway keyed by the findings, the medication by the patient."""
    part = Part(
        columns=tuple(FINDINGS_COLUMNS),
        names=frozenset({"classification", "next_step"}),
        decide=lambda i: pathway_part(findings_input(columns, i), kb),
    )
    return evaluate(
        columns,
        [k for k in _KEYS if k in PATIENT_COLUMNS],
        tuple(kb.pharmacotherapy.selection.first_line),
        _guarded(
            lambda i: care_plan_row(patient_input(columns, i), findings_input(columns, i), kb)
        ),
        knowledge=kb,
        part=part,
        progress=progress,
    )
