"""Reusable Hypothesis strategies for care histories (any order, any outcomes)."""

from __future__ import annotations

from hypothesis import strategies as st

from cluneal.interventions import Intervention
from cluneal.pathway import CareHistory, InterventionOutcome
from tests.property.strategies_findings import durations

__all__ = ["care_histories", "intervention_outcomes"]


def intervention_outcomes() -> st.SearchStrategy[InterventionOutcome]:
    """Any outcome of any intervention, with or without a known duration."""
    return st.builds(
        InterventionOutcome,
        intervention=st.sampled_from(list(Intervention)),
        relief_percent=st.floats(min_value=0, max_value=100, allow_nan=False),
        relief_duration=st.none() | durations(),
    )


def care_histories(max_size: int = 6) -> st.SearchStrategy[CareHistory]:
    """Histories of up to ``max_size`` outcomes, in any order."""
    return st.builds(
        CareHistory, outcomes=st.lists(intervention_outcomes(), max_size=max_size).map(tuple)
    )
