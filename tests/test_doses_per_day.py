"""Doses a day: each drug's counts are monograph data; the model's bound is structural.

A step can say at most "four times daily" (:class:`~cluneal.knowledge.drugs.Timing`),
so a count above four is refused where it would enter: a monograph when it is read,
and a step built from JSON. The counts themselves (clinical.md Part 0.9: gabapentin
3 / 2 / 1 / 1, tramadol up to 4, ...) live in the monographs with their rule ids.
"""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from cluneal import KnowledgeBase, KnowledgeBaseError
from cluneal.knowledge import read_toml
from cluneal.knowledge.drugs import Timing
from cluneal.knowledge.monograph import MAX_DOSES_PER_DAY
from cluneal.titration import TitrationStep


def test_the_bound_is_the_most_a_timing_names() -> None:
    """Four doses a day is the most the timing vocabulary can write (clinical.md 0.4: tramadol)."""
    assert MAX_DOSES_PER_DAY == 4
    assert Timing.FOUR_TIMES_DAILY.value == "four times daily"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("dose_splits", 0, "max_doses"), 5),
        (("caps", 2, "max_doses_per_day"), 5),
    ],
)
def test_a_monograph_asking_for_more_is_refused(path: tuple[str | int, ...], value: int) -> None:
    """Tramadol asking for five doses a day is refused when its monograph is read."""
    raw = read_toml("monographs/tramadol.toml")
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(KnowledgeBaseError, match="tramadol"):
        KnowledgeBase.from_documents({"monographs/tramadol.toml": raw}, version="five")


def test_a_step_with_more_doses_is_refused() -> None:
    """A step from JSON with five doses a day is refused; the schema says at most four."""
    step = {
        "day": 0,
        "dose": "25 mg",
        "doses_per_day": 4,
        "timing": "four times daily",
        "composition": "1/2 x 50 mg scored tablet",
        "reason": "start",
    }
    assert TitrationStep.model_validate(step).doses_per_day == 4
    with pytest.raises(pydantic.ValidationError, match="doses_per_day"):
        TitrationStep.model_validate({**step, "doses_per_day": 5})
    schema = TitrationStep.model_json_schema()["properties"]["doses_per_day"]
    assert schema["maximum"] == MAX_DOSES_PER_DAY
