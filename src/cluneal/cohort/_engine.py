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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cluneal.cohort._ages import age_groups
from cluneal.cohort._keys import codes_of, group
from cluneal.cohort._quantities import Quantities
from cluneal.cohort._renal import BANDS, RenalColumns

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import NDArray

    from cluneal.cohort._input import Columns
    from cluneal.cohort._rows import Row
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import Drug

__all__ = ["Evaluation", "Part", "evaluate"]


def _scales(
    renal: RenalColumns, drugs: Sequence[Drug], knowledge: KnowledgeBase
) -> NDArray[np.bool_]:
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
    codes = [codes_of(columns, c) for c in part.columns if c in columns.values]
    if not codes or n == 0:
        codes = [np.zeros(n, dtype=np.int64)]
    first, inverse = group(codes)
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
    quantities = Quantities(columns)
    renal = RenalColumns(columns, quantities, knowledge)
    vector = renal.valid & ~_scales(renal, drugs, knowledge)
    codes = [codes_of(columns, c) for c in key_columns if c in columns.values]
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
        *(g.astype(np.int64) for g in age_groups(renal.age, knowledge)),
    ]
    keyed = np.flatnonzero(vector)
    key = np.full(n, -1, dtype=np.int64)
    results: list[Row | None] = []
    done = 0
    if len(keyed):
        first, inverse = group([c[keyed] for c in codes])
        for position in first.tolist():
            index = int(keyed[position])
            result = row_of(index)
            crcl = float(renal.crcl[index])
            agrees = (
                "error" not in result
                and result.get("crcl_ml_min") == (None if math.isnan(crcl) else crcl)
                and result.get("renal_band") == BANDS[renal.band[index]].value
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
