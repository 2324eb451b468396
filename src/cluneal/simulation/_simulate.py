"""``simulate``: where a cohort will be on the pathway, month by month, with 95% intervals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal._checks import knowledge_argument
from cluneal.errors import InvalidArgumentError, MissingExtraError
from cluneal.simulation._patients import Distinct, findings_of, is_dask

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.simulation._result import Simulation

__all__ = ["simulate"]

_MAX_MONTHS: Final = 600
_MAX_DRAWS: Final = 1_000_000
# draws x (months + 1): the result holds about 30 numbers each (8 bytes a number).
_MAX_DRAW_MONTHS: Final = 10_000_000


def _numpy() -> Any:
    try:
        import numpy as np
    except ImportError as exc:
        raise MissingExtraError("dataframe", "cluneal.simulate()") from exc
    return np


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArgumentError(name, value, f"a whole number from {low} to {high}")
    return value


def simulate(
    patients: object,
    *,
    months: int = 12,
    draws: int = 1000,
    seed: int | None = None,
    knowledge: KnowledgeBase | None = None,
) -> Simulation:
    """Simulate where a cohort will be on the pathway, month by month, with 95% intervals.

    Args:
        patients: A cohort frame with the columns of :func:`cluneal.cohort.care_plans`
            (pandas, pyarrow, polars, or Dask: simulated partition by partition), or a
            sequence of ``(Patient, Findings)`` pairs (or their JSON mappings).
        months: Months to simulate (1-600); the result has rows 0 to ``months``.
        draws: Parameter draws (1 to 1,000,000): each draws every count's
            posterior once, then every patient's outcomes.
        seed: Seed of the random generator; the same seed gives the same result,
            however the cohort is partitioned.
        knowledge: The knowledge base (its pathway, thresholds, local protocol and
            ``outcomes`` counts); ``None`` for the built-in one.

    Returns:
        The :class:`Simulation`.

    Raises:
        InvalidArgumentError: Bad patients (a bad row is named by its number), months,
            draws, seed or knowledge, or more than 10,000,000 draws x (months + 1) (memory).
        KnowledgeBaseError: A procedure the cohort reaches has no cited count, or
            its count is of a lower response threshold than the one in use.
        MissingExtraError: numpy is not installed.

    Example:
        >>> from cluneal import Findings, Patient, simulate
        >>> sim = simulate([(Patient(age=50, sex="male"), Findings())], draws=10, seed=3)
        >>> sim.occupancy.shape
        (10, 13, 7)
    """
    from cluneal.knowledge.base import knowledge_base

    np = _numpy()
    knowledge = knowledge_argument(knowledge)
    months = _whole(months, "months", 1, _MAX_MONTHS)
    draws = _whole(draws, "draws", 1, _MAX_DRAWS)
    if seed is not None:
        _whole(seed, "seed", 0, 2**63 - 1)
    if draws * (months + 1) > _MAX_DRAW_MONTHS:
        raise InvalidArgumentError(
            "draws",
            draws,
            f"at most {_MAX_DRAW_MONTHS // (months + 1):,} for {months} months"
            f" (draws x (months + 1) at most {_MAX_DRAW_MONTHS:,}, for memory)",
        )
    kb = knowledge_base() if knowledge is None else knowledge
    from cluneal.simulation._random import entropy_of

    entropy = entropy_of(seed)
    if is_dask(patients):
        from cluneal.simulation._dask import simulate_dask

        prepared, tallies, count = simulate_dask(
            patients, months=months, draws=draws, entropy=entropy, knowledge=knowledge, kb=kb
        )
        return prepared.result(tallies, patients=count, seed=seed, knowledge=kb)
    from cluneal.simulation._plan import prepare
    from cluneal.simulation._walk import walk

    findings = findings_of(patients)
    distinct = Distinct()
    root = np.asarray(distinct.add_all(findings), dtype=np.int64)
    prepared = prepare(distinct.findings, draws=draws, entropy=entropy, knowledge=knowledge, kb=kb)
    start = np.asarray(prepared.start, dtype=np.int64)[root]
    tallies = walk(
        prepared.tables, prepared.parameters, start, first=0, months=months, entropy=entropy
    )
    return prepared.result(tallies, patients=len(findings), seed=seed, knowledge=kb)
