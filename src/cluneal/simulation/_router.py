"""The pathway as a finite graph of histories, each answered once by :func:`~cluneal.next_step`.

The routing is not restated here: the simulation asks :func:`next_step` once
per distinct (findings, history) it reaches, with a representative outcome of
each class (failed, temporary, lasting, duration not yet known), and caches
the answer; that is exact, because :func:`next_step` only sees those classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from cluneal.errors import KnowledgeBaseError
from cluneal.findings import BlockResult
from cluneal.pathway import (
    CareHistory,
    InterventionOutcome,
    Recommendation,
    next_step,
)
from cluneal.simulation._states import BLOCK, CLASSES, INTERVENTION, PROCEDURES
from cluneal.units import Kind, magnitude_in, ureg
from cluneal.vocabulary import Intervention, NerveBranch, OutcomeClass

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cluneal.findings import Findings
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import PathwayStep

__all__ = ["Router"]

Key = tuple[int, OutcomeClass | None, tuple[tuple[Intervention, OutcomeClass], ...]]
"""(root findings, block outcome class, (intervention, outcome class) of each procedure since)."""

# A routing that keeps producing new histories is a broken knowledge base, not a cohort.
_MAX_NODES: Final = 100_000


class Router:
    """The histories reachable from the roots: each node's step, procedure and children.

    Attributes:
        roots: The distinct findings of the cohort.
        keys: The history of each node.
        steps: The step :func:`next_step` recommends at each node.
        procedure: The procedure done at each node (index into ``PROCEDURES``; -1: none).
        pending_root: Whether a node is a root whose block's duration is not known yet.
        children: (node, outcome class column) -> the node after that outcome.
        lasting_days: The lasting-relief duration in use, in days.
        threshold: The block's response threshold in use, in percent.
    """

    def __init__(self, roots: Sequence[Findings], knowledge: KnowledgeBase | None) -> None:
        self.roots = roots
        self.knowledge = knowledge
        self.keys: list[Key] = []
        self.index: dict[Key, int] = {}
        self.steps: list[PathwayStep] = []
        self.procedure: list[int] = []
        self.pending_root: list[bool] = []
        self.children: dict[tuple[int, int], int] = {}
        first = next_step(roots[0], knowledge=knowledge)
        self.lasting_days = magnitude_in(first.lasting_relief, Kind.DURATION)
        self.threshold = first.block_threshold

    def _outcome(self, cls: OutcomeClass) -> tuple[float, Any]:
        # Representatives of each class: all next_step compares is the class.
        if cls is OutcomeClass.FAILED:
            return 0.0, None
        if cls is OutcomeClass.TEMPORARY:
            return 100.0, ureg.Quantity(self.lasting_days / 2, "day")
        if cls is OutcomeClass.LASTING:
            return 100.0, ureg.Quantity(self.lasting_days, "day")
        return 100.0, None

    def _ask(self, key: Key) -> Recommendation:
        root, block, outcomes = key
        findings = self.roots[root]
        if block is not None:
            branches = (
                findings.block.branches
                if findings.block is not None
                else next_step(findings, knowledge=self.knowledge).target_branches
            ) or frozenset(NerveBranch)
            relief, duration = self._outcome(block)
            findings = findings.model_copy(
                update={
                    "block": BlockResult(
                        branches=branches, relief_percent=relief, relief_duration=duration
                    )
                }
            )
        history = CareHistory(
            outcomes=[
                InterventionOutcome(
                    intervention=i,
                    relief_percent=self._outcome(c)[0],
                    relief_duration=self._outcome(c)[1],
                )
                for i, c in outcomes
            ]
        )
        return next_step(findings, history, knowledge=self.knowledge)

    def node(self, key: Key) -> int:
        """The node of a history, asking :func:`next_step` the first time it is reached."""
        found = self.index.get(key)
        if found is not None:
            return found
        if len(self.keys) >= _MAX_NODES:
            raise KnowledgeBaseError("pathway.toml", "the pathway does not end: too many histories")
        rec = self._ask(key)
        number = len(self.keys)
        self.keys.append(key)
        self.index[key] = number
        self.steps.append(rec.step)
        pending = (
            not key[2] and key[1] is None and rec.transition == "pathway.block_duration_unknown"
        )
        self.pending_root.append(pending)
        self.procedure.append(
            BLOCK if pending else (PROCEDURES.index(rec.step) if rec.step in PROCEDURES else -1)
        )
        return number

    def root(self, number: int) -> int:
        """The node where a patient with the ``number``-th distinct findings starts."""
        return self.node((number, None, ()))

    def expand(self) -> None:
        """Answer every history reachable from the nodes known so far."""
        frontier = list(range(len(self.keys)))
        while frontier:
            number = frontier.pop()
            procedure = self.procedure[number]
            if procedure < 0:
                continue
            root, block, outcomes = self.keys[number]
            for column, cls in enumerate(CLASSES):
                if procedure == BLOCK:
                    key: Key = (root, cls, outcomes)
                else:
                    step = PROCEDURES[procedure]
                    key = (root, block, (*outcomes, (INTERVENTION[step], cls)))
                known = len(self.keys)
                child = self.node(key)
                self.children[number, column] = child
                if child == known:
                    frontier.append(child)
