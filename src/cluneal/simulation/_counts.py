"""The cited counts a simulation uses: refused when missing, never invented; and what they say.

Each procedure the cohort can reach needs a response count and a relapse count
from a cited series in the knowledge base (``outcomes.toml``); every output
names those series and says they are case-series figures, not trial results.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cluneal.errors import KnowledgeBaseError
from cluneal.plan import SAFETY_STATEMENT
from cluneal.simulation._states import PROCEDURES

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.knowledge.outcomes import RelapseCount, ResponseCount
    from cluneal.simulation._router import Router

__all__ = ["Counts", "counts_for"]

_CASE_SERIES: Final = "These are case-series figures, not trial results"


@dataclass(frozen=True)
class Counts:
    """The counts of each procedure, in the order of ``PROCEDURES`` (``None``: not reached).

    Attributes:
        response: The response count of each procedure.
        relapse: The relapse count of each procedure.
    """

    response: tuple[ResponseCount | None, ...]
    relapse: tuple[RelapseCount | None, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The rule ids of the counts used."""
        return tuple(c.rule_id for c in (*self.response, *self.relapse) if c is not None)

    @property
    def statement(self) -> str:
        """Case-series figures, not trial results, with the series named; the safety statement."""
        series = dict.fromkeys(
            f"{c.series} [{c.citation}]" for c in (*self.response, *self.relapse) if c is not None
        )
        named = "; ".join(series) if series else "no procedure was reached"
        return f"{_CASE_SERIES}: {named}. {SAFETY_STATEMENT}"


def counts_for(router: Router, knowledge: KnowledgeBase) -> Counts:
    """The counts of every procedure the cohort can reach; refuse any without one.

    Raises:
        KnowledgeBaseError: A reached procedure has no cited count, or its response
            count is of a lower relief threshold than the one in use.
    """
    used = {p for p in router.procedure if p >= 0}
    response: list[ResponseCount | None] = []
    relapse: list[RelapseCount | None] = []
    for number, step in enumerate(PROCEDURES):
        if number not in used:
            response.append(None)
            relapse.append(None)
            continue
        r = knowledge.outcomes.response_for(step.value)
        q = knowledge.outcomes.relapse_for(step.value)
        for kind, count in (("response", r), ("relapse", q)):
            if count is None:
                raise KnowledgeBaseError(
                    "outcomes.toml",
                    f"no cited {kind} count for {step.value}: the simulation does not invent"
                    " one (add a count from a cited series to the knowledge base)",
                )
        assert r is not None  # noqa: S101 - refused just above
        if r.threshold_percent < router.threshold:
            raise KnowledgeBaseError(
                "outcomes.toml",
                f"{r.rule_id}: the count is of relief of {r.threshold_percent:g}% or more, but the"
                f" response threshold in use is {router.threshold:g}%: give a count at that"
                " threshold",
            )
        response.append(r)
        relapse.append(q)
    return Counts(response=tuple(response), relapse=tuple(relapse))
