"""The age groups a cohort is keyed by: every age a rule of the knowledge base reads.

Two rows on either side of an age limit of any criteria table (a safety
rule's, a monograph's, the older-adult and over-75 parameters) are never given
the same key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from cluneal.knowledge.criteria import Criteria

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from cluneal.knowledge.base import KnowledgeBase

__all__ = ["age_groups"]


def _age_limits(value: object, found: set[float], depth: int = 0) -> None:
    """Every ``age_over_years`` of every criteria table in the knowledge base."""
    if depth > 8:
        return
    if isinstance(value, Criteria):
        if value.age_over_years is not None:
            found.add(value.age_over_years)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _age_limits(getattr(value, name), found, depth + 1)
    elif isinstance(value, Mapping):
        for item in value.values():
            _age_limits(item, found, depth + 1)
    elif isinstance(value, tuple | list | frozenset):
        for item in value:
            _age_limits(item, found, depth + 1)


def age_groups(age: NDArray[np.float64], knowledge: KnowledgeBase) -> list[NDArray[np.bool_]]:
    """Every age group a rule of the knowledge base reads (the criteria's age facts)."""
    params = knowledge.parameters
    limits: set[float] = set()
    for table in (
        knowledge.safety_rules,
        knowledge.monographs,
        knowledge.pharmacotherapy,
        knowledge.renal,
        knowledge.titration_rules,
        knowledge.complementary,
    ):
        _age_limits(table, limits)
    with np.errstate(invalid="ignore"):
        groups = [age >= params.older_adult.age_years, age > params.age_over_75.age_above_years]
        groups.extend(age > limit for limit in sorted(limits))
    return groups
