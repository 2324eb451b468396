"""The care history: the treatments given after the diagnostic block, and how each went.

Data with no rules in it, like the findings: :func:`cluneal.pathway.next_step`
reads the history to choose the next step, and the cohort, FHIR and simulation
modules build and read it.

Example:
    >>> from cluneal.history import CareHistory
    >>> h = CareHistory.model_validate({"outcomes": [
    ...     {"intervention": "nerve_block", "relief_percent": 80, "relief_duration": "4 weeks"},
    ... ]})
    >>> h.outcomes[0].intervention.value
    'nerve_block'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cluneal._base import FrozenModel
from cluneal.units import Duration
from cluneal.vocabulary import Intervention, ReliefPercent

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cluneal.units import QuantityInput

__all__ = ["CareHistory", "InterventionOutcome"]


class InterventionOutcome(FrozenModel):
    """The result of one treatment given after the diagnostic block.

    Attributes:
        intervention: What was done (a repeat block is ``nerve_block``).
        relief_percent: Pain relief, 0-100 %.
        relief_duration: How long relief lasted; ``None`` when not known yet.

    Example:
        >>> InterventionOutcome(
        ...     intervention="radiofrequency_ablation",
        ...     relief_percent=90,
        ...     relief_duration="20 weeks",
        ... ).intervention
        <Intervention.RADIOFREQUENCY_ABLATION: 'radiofrequency_ablation'>
    """

    intervention: Intervention
    relief_percent: ReliefPercent
    relief_duration: Duration | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            *,
            intervention: Intervention | str,
            relief_percent: float,
            relief_duration: QuantityInput | None = None,
        ) -> None:
            """Validate an outcome (see the class docstring)."""


class CareHistory(FrozenModel):
    """The treatments given after the diagnostic block, in the order they happened.

    The diagnostic block itself lives in :attr:`cluneal.diagnosis.Findings.block`.

    Attributes:
        outcomes: The outcomes, oldest first.

    Example:
        >>> CareHistory().outcomes
        ()
    """

    outcomes: tuple[InterventionOutcome, ...] = ()

    if TYPE_CHECKING:

        def __init__(
            self, *, outcomes: Iterable[InterventionOutcome | Mapping[str, object]] = ()
        ) -> None:
            """Validate a history (see the class docstring)."""
