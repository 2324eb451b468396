"""A Dask cohort, simulated partition by partition on whichever workers hold it.

Two passes over the partitions, nothing computed on the client but small results:

1. each partition reads its rows (the same parsing as an eager frame) and
   returns its length, its distinct findings and its bad rows. The client
   refuses any bad row by its number in the whole frame, prepares the walk
   from the distinct findings of the whole cohort (the pathway's graph, the
   counts, every draw's parameters, drawn once from the seed) exactly as for
   a cohort in one piece, and works out where each partition starts;
2. each partition walks its patients with those shared parameters, its
   patients' random numbers chosen by their position in the whole frame
   (``_random``), and returns its counts per draw and
   month; the counts are summed in a tree on the workers.

Counts of patients add up exactly, so the result equals that of the same
patients in one piece, for the same seed, however the frame is partitioned.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from cluneal.findings import Findings
from cluneal.simulation._patients import check_columns, read_rows, refuse_bad_rows
from cluneal.simulation._plan import prepare
from cluneal.simulation._walk import walk

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.simulation._plan import Prepared
    from cluneal.simulation._random import Parameters
    from cluneal.simulation._walk import Tables, Tallies

__all__ = ["simulate_dask"]

# Partition counts summed together on a worker at each level of the tree.
_FAN_IN: Final = 8


@dataclass(frozen=True)
class _Scan:
    """What pass 1 learns of one partition."""

    rows: int
    findings: tuple[str, ...]
    bad: tuple[tuple[int, str], ...]


def _scan(part: Any) -> _Scan:
    found, bad = read_rows(part)
    distinct = dict.fromkeys(f.model_dump_json() for f in found if f is not None)
    return _Scan(rows=len(found), findings=tuple(distinct), bad=tuple(bad))


def _walk_partition(
    part: Any,
    first: int,
    shared: tuple[dict[str, int], Tables, Parameters],
    months: int,
    entropy: int,
) -> Tallies:
    start_of, tables, parameters = shared
    found, _ = read_rows(part)
    start = np.fromiter(
        (start_of[f.model_dump_json()] for f in found if f is not None),
        dtype=np.int64,
        count=len(found),
    )
    return walk(tables, parameters, start, first=first, months=months, entropy=entropy)


def _sum(*tallies: Tallies) -> Tallies:
    total = tallies[0]
    for more in tallies[1:]:
        total += more
    return total


def simulate_dask(
    frame: Any,
    *,
    months: int,
    draws: int,
    entropy: int,
    knowledge: KnowledgeBase | None,
    kb: KnowledgeBase,
) -> tuple[Prepared, Tallies, int]:
    """Walk a Dask cohort partition by partition.

    Returns:
        The preparation, the counts of the whole cohort and its number of patients.

    Raises:
        ClunealError: A column missing or of the wrong type (before anything is computed).
        InvalidArgumentError: A bad row (numbered in the whole frame), or no row.
        KnowledgeBaseError: As for a cohort in one piece.
    """
    import dask as _dask

    dask: Any = _dask  # untyped
    check_columns(frame._meta)
    parts = frame.to_delayed()
    scans: tuple[_Scan, ...] = dask.compute(*(dask.delayed(_scan)(p) for p in parts))
    firsts = [0, *itertools.accumulate(s.rows for s in scans)]
    rows = firsts[-1]
    refuse_bad_rows(
        [
            (first + row, reason)
            for s, first in zip(scans, firsts[:-1], strict=True)
            for row, reason in s.bad
        ],
        rows,
    )
    # The distinct findings of the whole cohort, keyed by the JSON each partition sees.
    texts = list(dict.fromkeys(text for s in scans for text in s.findings))
    roots = [Findings.model_validate_json(text) for text in texts]
    prepared = prepare(roots, draws=draws, entropy=entropy, knowledge=knowledge, kb=kb)
    start_of = {text: prepared.start[n] for n, text in enumerate(texts)}
    shared = dask.delayed((start_of, prepared.tables, prepared.parameters), pure=True)
    level = [
        dask.delayed(_walk_partition)(part, first, shared, months, entropy)
        for part, first in zip(parts, firsts[:-1], strict=True)
    ]
    while len(level) > 1:
        level = [dask.delayed(_sum)(*level[i : i + _FAN_IN]) for i in range(0, len(level), _FAN_IN)]
    (tallies,) = dask.compute(level[0])
    return prepared, tallies, rows
