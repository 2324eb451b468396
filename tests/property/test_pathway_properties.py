"""Every combination of findings and history gives a valid next step (clinical.md 0.8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from cluneal.pathway import CareHistory, PathwayStep, Recommendation, next_step
from cluneal.pathway_diagram import pathway_mermaid
from cluneal.plan import CarePlan, care_plan
from tests.property.strategies_findings import block_thresholds, findings
from tests.property.strategies_history import care_histories
from tests.property.strategies_patients import patients

if TYPE_CHECKING:
    from cluneal.diagnosis import Findings
    from cluneal.patient import Patient


@settings(max_examples=300, deadline=None)
@given(
    f=findings(),
    h=care_histories(),
    threshold=block_thresholds(),
    lasting_weeks=st.integers(min_value=1, max_value=52),
)
def test_every_history_gives_a_valid_step(
    f: object, h: CareHistory, threshold: float, lasting_weeks: int
) -> None:
    """Any findings and history, any order and outcomes: a valid step, never an exception."""
    rec = next_step(f, h, block_threshold=threshold, lasting_relief=f"{lasting_weeks} weeks")  # type: ignore[arg-type]
    assert isinstance(rec.step, PathwayStep)
    assert rec.rationale
    assert rec.transition in rec.rules_fired
    assert rec.step not in rec.alternatives
    assert Recommendation.model_validate_json(rec.model_dump_json()) == rec
    assert f"class {rec.step.value} current" in pathway_mermaid(rec)


@settings(max_examples=200, deadline=None)
@given(f=findings(), h=care_histories())
def test_failed_rungs_are_never_proposed_again(f: object, h: CareHistory) -> None:
    """clinical.md 0.8: a failed treatment is not proposed again."""
    rec = next_step(f, h)  # type: ignore[arg-type]
    failed_rungs = {
        o.intervention.value
        for o in h.outcomes
        if o.intervention.value != "nerve_block"
        and (
            o.relief_percent < 50
            or (o.relief_duration is not None and o.relief_duration.m_as("day") < 84)
        )
    }
    assert rec.step.value not in failed_rungs
    assert not {a.value for a in rec.alternatives} & failed_rungs


@settings(max_examples=60, deadline=None)
@given(p=patients(), f=findings(), h=care_histories(max_size=3))
def test_every_care_plan_round_trips_through_json(p: Patient, f: Findings, h: CareHistory) -> None:
    """Issue 5: any patient, findings and history give a plan that survives a JSON round trip."""
    plan = care_plan(p, f, h)
    assert CarePlan.model_validate_json(plan.model_dump_json()) == plan
    assert len(plan.medications) <= 1
    for schedule in plan.medications:
        assert all(s.daily_dose_mg <= schedule.max_daily_dose_mg + 1e-9 for s in schedule.steps)
    assert [a.severity.rank for a in plan.alerts] == sorted(
        (a.severity.rank for a in plan.alerts), reverse=True
    )
