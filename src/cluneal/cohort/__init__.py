"""Cohorts: care plans and schedules for a whole table of patients (extra ``cluneal[cohort]``).

A pandas DataFrame, a pyarrow Table or a polars DataFrame goes in (one
narwhals code path) and the same kind comes out, one row per input row, in
order, with every other column carried through. A Dask DataFrame gives a lazy
Dask DataFrame (extra ``cluneal[dask]``). Every value equals what the scalar
functions return for that row; a bad row gets the scalar message in
``error`` and never stops the batch. How rows are decided (vectorised renal
function, one scalar call per distinct decision key, and which rows go row by
row) is on the Cohorts page of the docs.

Example:
    >>> import pandas as pd
    >>> from cluneal import cohort
    >>> frame = pd.DataFrame({
    ...     "patient_id": ["a", "b"], "age": [40, 15], "sex": ["female", "male"],
    ...     "weight_kg": [70.0, 60.0], "serum_creatinine_mg_dl": [0.9, 0.8]})
    >>> out = cohort.schedules(frame, "gabapentin")
    >>> out["renal_band"][0], float(out["final_daily_dose_mg"][0]), out["error"].notna().tolist()
    ('normal', 1800.0, [False, True])
    >>> out["error"][1].splitlines()[0]
    '1 validation error for Patient'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluneal.errors import MissingExtraError

try:
    import narwhals
    import numpy
    import pyarrow
except ImportError as _exc:  # pragma: no cover - the extra is installed in every test session
    raise MissingExtraError("cohort", "cluneal.cohort") from _exc

from cluneal.cohort import _frames
from cluneal.cohort._frames import alerts, explain, knowledge_of, steps
from cluneal.knowledge.drugs import parse_drug

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import Drug

__all__ = ["alerts", "care_plans", "explain", "schedules", "steps"]

del narwhals, numpy, pyarrow


def _is_dask(frame: object) -> bool:
    return type(frame).__module__.split(".")[0] in {"dask", "dask_expr"}


def schedules(
    frame: Any,
    drug: Drug | str,
    *,
    knowledge: KnowledgeBase | None = None,
    progress: bool = False,
) -> Any:
    """Titration schedules of one drug for every row of a cohort frame.

    Args:
        frame: A pandas DataFrame, a pyarrow Table, a polars DataFrame or a Dask
            DataFrame with the patient columns (API.md "Cohorts"): ``age``,
            ``sex``, ``weight_kg`` and optionally ``height_cm``,
            ``serum_creatinine_mg_dl`` or ``serum_creatinine_umol_l``,
            ``on_dialysis``, ``hepatic_impairment``, ``conditions``,
            ``medications``, ``hla_b_1502``.
        drug: The drug to schedule.
        knowledge: The knowledge base; ``None`` for the built-in one.
        progress: Show a progress bar on stderr.

    Returns:
        The same kind of frame, one row per input row, in order, with
        ``error``, ``crcl_ml_min``, ``renal_band``, ``max_daily_dose_mg``,
        ``final_daily_dose_mg``, ``first_daily_dose_mg``, ``steps``,
        ``contraindicated`` and ``alert_rule_ids`` added.

    Raises:
        ClunealError: Not a frame, a required column missing, a column of the
            wrong type, an unknown drug, or a column that the output would overwrite.

    Example:
        >>> import polars as pl
        >>> frame = pl.DataFrame({"age": [80], "sex": ["male"], "weight_kg": [60.0],
        ...                       "serum_creatinine_mg_dl": [2.0]})
        >>> schedules(frame, "pregabalin").select("renal_band", "max_daily_dose_mg").row(0)
        ('severe', 150.0)
    """
    chosen = parse_drug(drug)
    kb = knowledge_of(knowledge)
    if _is_dask(frame):
        from cluneal.cohort._dask import map_cohort

        return map_cohort(frame, "schedules", chosen, kb)
    return _frames.schedules(frame, chosen, knowledge=kb, progress=progress)


def care_plans(
    frame: Any, *, knowledge: KnowledgeBase | None = None, progress: bool = False
) -> Any:
    """Care plans for every row of a cohort frame.

    Args:
        frame: A pandas DataFrame, a pyarrow Table, a polars DataFrame or a Dask
            DataFrame with the patient columns of :func:`schedules` and the
            findings: ``low_back_pain``, ``deep_aching_poorly_localized``,
            ``tender_point_site`` (``iliac_crest``, ``caudal_to_psis``,
            ``other``, ``none``), ``tender_point_reproduces_pain``,
            ``block_relief_percent``, ``block_relief_days`` and, cluneal's
            addition, ``block_branches`` (default: both branches). Nulls mean unknown.
        knowledge: The knowledge base; ``None`` for the built-in one.
        progress: Show a progress bar on stderr.

    Returns:
        The same kind of frame with ``error``, ``crcl_ml_min``, ``renal_band``,
        ``classification``, ``next_step``, ``drug``, ``max_daily_dose_mg``,
        ``final_daily_dose_mg`` and ``alert_rule_ids`` added.

    Raises:
        ClunealError: Not a frame, a required column missing, a column of the
            wrong type, or a column that the output would overwrite.

    Example:
        >>> import pyarrow as pa
        >>> table = pa.table({"age": [45], "sex": ["female"], "weight_kg": [70.0],
        ...                   "serum_creatinine_mg_dl": [0.8], "low_back_pain": [True],
        ...                   "deep_aching_poorly_localized": [True],
        ...                   "tender_point_site": ["iliac_crest"],
        ...                   "tender_point_reproduces_pain": [True]})
        >>> care_plans(table).select(["next_step", "drug"]).to_pylist()
        [{'next_step': 'diagnostic_block', 'drug': 'nortriptyline'}]
    """
    kb = knowledge_of(knowledge)
    if _is_dask(frame):
        from cluneal.cohort._dask import map_cohort

        return map_cohort(frame, "care_plans", None, kb)
    return _frames.care_plans(frame, knowledge=kb, progress=progress)
