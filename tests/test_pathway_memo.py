"""next_step's decision is memoised on plain values read from the findings and history.

With the built-in knowledge base the decision is looked up by a key of plain
values; with an explicit knowledge base it is always computed. Both must give
the same recommendation, whatever the findings, history and thresholds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from cluneal import Q_, knowledge_base
from cluneal.diagnosis import BlockResult, Findings, PainPattern, TenderPoint
from cluneal.pathway import CareHistory, next_step
from tests.property.strategies_findings import block_thresholds, findings
from tests.property.strategies_history import care_histories

if TYPE_CHECKING:
    from cluneal.units import Quantity


@settings(max_examples=120, deadline=None)
@given(
    f=findings(),
    h=care_histories(),
    threshold=block_thresholds(),
    lasting_weeks=st.integers(min_value=1, max_value=52),
)
def test_the_memoised_decision_equals_the_computed_one(
    f: Findings, h: CareHistory, threshold: float, lasting_weeks: int
) -> None:
    """Each call twice through the memo (a miss, then a hit) and once computed: one answer."""
    lasting = f"{lasting_weeks} weeks"
    computed = next_step(
        f, h, block_threshold=threshold, lasting_relief=lasting, knowledge=knowledge_base()
    )
    for _ in range(2):
        memoised = next_step(f, h, block_threshold=threshold, lasting_relief=lasting)
        assert memoised.model_dump_json() == computed.model_dump_json()
        assert memoised == computed


def _block(relief: float, duration: Quantity | None) -> Findings:
    return Findings(
        pain=PainPattern(low_back_pain=True, deep_aching_poorly_localized=True),
        tender_points=(TenderPoint(site="iliac_crest", reproduces_pain=True),),
        block=BlockResult(branches={"superior"}, relief_percent=relief, relief_duration=duration),
    )


def test_values_that_are_equal_but_read_differently_are_not_confused() -> None:
    """The same duration in other units, and zero with its sign, keep their own words."""
    in_weeks = next_step(_block(80, Q_(2, "week")))
    in_days = next_step(_block(80, Q_(14, "day")))
    assert "lasting 2 weeks" in in_weeks.assessment.criteria[2].reason
    assert "lasting 14 days" in in_days.assessment.criteria[2].reason
    zero, negative_zero = next_step(_block(0, None)), next_step(_block(-0.0, None))
    kb = knowledge_base()
    assert zero == next_step(_block(0, None), knowledge=kb)
    assert negative_zero == next_step(_block(-0.0, None), knowledge=kb)


def test_a_shared_decision_gives_each_result_its_own_quantity() -> None:
    """Changing one result's quantity in place (pint allows it) leaves the next result alone."""
    first = next_step(Findings())
    first.lasting_relief.ito("day")
    expected = next_step(Findings(), knowledge=knowledge_base()).lasting_relief
    again = next_step(Findings()).lasting_relief
    assert again == expected
    assert again.units == expected.units
