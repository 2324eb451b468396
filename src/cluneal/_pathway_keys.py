"""The plain keys of next_step's memo: every value of the findings and history it reads.

A memo never keys on the findings or history objects themselves (their
quantities are mutable Pint objects): it keys on the plain values below. A new
field that the assessment or the pathway reads must be added here, or two cases
that differ in it would share a recommendation (tests/test_pathway_memo.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cluneal.findings import Findings
    from cluneal.history import CareHistory
    from cluneal.units import Quantity

__all__ = ["findings_key", "history_key"]


def _number_key(value: float) -> float | str:
    # Equal numbers print alike (50 and 50.0 as "50"), except a zero's sign ("-0").
    return value if value else repr(value)


def _duration_key(duration: Quantity | None) -> tuple[float | str, object] | None:
    if duration is None:
        return None
    # The unit as pint holds it (a hashable container): ``.units`` builds a new Unit.
    return _number_key(float(duration.magnitude)), duration._units


def findings_key(found: Findings) -> tuple[Any, ...]:
    """Every value of the findings that the assessment and the pathway read, plainly."""
    pain, points, block, neuro = found.pain, found.tender_points, found.block, found.neuro
    return (
        None
        if pain is None
        else (pain.low_back_pain, pain.deep_aching_poorly_localized, pain.buttock, pain.leg),
        None if points is None else tuple((p.site, p.reproduces_pain, p.side) for p in points),
        None
        if block is None
        else (
            block.branches,
            _number_key(block.relief_percent),
            _duration_key(block.relief_duration),
        ),
        None
        if neuro is None
        else (
            neuro.motor_weakness,
            neuro.dermatomal_sensory_loss,
            neuro.straight_leg_raise,
            neuro.bladder_bowel_dysfunction,
        ),
    )


def history_key(past: CareHistory) -> tuple[Any, ...]:
    """Every value of the history that the pathway reads, plainly."""
    return tuple(
        (o.intervention, _number_key(o.relief_percent), _duration_key(o.relief_duration))
        for o in past.outcomes
    )
