"""What every walk of one simulation shares, prepared once from the cohort's distinct findings.

The pathway's graph from those findings, the cited counts of every procedure
it reaches (refused when missing), and every draw's parameters. The same
preparation serves a cohort in one piece and one split into Dask partitions;
the walks' counts are then turned into the :class:`Simulation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cluneal.simulation._counts import counts_for
from cluneal.simulation._random import draw_parameters
from cluneal.simulation._result import Simulation
from cluneal.simulation._router import Router
from cluneal.simulation._walk import Tables

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.findings import Findings
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.simulation._counts import Counts
    from cluneal.simulation._random import Parameters
    from cluneal.simulation._walk import Tallies

__all__ = ["Prepared", "prepare"]


@dataclass(frozen=True)
class Prepared:
    """A simulation ready to walk.

    Attributes:
        start: The node where a patient with each distinct findings starts.
        tables: The pathway's graph as arrays.
        parameters: Every draw's parameters.
        counts: The counts used.
        lasting_relief_weeks: The lasting-relief duration in use.
    """

    start: tuple[int, ...]
    tables: Tables
    parameters: Parameters
    counts: Counts
    lasting_relief_weeks: float

    def result(
        self,
        tallies: Tallies,
        *,
        patients: int,
        seed: int | None,
        knowledge: KnowledgeBase,
    ) -> Simulation:
        """The simulation of ``patients`` patients from the counts of their walks."""
        draws, rows = tallies.lasting_relief.shape
        return Simulation(
            months=rows - 1,
            draws=draws,
            patients=patients,
            seed=seed,
            statement=self.counts.statement,
            lasting_relief_weeks=self.lasting_relief_weeks,
            parameters=self.counts.rule_ids,
            knowledge_base_version=knowledge.version,
            occupancy=tallies.occupancy / patients,
            lasting_relief=tallies.lasting_relief / patients,
            first_lasting_relief=tallies.reached / patients,
            procedures=tallies.procedures / patients,
        )


def prepare(
    roots: Sequence[Findings],
    *,
    draws: int,
    entropy: int,
    knowledge: KnowledgeBase | None,
    kb: KnowledgeBase,
) -> Prepared:
    """Prepare the walks of a cohort whose distinct findings are ``roots``.

    Args:
        roots: The distinct findings, in order of first appearance.
        draws: Parameter draws.
        entropy: The run's root entropy.
        knowledge: The knowledge base as given (``None``: the built-in one).
        kb: The knowledge base in use.

    Raises:
        KnowledgeBaseError: A reached procedure has no cited count, its count is of a
            lower response threshold than the one in use, or the pathway does not end.
    """
    router = Router(roots, knowledge)
    start = tuple(router.root(r) for r in range(len(roots)))
    router.expand()
    counts = counts_for(router, kb)
    return Prepared(
        start=start,
        tables=Tables.of(router),
        parameters=draw_parameters(counts, draws, entropy),
        counts=counts,
        lasting_relief_weeks=router.lasting_days / 7.0,
    )
