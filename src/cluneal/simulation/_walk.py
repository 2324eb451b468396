"""The walk: every patient through the pathway month by month, in every draw, counted.

The arrays are patients x draws (numpy). How a month works: a pending relief is
settled first (the pain returned before the lasting-relief duration: temporary;
it reached that duration: lasting), then every patient whose step is a
procedure has it (one procedure per month). A relief counts as lasting relief
in a month when it has lasted at least the lasting-relief duration and has not
ended. The pathway recommends "maintain" after lasting relief even when the
pain later returns (a repeat procedure is only an alternative there), so such a
patient stays at "maintain". Initial evaluation and reassessment are not chance
events with a cited count: a patient there stays there.

A walk returns counts of patients (:class:`Tallies`), never shares: the counts
of any split of the cohort add up to the counts of the whole, exactly. The
patients are walked in chunks, so memory does not grow with the cohort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from cluneal.simulation._random import DURATION, INITIAL, RESPONSE, exponentials, uniforms
from cluneal.simulation._states import (
    BLOCK,
    CLASSES,
    DAYS_PER_MONTH,
    FAILED,
    LASTING,
    PENDING,
    PROCEDURES,
    STATES,
    TEMPORARY,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from cluneal.simulation._random import Parameters
    from cluneal.simulation._router import Router

__all__ = ["Tables", "Tallies", "walk"]

# Patients x draws walked at once: about a dozen arrays of this many cells.
_CHUNK_CELLS: Final = 1 << 20


@dataclass(frozen=True)
class Tables:
    """The router's graph as arrays (what a partition needs to walk its patients).

    Attributes:
        child: The node after each outcome class, ``nodes x classes`` (-1: none).
        state: The state shown at each node (index into ``STATES``).
        procedure: The procedure done at each node (index into ``PROCEDURES``; -1: none).
        pending: Whether a node is a root whose block's duration is not known yet.
        lasting_months: The lasting-relief duration in months.
    """

    child: NDArray[np.int64]
    state: NDArray[np.int64]
    procedure: NDArray[np.int64]
    pending: NDArray[np.bool_]
    lasting_months: float

    @classmethod
    def of(cls, router: Router) -> Tables:
        """The tables of an expanded router."""
        child = np.full((len(router.keys), len(CLASSES)), -1, dtype=np.int64)
        for (number, column), target in router.children.items():
            child[number, column] = target
        return cls(
            child=child,
            state=np.array([STATES.index(s) for s in router.steps], dtype=np.int64),
            procedure=np.array(
                [
                    p if s in PROCEDURES else -1
                    for p, s in zip(router.procedure, router.steps, strict=True)
                ],
                dtype=np.int64,
            ),
            pending=np.array(router.pending_root, dtype=bool),
            lasting_months=router.lasting_days / DAYS_PER_MONTH,
        )


@dataclass(frozen=True)
class Tallies:
    """Counts of patients per draw and month (``draws x (months + 1)``, then a last axis).

    Attributes:
        occupancy: Patients in each state.
        lasting_relief: Patients in lasting relief.
        reached: Patients who have had lasting relief by that month.
        procedures: Procedures done so far, of each kind.
    """

    occupancy: NDArray[np.int64]
    lasting_relief: NDArray[np.int64]
    reached: NDArray[np.int64]
    procedures: NDArray[np.int64]

    @classmethod
    def zeros(cls, draws: int, months: int) -> Tallies:
        """No patient counted yet."""
        return cls(
            occupancy=np.zeros((draws, months + 1, len(STATES)), dtype=np.int64),
            lasting_relief=np.zeros((draws, months + 1), dtype=np.int64),
            reached=np.zeros((draws, months + 1), dtype=np.int64),
            procedures=np.zeros((draws, months + 1, len(PROCEDURES)), dtype=np.int64),
        )

    def __add__(self, other: Tallies) -> Tallies:
        return Tallies(
            occupancy=self.occupancy + other.occupancy,
            lasting_relief=self.lasting_relief + other.lasting_relief,
            reached=self.reached + other.reached,
            procedures=self.procedures + other.procedures,
        )


def walk(
    tables: Tables,
    parameters: Parameters,
    start: NDArray[np.int64],
    *,
    first: int,
    months: int,
    entropy: int,
) -> Tallies:
    """Walk patients ``first`` to ``first + len(start)`` of the cohort and count them.

    Args:
        tables: The pathway's graph.
        parameters: The parameters of every draw.
        start: The node where each patient starts.
        first: The position of the first of these patients in the whole cohort
            (it chooses their random numbers).
        months: Months to walk.
        entropy: The run's root entropy.

    Returns:
        The counts of these patients.
    """
    draws = parameters.response.shape[1]
    tallies = Tallies.zeros(draws, months)
    chunk = max(1, _CHUNK_CELLS // draws)
    for begin in range(0, len(start), chunk):
        _walk_chunk(
            tables,
            parameters,
            start[begin : begin + chunk],
            first + begin,
            months,
            entropy,
            tallies,
        )
    return tallies


def _walk_chunk(  # noqa: PLR0917 - one vectorised walk, private
    tables: Tables,
    parameters: Parameters,
    start: NDArray[np.int64],
    first: int,
    months: int,
    entropy: int,
    tallies: Tallies,
) -> None:
    n = len(start)
    draws = parameters.response.shape[1]
    column = np.arange(draws)[None, :]
    n_states, n_procedures = len(STATES), len(PROCEDURES)
    lasting = tables.lasting_months
    node = np.repeat(start[:, None], draws, axis=1)
    parent = node.copy()
    pending = np.zeros((n, draws), dtype=bool)
    began = np.zeros((n, draws))
    ends = np.zeros((n, draws))
    # A pending block given before the simulation (duration not yet known) began at month 0.
    given = tables.pending[node]
    if given.any():
        duration = (
            exponentials(entropy, INITIAL, 0, first=first, shape=(n, draws))
            / parameters.hazard[BLOCK]
        )
        pending |= given
        ends = np.where(given, duration, ends)
    ever = np.zeros((n, draws), dtype=bool)
    done = np.zeros((draws, n_procedures), dtype=np.int64)
    for month in range(months + 1):
        elapsed = month - began
        length = ends - began
        temporary = pending & (length < lasting) & (elapsed >= length)
        lasted = pending & (length >= lasting) & (elapsed >= lasting)
        node = np.where(temporary, tables.child[parent, TEMPORARY], node)
        node = np.where(lasted, tables.child[parent, LASTING], node)
        pending &= ~(temporary | lasted)
        shown = tables.state[node]
        k = tables.procedure[node]
        act = k >= 0
        k = np.where(act, k, 0)
        chance = uniforms(entropy, RESPONSE, month, first=first, shape=(n, draws))
        responds = act & (chance < parameters.response[k, column])
        duration = exponentials(entropy, DURATION, month, first=first, shape=(n, draws))
        duration /= parameters.hazard[k, column]
        failed = act & ~responds
        parent = np.where(responds, node, parent)
        node = np.where(failed, tables.child[node, FAILED], node)
        node = np.where(responds, tables.child[node, PENDING], node)
        pending |= responds
        began = np.where(responds, float(month), began)
        ends = np.where(responds, month + duration, ends)
        done += (
            np.bincount((k * draws + column)[act], minlength=n_procedures * draws)
            .reshape(n_procedures, draws)
            .T
        )
        tallies.procedures[:, month, :] += done
        tallies.occupancy[:, month, :] += (
            np.bincount((shown * draws + column).ravel(), minlength=n_states * draws)
            .reshape(n_states, draws)
            .T
        )
        in_lasting = (month - began >= lasting) & (month < ends)
        ever |= in_lasting
        tallies.lasting_relief[:, month] += in_lasting.sum(axis=0)
        tallies.reached[:, month] += ever.sum(axis=0)
