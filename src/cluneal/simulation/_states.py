"""The pathway as the simulation indexes it: its states, its procedures, their outcome classes.

Every array of the walk is indexed by these tuples; nothing here is a clinical
number (the routing is :func:`~cluneal.next_step`'s, the counts the knowledge
base's).
"""

from __future__ import annotations

from typing import Final

from cluneal.units import Kind, magnitude_in, ureg
from cluneal.vocabulary import Intervention, OutcomeClass, PathwayStep

__all__ = [
    "BLOCK",
    "CLASSES",
    "DAYS_PER_MONTH",
    "FAILED",
    "INTERVENTION",
    "LASTING",
    "PENDING",
    "PROCEDURES",
    "STATES",
    "TEMPORARY",
]

STATES: Final = tuple(PathwayStep)
"""Every pathway state, in the order of the occupancy arrays."""

PROCEDURES: Final = (
    PathwayStep.DIAGNOSTIC_BLOCK,
    PathwayStep.RADIOFREQUENCY_ABLATION,
    PathwayStep.PERIPHERAL_NERVE_STIMULATION,
    PathwayStep.SURGICAL_DECOMPRESSION,
)
"""The steps at which something is done to the patient, in the order of their arrays."""
BLOCK: Final = 0

INTERVENTION: Final = {
    PathwayStep.RADIOFREQUENCY_ABLATION: Intervention.RADIOFREQUENCY_ABLATION,
    PathwayStep.PERIPHERAL_NERVE_STIMULATION: Intervention.PERIPHERAL_NERVE_STIMULATION,
    PathwayStep.SURGICAL_DECOMPRESSION: Intervention.SURGICAL_DECOMPRESSION,
}
"""The intervention a care history records for each procedure after the block."""

CLASSES: Final = (
    OutcomeClass.FAILED,
    OutcomeClass.TEMPORARY,
    OutcomeClass.LASTING,
    OutcomeClass.DURATION_UNKNOWN,
)
"""Outcome classes, in the order of the columns of the table of children."""
FAILED, TEMPORARY, LASTING, PENDING = range(len(CLASSES))

DAYS_PER_MONTH: Final = magnitude_in(ureg.Quantity(1, "month"), Kind.DURATION)
