"""Dask: a Dask DataFrame in, a lazy Dask DataFrame out, partition by partition.

Each partition is a pandas DataFrame that goes through the same code as an
eager frame, on whichever worker holds it. ``meta`` is the output of that code
on the input's own empty ``_meta``, so column names and dtypes are known
before anything is computed, and a wrong column type is refused at once.

The knowledge base travels to the workers by pickling (Dask uses cloudpickle);
the built-in one is not sent at all: each worker loads its own. Nothing here
knows where the workers are: a ``distributed.Client("tcp://scheduler:8786")``
created beforehand makes the same call run on a cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cluneal.cohort import _frames
from cluneal.knowledge.base import knowledge_base

if TYPE_CHECKING:
    from cluneal.knowledge.base import KnowledgeBase
    from cluneal.vocabulary import Drug

__all__ = ["map_cohort"]


def _partition(part: Any, which: str, drug: Drug | None, knowledge: KnowledgeBase | None) -> Any:
    if drug is not None and which == "schedules":
        return _frames.schedules(part, drug, knowledge=knowledge)
    return _frames.care_plans(part, knowledge=knowledge)


def map_cohort(frame: Any, which: str, drug: Drug | None, knowledge: KnowledgeBase) -> Any:
    """Map :func:`cluneal.cohort.schedules` or ``care_plans`` over a Dask DataFrame, lazily.

    Args:
        frame: A Dask DataFrame (pandas partitions).
        which: ``"schedules"`` or ``"care_plans"``.
        drug: The drug, for schedules.
        knowledge: The knowledge base.

    Returns:
        A lazy Dask DataFrame with the output columns.
    """
    sent = None if knowledge is knowledge_base() else knowledge
    meta = _partition(frame._meta, which, drug, sent)
    return frame.map_partitions(_partition, which, drug, sent, meta=meta)
