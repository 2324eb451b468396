"""Pathway simulation of a Dask cohort on a real two-process LocalCluster (issue 16, item 4).

The partitions are walked on the workers with the parameters drawn once on the
client; their counts are summed. For the same seed the result must equal the
in-memory result exactly, however the frame is partitioned, and a bad row is
named by its number in the whole frame. Small on purpose: 90 rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dask.dataframe as _dd
import numpy as np
import pandas as pd
import pytest

from cluneal import (
    ClunealError,
    InvalidArgumentError,
    KnowledgeBaseError,
    LocalProtocol,
    knowledge_base,
    simulate,
)

if TYPE_CHECKING:
    from cluneal import Simulation

# dask has no type hints.
dd: Any = _dd

# Four entry points of the pathway (block indicated; a block with temporary relief; a
# block whose duration is not known yet; findings without a tender point), and a row
# whose block was negative.
_ENTRIES = (
    {"block_relief_percent": None, "block_relief_days": None, "block_branches": None},
    {"block_relief_percent": 80.0, "block_relief_days": 14.0, "block_branches": "superior"},
    {"block_relief_percent": 70.0, "block_relief_days": None, "block_branches": "middle"},
    {"block_relief_percent": None, "block_relief_days": None, "block_branches": None},
    {"block_relief_percent": 20.0, "block_relief_days": 1.0, "block_branches": None},
)
ROWS = 90


def cohort_frame(rows: int = ROWS) -> pd.DataFrame:
    records = []
    for i in range(rows):
        entry = _ENTRIES[i % len(_ENTRIES)]
        records.append(
            {
                "patient_id": f"p{i}",
                "age": 30 + i % 50,
                "sex": "female" if i % 2 else "male",
                "low_back_pain": True,
                "deep_aching_poorly_localized": True,
                "tender_point_site": None if i % len(_ENTRIES) == 3 else "iliac_crest",
                "tender_point_reproduces_pain": None if i % len(_ENTRIES) == 3 else True,
                **entry,
            }
        )
    frame = pd.DataFrame(records)
    # Nullable booleans: Dask turns object columns into text (dataframe.convert-string).
    frame["tender_point_reproduces_pain"] = frame["tender_point_reproduces_pain"].astype("boolean")
    return frame


@pytest.fixture
def client(dask_client: Any) -> Any:
    """The session's two-worker cluster (tests/conftest.py)."""
    return dask_client


def _same(a: Simulation, b: Simulation) -> None:
    assert (a.patients, a.draws, a.months) == (b.patients, b.draws, b.months)
    assert a.statement == b.statement
    assert a.parameters == b.parameters
    for name in ("occupancy", "lasting_relief", "first_lasting_relief", "procedures"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def _refuse_compute(*args: object, **kwargs: object) -> None:
    raise AssertionError("the Dask frame was computed on the client")


def test_every_partitioning_gives_the_in_memory_result(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = cohort_frame()
    expected = simulate(frame, months=12, draws=40, seed=21)
    assert expected.patients == ROWS
    lazy = dd.from_pandas(frame, npartitions=1)
    # Partitions are walked where they are, never gathered into one frame first.
    monkeypatch.setattr(type(lazy), "compute", _refuse_compute)
    partitionings = [
        dd.from_pandas(frame, npartitions=1),
        dd.from_pandas(frame, npartitions=4),
        dd.from_pandas(frame, npartitions=7),
        # Uneven, with a one-row partition.
        dd.from_pandas(frame, npartitions=3).repartition(divisions=[0, 1, 50, ROWS - 1]),
    ]
    for parts in partitionings:
        _same(simulate(parts, months=12, draws=40, seed=21), expected)
    assert len(client.scheduler_info()["workers"]) == 2


def test_a_bad_row_is_named_in_the_whole_frame(client: Any) -> None:
    frame = cohort_frame()
    frame.loc[[37, 61, 62], "block_relief_percent"] = 180.0
    with pytest.raises(InvalidArgumentError) as in_memory:
        simulate(frame, draws=5, seed=1)
    with pytest.raises(InvalidArgumentError) as on_dask:
        simulate(dd.from_pandas(frame, npartitions=4), draws=5, seed=1)
    message = str(on_dask.value)
    assert message == str(in_memory.value)
    assert message.startswith("row 37:")
    assert "2 other row(s) are bad too: 61, 62" in message


def test_a_count_below_the_threshold_in_use_is_refused_before_any_walk(client: Any) -> None:
    # A local protocol's block threshold of 70% is above the counts' 50% (clinical.md A3).
    strict = knowledge_base().with_protocol(
        LocalProtocol(name="clinic", version="1", block_threshold_percent=70)
    )
    with pytest.raises(KnowledgeBaseError, match="threshold in use is 70%"):
        simulate(dd.from_pandas(cohort_frame(), npartitions=3), draws=5, knowledge=strict)


def test_a_missing_column_is_refused_before_anything_is_computed(client: Any) -> None:
    frame = cohort_frame().drop(columns=["low_back_pain"]).assign(low_back_pain="yes")
    with pytest.raises(ClunealError, match="column 'low_back_pain'"):
        simulate(dd.from_pandas(frame, npartitions=2), draws=5)
