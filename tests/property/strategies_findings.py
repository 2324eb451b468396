"""Reusable Hypothesis strategies for diagnostic findings.

Every part of :class:`~cluneal.diagnosis.Findings` may be ``None`` (not examined),
so the strategies cover unknown, negative and positive findings alike.
"""

from __future__ import annotations

from hypothesis import strategies as st

from cluneal.diagnosis import (
    BlockResult,
    Findings,
    Guidance,
    NerveBranch,
    NeuroExam,
    PainPattern,
    Side,
    TenderPoint,
    TenderPointSite,
)
from cluneal.units import Q_, Quantity

__all__ = [
    "block_results",
    "block_thresholds",
    "durations",
    "findings",
    "neuro_exams",
    "pain_patterns",
    "tender_points",
]

_DURATION_UNITS = ("minute", "hour", "day", "week", "month")


def _quantity(value: int, unit: str) -> Quantity:
    return Q_(value, unit)


def durations() -> st.SearchStrategy[Quantity]:
    """Plausible relief durations, from zero to about two years, in various units."""
    return st.builds(
        _quantity,
        st.integers(min_value=0, max_value=24),
        st.sampled_from(_DURATION_UNITS),
    )


def pain_patterns() -> st.SearchStrategy[PainPattern]:
    """Any pain pattern."""
    return st.builds(
        PainPattern,
        low_back_pain=st.booleans(),
        deep_aching_poorly_localized=st.booleans(),
        buttock=st.booleans(),
        leg=st.booleans(),
    )


def tender_points() -> st.SearchStrategy[TenderPoint]:
    """Any tender point, at any site, with or without a side."""
    return st.builds(
        TenderPoint,
        site=st.sampled_from(TenderPointSite),
        reproduces_pain=st.booleans(),
        side=st.none() | st.sampled_from(Side),
    )


def block_results() -> st.SearchStrategy[BlockResult]:
    """Any diagnostic block: one or both branches, relief 0-100 %, duration maybe known."""
    return st.builds(
        BlockResult,
        branches=st.frozensets(st.sampled_from(NerveBranch), min_size=1),
        relief_percent=st.floats(min_value=0, max_value=100, allow_nan=False),
        relief_duration=st.none() | durations(),
        guidance=st.none() | st.sampled_from(Guidance),
    )


def neuro_exams() -> st.SearchStrategy[NeuroExam]:
    """Any neurological examination, each item present, absent or not examined."""
    flag = st.none() | st.booleans()
    return st.builds(
        NeuroExam,
        motor_weakness=flag,
        dermatomal_sensory_loss=flag,
        straight_leg_raise=flag,
        bladder_bowel_dysfunction=flag,
    )


def findings() -> st.SearchStrategy[Findings]:
    """Any findings, from nothing known to everything examined."""
    return st.builds(
        Findings,
        pain=st.none() | pain_patterns(),
        tender_points=st.none() | st.lists(tender_points(), max_size=4).map(tuple),
        block=st.none() | block_results(),
        neuro=st.none() | neuro_exams(),
    )


def block_thresholds() -> st.SearchStrategy[float]:
    """Valid block thresholds: greater than 0 and at most 100 %."""
    return st.floats(min_value=0, max_value=100, exclude_min=True, allow_nan=False)
